import Foundation
import Testing
import TwofoldWebPush

@Suite("Base64URL")
struct Base64URLTests {
    @Test("encodes RFC 4648 §10's vectors in the URL alphabet without padding", arguments: [
        ("", ""), ("f", "Zg"), ("fo", "Zm8"), ("foo", "Zm9v"), ("foob", "Zm9vYg"), ("fooba", "Zm9vYmE"), ("foobar", "Zm9vYmFy"),
    ])
    func vectors(plain: String, encoded: String) throws {
        #expect(Base64URL.encode(Array(plain.utf8)) == encoded)
        #expect(try Base64URL.decode(encoded) == Array(plain.utf8))
    }

    @Test("uses - and _ where standard Base64 has + and /, and agrees with Foundation on random bytes")
    func urlAlphabet() throws {
        #expect(Base64URL.encode([0xFB, 0xFF, 0xBF]) == "-_-_")
        for length in 0..<100 {
            let data = (0..<length).map { _ in UInt8.random(in: 0...255) }
            let foundation = Data(data).base64EncodedString()
                .replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_").replacingOccurrences(of: "=", with: "")
            #expect(Base64URL.encode(data) == foundation)
            #expect(try Base64URL.decode(foundation) == data)
        }
    }

    @Test("accepts correct padding")
    func padding() throws {
        #expect(try Base64URL.decode("Zg==") == Array("f".utf8))
        #expect(try Base64URL.decode("Zm8=") == Array("fo".utf8))
    }

    @Test("refuses characters outside the URL alphabet, wrong padding, impossible lengths and stray bits", arguments: [
        "Zm9v+", "Zm9v/w", "Zm 9v", "Zm9v\n", "Zé", "Z=g", "Zg=", "Zg===", "Zm8==", "Z", "Zm9vY", "Zh", "Zm9",
    ])
    func refuses(text: String) {
        let error = webPushError { () throws(WebPushError) in try Base64URL.decode(text) }
        #expect(error?.code == .invalidBase64URL, "\(text)")
    }
}
