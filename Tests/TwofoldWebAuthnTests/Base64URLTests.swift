import Foundation
import Testing
import TwofoldTesting
import TwofoldWebAuthn

@Suite("Base64URL")
struct Base64URLTests {
    @Test("encodes RFC 4648 §10's vectors in the URL alphabet without padding", arguments: [
        ("", ""), ("f", "Zg"), ("fo", "Zm8"), ("foo", "Zm9v"), ("foob", "Zm9vYg"), ("fooba", "Zm9vYmE"), ("foobar", "Zm9vYmFy"),
    ])
    func vectors(plain: String, encoded: String) {
        #expect(Base64URL.encode(Array(plain.utf8)) == encoded)
        #expect(Base64URL.decode(encoded) == Array(plain.utf8))
    }

    @Test("agrees with Foundation's Base64 (URL alphabet, no padding) on random bytes")
    func agreesWithFoundation() {
        var generator = SeededGenerator(seed: 64)
        #expect(Base64URL.encode([0xFB, 0xFF, 0xBF]) == "-_-_")
        for length in 0..<200 {
            let data = (0..<length).map { _ in UInt8.random(in: 0...255, using: &generator) }
            let foundation = Data(data).base64EncodedString()
                .replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_").replacingOccurrences(of: "=", with: "")
            #expect(Base64URL.encode(data) == foundation)
            #expect(Base64URL.decode(foundation) == data)
        }
    }

    @Test("refuses padding, the standard alphabet, whitespace, impossible lengths and stray bits", arguments: [
        "Zg==", "Zm8=", "Zm9v+", "Zm9v/w", "Zm 9v", "Zm9v\n", "Zé", "Z", "Zm9vY", "Zh", "Zm9", "=",
    ])
    func refuses(text: String) {
        #expect(Base64URL.decode(text) == nil, "\(text)")
    }
}
