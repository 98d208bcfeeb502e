import Foundation
import Testing
import TwofoldCore
import TwofoldOTP
import TwofoldTesting

/// The token pool through the services on the in-memory store: import, assign, verify with the
/// token's codes, hand back, erase.
@Suite struct HardwareTokenServiceTests {
    /// RFC 4226's test secret as HOTP (counter 0) and TOTP tokens, and one HOTP token further on.
    static let csv = """
        serial, secret, type, digits, period-or-counter
        HOTP-1, hex:3132333435363738393031323334353637383930, hotp, 6, 0
        TOTP-1, hex:3132333435363738393031323334353637383930, totp, 8, 30
        HOTP-9, hex:3132333435363738393031323334353637383930, hotp, 6, 9
        """

    static let secret = try! OTPSecret(bytes: Array("12345678901234567890".utf8))

    func importTokens(_ h: ServicesHarness) async throws -> [HardwareTokenRecord] {
        try await h.services.hardwareTokens.importTokens(h.app, file: Array(Self.csv.utf8), format: .csv, key: .none, actor: "test")
    }

    @Test("imported tokens land in the pool sealed, and a bad file imports nothing")
    func importing() async throws {
        let h = try await ServicesHarness.make()
        let imported = try await importTokens(h)
        #expect(imported.map(\.serial) == ["HOTP-1", "TOTP-1", "HOTP-9"])
        let pool = try await h.services.hardwareTokens.tokens(h.app, unassignedOnly: true)
        #expect(pool.map(\.serial) == ["HOTP-1", "HOTP-9", "TOTP-1"])
        #expect(pool.allSatisfy { !$0.sealedSecret.isEmpty && !$0.sealedSecret.containsSubsequence(Self.secret.bytes) })
        #expect(pool.first { $0.serial == "HOTP-9" }?.counter == 9)
        // The same serial again: nothing more is imported.
        await #expect(throws: TwofoldError.self) { _ = try await importTokens(h) }
        let bad = Array((Self.csv + "\nBROKEN, hex:zz, hotp, 6, 0").utf8)
        await #expect(throws: TwofoldError.self) {
            _ = try await h.services.hardwareTokens.importTokens(h.app, file: bad, format: .csv, key: .none, actor: "test")
        }
        #expect(try await h.services.hardwareTokens.tokens(h.app).count == 3)
    }

    @Test("an assigned token verifies the user's codes, counter and replay as any HOTP factor")
    func assignedHOTPTokenVerifies() async throws {
        let h = try await ServicesHarness.make()
        _ = try await importTokens(h)
        let alice = try UserID("alice")
        let factor = try await h.services.hardwareTokens.assign(h.app, serial: "HOTP-9", to: alice, actor: "test")
        #expect(factor.status == .active)
        #expect(factor.type == .hotp)
        let hotp = try HOTP(secret: Self.secret)
        // The token's next code is counter 9's: the codes before it are refused.
        #expect(try await h.services.verification.verify(h.app, alice, code: hotp.code(counter: 8), actor: "test").isAllowed == false)
        #expect(try await h.services.verification.verify(h.app, alice, code: hotp.code(counter: 9), actor: "test") == .allow(.factor(factor.id, .hotp)))
        #expect(try await h.services.verification.verify(h.app, alice, code: hotp.code(counter: 9), actor: "test").isAllowed == false)
        // Taken: a second assignment is refused.
        await #expect(throws: TwofoldError.self) {
            _ = try await h.services.hardwareTokens.assign(h.app, serial: "HOTP-9", to: try UserID("bob"), actor: "test")
        }
        // Handed back, the token goes on from counter 10 for its next user.
        try await h.services.hardwareTokens.unassign(h.app, serial: "HOTP-9", actor: "test")
        #expect(try await h.services.enrollment.factors(h.app, alice).isEmpty)
        let back = try #require(try await h.services.hardwareTokens.tokens(h.app).first { $0.serial == "HOTP-9" })
        #expect(back.counter == 10)
        #expect(back.userID == nil)
        let bob = try UserID("bob")
        let bobFactor = try await h.services.hardwareTokens.assign(h.app, serial: "HOTP-9", to: bob, actor: "test")
        #expect(try await h.services.verification.verify(h.app, bob, code: hotp.code(counter: 9), actor: "test").isAllowed == false)
        #expect(try await h.services.verification.verify(h.app, bob, code: hotp.code(counter: 10), actor: "test")
            == .allow(.factor(bobFactor.id, .hotp)))
    }

    @Test("an assigned TOTP token verifies the user's codes")
    func assignedTOTPTokenVerifies() async throws {
        let h = try await ServicesHarness.make()
        _ = try await importTokens(h)
        let alice = try UserID("alice")
        let factor = try await h.services.hardwareTokens.assign(h.app, serial: "TOTP-1", to: alice, actor: "test")
        let totp = try TOTP(secret: Self.secret, digits: 8, period: 30)
        #expect(try await h.services.verification.verify(h.app, alice, code: try totp.code(at: h.now), actor: "test")
            == .allow(.factor(factor.id, .totp)))
    }

    @Test("erasing the user hands the token back to the pool; export lists it by serial only")
    func erasureAndExport() async throws {
        let h = try await ServicesHarness.make()
        _ = try await importTokens(h)
        let alice = try UserID("alice")
        _ = try await h.services.hardwareTokens.assign(h.app, serial: "TOTP-1", to: alice, actor: "test")
        let application = try await h.services.applications.application(id: h.app)
        let export = try #require(try await h.services.administration.export(application, alice, actor: "test"))
        #expect(export.hardwareTokens == ["TOTP-1"])
        try await h.services.administration.erase(h.app, alice, actor: "test")
        let token = try #require(try await h.services.hardwareTokens.tokens(h.app).first { $0.serial == "TOTP-1" })
        #expect(token.userID == nil)
        #expect(token.factorID == nil)
        #expect(try await h.services.hardwareTokens.tokens(h.app, unassignedOnly: true).count == 3)
    }

    @Test("deleting an assigned token deletes the user's factor; unknown serials are not found")
    func deleting() async throws {
        let h = try await ServicesHarness.make()
        _ = try await importTokens(h)
        let alice = try UserID("alice")
        _ = try await h.services.hardwareTokens.assign(h.app, serial: "HOTP-1", to: alice, actor: "test")
        try await h.services.hardwareTokens.delete(h.app, serial: "HOTP-1", actor: "test")
        #expect(try await h.services.enrollment.factors(h.app, alice).isEmpty)
        #expect(try await h.services.hardwareTokens.tokens(h.app).map(\.serial) == ["HOTP-9", "TOTP-1"])
        await #expect(throws: TwofoldError.self) { try await h.services.hardwareTokens.delete(h.app, serial: "HOTP-1", actor: "test") }
        await #expect(throws: TwofoldError.self) { try await h.services.hardwareTokens.unassign(h.app, serial: "TOTP-1", actor: "test") }
    }
}

extension Array where Element == UInt8 {
    func containsSubsequence(_ needle: [UInt8]) -> Bool {
        guard !needle.isEmpty, needle.count <= count else { return false }
        return (0...(count - needle.count)).contains { Array(self[$0..<$0 + needle.count]) == needle }
    }
}
