import Testing
import TwofoldTokenFiles

@Suite("HardwareToken")
struct HardwareTokenTests {
    @Test("its description and debug description show everything but the secret")
    func descriptionRedactsSecret() {
        let token = HardwareToken(serial: "HW-1", secret: Array("12345678901234567890".utf8), kind: .hotp(counter: 7),
                                  digits: 6, algorithm: .sha1, manufacturer: "Acme")
        for text in [token.description, token.debugDescription, "\(token)", String(reflecting: token), "\([token])"] {
            #expect(text.contains("HW-1"))
            #expect(text.contains("20 bytes redacted"))
            #expect(!text.contains("49, 50"), "the secret's bytes leaked: \(text)")
            #expect(!text.contains("1234567890"))
            #expect(!text.contains("GEZDGNBV"))
            #expect(!text.contains("31323334"))
        }
    }

    @Test("an error's description is its code and message")
    func errorDescription() {
        #expect(TokenFileError(.malformed, "x").description == "malformed: x")
    }
}
