import Foundation
import Testing
import TwofoldCore

@Suite("User ids")
struct UserIDTests {
    @Test("a user id is stored in NFC: composed and decomposed spellings are the same bytes")
    func normalised() throws {
        let composed = try UserID("ren\u{E9}e@example.com")
        let decomposed = try UserID("rene\u{301}e@example.com")
        #expect(Array(composed.rawValue.utf8) == Array(decomposed.rawValue.utf8))
        #expect(Array(decomposed.rawValue.utf8) == Array("ren\u{E9}e@example.com".utf8))
    }

    @Test("the two spellings reach the same user through the services")
    func sameUser() async throws {
        let h = try await ServicesHarness.make()
        let (totp, _) = try await h.enrollTOTP(try UserID("rene\u{301}e"))
        #expect(try await h.services.verification.verify(h.app, try UserID("ren\u{E9}e"), code: totp.code(at: h.now), actor: "test").isAllowed)
        #expect(try await h.services.administration.users(h.app).map { Array($0.rawValue.utf8) } == [Array("ren\u{E9}e".utf8)])
    }

    @Test("the length limit counts the normalised id")
    func lengthAfterNormalisation() throws {
        // 128 decomposed `é`s are 256 scalars before normalisation, 128 after.
        #expect(try UserID(String(repeating: "e\u{301}", count: 128)).rawValue.unicodeScalars.count == 128)
        #expect(throws: TwofoldError.self) { try UserID(String(repeating: "e\u{301}", count: 129)) }
    }
}
