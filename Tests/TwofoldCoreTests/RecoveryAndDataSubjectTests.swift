import Foundation
import Testing
import TwofoldCore
import TwofoldOTP
import TwofoldTesting

@Suite("Recovery codes, export and erasure")
struct RecoveryAndDataSubjectTests {
    let alice = try! UserID("alice")

    @Test("ten readable codes of at least 50 bits, single use, a new set replaces the old")
    func recoveryCodes() async throws {
        let h = try await ServicesHarness.make()
        // Recovery codes are for a user with an active factor.
        let (_, factorID) = try await h.enrollTOTP(alice)
        let codes = try await h.services.verification.generateRecoveryCodes(h.app, alice, actor: "test")
        #expect(codes.count == 10)
        #expect(Set(codes).count == 10)
        let alphabet = Set("23456789abcdefghjkmnpqrstuvwxyz")
        for code in codes {
            let groups = code.split(separator: "-")
            #expect(groups.count == 3 && groups.allSatisfy { $0.count == 4 })
            #expect(code.filter { $0 != "-" }.allSatisfy(alphabet.contains))
        }
        // 12 symbols from 31: log2(31^12) ≈ 59.4 bits.
        #expect(12 * log2(Double(alphabet.count)) >= 50)

        // A user left with only recovery codes (the factor deleted) can verify with them; typed in
        // upper case without hyphens too.
        try await h.services.enrollment.deleteFactor(h.app, alice, factorID, actor: "test")
        let typed = codes[3].uppercased().replacingOccurrences(of: "-", with: "")
        #expect(try await h.services.verification.verify(h.app, alice, code: typed, actor: "test") == .allow(.recoveryCode(remaining: 9)))
        #expect(try await h.services.verification.verify(h.app, alice, code: codes[3], actor: "test") == .deny(.invalidCode, retryAfter: nil))
        _ = try await h.enrollTOTP(alice)
        let fresh = try await h.services.verification.generateRecoveryCodes(h.app, alice, actor: "test")
        #expect(try await h.services.verification.verify(h.app, alice, code: codes[4], actor: "test") == .deny(.invalidCode, retryAfter: nil))
        #expect(try await h.services.verification.verify(h.app, alice, code: fresh[0], actor: "test") == .allow(.recoveryCode(remaining: 9)))
    }

    @Test("factors are checked first, then recovery codes; with neither the answer is no_factors")
    func order() async throws {
        let h = try await ServicesHarness.make()
        #expect(try await h.services.verification.verify(h.app, alice, code: "123456", actor: "test") == .deny(.noFactors, retryAfter: nil))
        let (totp, id) = try await h.enrollTOTP(alice)
        let codes = try await h.services.verification.generateRecoveryCodes(h.app, alice, actor: "test")
        #expect(try await h.services.verification.verify(h.app, alice, code: totp.code(at: h.now), actor: "test") == .allow(.factor(id, .totp)))
        #expect(try await h.services.verification.verify(h.app, alice, code: codes[0], actor: "test") == .allow(.recoveryCode(remaining: 9)))
        try await h.services.administration.reset(h.app, alice, actor: "admin")
        #expect(try await h.services.verification.verify(h.app, alice, code: codes[1], actor: "test") == .deny(.noFactors, retryAfter: nil))
    }

    @Test("export holds everything about the user and no secret; erase leaves only pseudonymous audit events")
    func exportAndErase() async throws {
        let h = try await ServicesHarness.make()
        let application = try await h.services.applications.application(named: "default")
        #expect(try await h.services.administration.export(application, alice, actor: "test") == nil)
        // Enrolled here rather than through the harness, to keep the plaintext secret.
        let enrollment = try await h.services.enrollment.enroll(h.app, alice, EnrollmentRequest(type: .totp), actor: "test")
        let totp = try enrollment.uri.makeTOTP()
        h.clock.advance(by: 30)
        _ = try await h.services.enrollment.activate(h.app, alice, enrollment.factor.id, code: try totp.code(at: h.now), actor: "test")
        h.clock.advance(by: 30)
        let id = enrollment.factor.id
        let secret = enrollment.secret.bytes
        #expect(enrollment.uri.secret.bytes == secret)
        let codes = try await h.services.verification.generateRecoveryCodes(h.app, alice, actor: "test")
        _ = try await h.services.verification.verify(h.app, alice, code: "000000", actor: "test")
        let bob = try UserID("bob")
        _ = try await h.enrollTOTP(bob)

        let export = try #require(try await h.services.administration.export(application, alice, actor: "admin"))
        #expect(export.userID == alice.rawValue)
        #expect(export.factors.map(\.id) == [id])
        #expect(export.recoveryCodes.total == 10 && export.recoveryCodes.unused == 10)
        #expect(export.auditEvents.contains { $0.action == "verification" && $0.outcome == "deny" })
        // The export as the API and the CLI print it, and as any encoder would: slashes unescaped,
        // so that a base64 form is found as written.
        let plain = JSONEncoder()
        plain.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        let sealed = try #require(try await h.store.factors(applicationID: h.app, userID: alice).first?.sealedSecret)
        for encoded in [Array(try TwofoldJSON.encoder.encode(UserExportJSON(export))), Array(try plain.encode(export))] {
            let json = String(decoding: encoded, as: UTF8.self)
            // The plaintext secret, in Base32 as the user's authenticator holds it and as raw bytes in any encoding.
            #expect(SecretForms.found(secret, in: encoded) == [], "the export holds the plaintext TOTP secret")
            #expect(SecretForms.found(sealed, in: encoded) == [], "the export holds the sealed TOTP secret")
            for code in codes {
                #expect(!json.contains(code) && !json.contains(code.replacingOccurrences(of: "-", with: "")), "the export holds the code \(code)")
            }
        }

        try await h.services.administration.erase(h.app, alice, actor: "admin")
        #expect(try await h.services.administration.export(application, alice, actor: "admin") == nil)
        #expect(try await h.services.enrollment.factors(h.app, alice).isEmpty)
        #expect(try await h.store.wrappedDataKey(applicationID: h.app, userID: alice) == nil)
        #expect(try await h.services.administration.users(h.app) == [bob])
        let events = try await h.services.audit.auditEvents(AuditQuery(limit: 1_000))
        #expect(!events.contains { $0.userID == alice.rawValue })
        #expect(events.contains { $0.action == "user.erased" && $0.userID == nil && $0.userReference != nil })
        #expect(try await h.services.audit.verifyAudit().isIntact)
        // Erasing a user with nothing stored succeeds, and says there was nothing to erase.
        #expect(try await h.services.administration.erase(h.app, try UserID("nobody"), actor: "admin") == false)
    }

    @Test("applications are separate: the same user id in two applications is two users")
    func tenancy() async throws {
        let h = try await ServicesHarness.make()
        let (totp, _) = try await h.enrollTOTP(alice)
        let other = try await h.services.applications.createApplication(named: "billing", actor: "test")
        #expect(try await h.services.enrollment.factors(other.id, alice).isEmpty)
        #expect(try await h.services.verification.verify(other.id, alice, code: totp.code(at: h.now), actor: "test") == .deny(.noFactors, retryAfter: nil))
        await #expect { try await h.services.applications.createApplication(named: "billing", actor: "test") } throws: { isCode($0, .conflict) }
        await #expect { try await h.services.applications.createApplication(named: "Bad Name", actor: "test") } throws: { isCode($0, .invalidRequest) }
    }
}
