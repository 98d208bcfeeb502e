import Foundation
import Testing
import TwofoldCore
import TwofoldTesting

/// Security keys through the services on the in-memory store, answered by a software key whose
/// answers can be spoiled one field at a time.
@Suite struct SecurityKeyServiceTests {
    static let origin = "https://login.example.com"

    struct Harness {
        let h: ServicesHarness
        let user: UserID
        var keys: SecurityKeyService { h.services.securityKeys }

        static func make() async throws -> Harness {
            let h = try await ServicesHarness.make()
            _ = try await h.services.applications.updateSettings(id: h.app, smsTemplate: .keep, domain: .keep,
                                                                 relyingParty: .set(id: "example.com", origins: [origin]), actor: "test")
            return Harness(h: h, user: try UserID("alice"))
        }

        /// Enrolls `key` and activates it; returns the factor id and the activation's result.
        func enroll(_ key: SoftAuthenticator, tamper: SoftAuthenticator.Tamper = .none,
                    userVerification: String? = nil) async throws -> (FactorID, VerificationResult) {
            let enrollment = try await keys.enroll(h.app, user, label: "YubiKey", userVerification: userVerification, actor: "test")
            let response = try key.register(try Self.options(enrollment.options), origin: origin, tamper: tamper)
            let result = try await keys.activate(h.app, user, factorID: enrollment.factor.id, credential: response, actor: "test")
            return (enrollment.factor.id, result)
        }

        func signIn(_ key: SoftAuthenticator, tamper: SoftAuthenticator.Tamper = .none) async throws -> VerificationResult {
            let ceremony = try await keys.challenge(h.app, user, factorID: nil, context: ChallengeContext(), actor: "test")
            let response = try key.authenticate(try Self.options(ceremony.options), origin: origin, tamper: tamper)
            return try await keys.answer(h.app, ceremony.challenge.id, credential: response, actor: "test").result
        }

        /// The user's newest audit event.
        func lastEvent() async throws -> AuditEvent? {
            try await h.store.auditEvents(AuditQuery(applicationID: h.app, userID: user, limit: 1000)).max { $0.id < $1.id }
        }

        static func options(_ options: any Encodable & Sendable) throws -> [String: Any] {
            let data = try JSONEncoder().encode(options)
            return try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
        }
    }

    @Test("a registered key activates its factor and then signs in", arguments: ["none", "packed"])
    func registerAndSignIn(attestation: String) async throws {
        let t = try await Harness.make()
        let key = SoftAuthenticator(signCount: 1, attestation: attestation)
        let (factorID, activation) = try await t.enroll(key)
        #expect(activation == .allow(.factor(factorID, .webauthn)))
        let factors = try await t.h.services.enrollment.factors(t.h.app, t.user)
        #expect(factors.first?.status == .active)
        #expect(factors.first?.securityKey?.attestationFormat == attestation)
        #expect(try await t.signIn(key) == .allow(.factor(factorID, .webauthn)))
        let stored = try await t.h.store.securityKeys(applicationID: t.h.app, userID: t.user)
        #expect(stored.first?.signCount == 2)
        #expect(stored.first?.lastUsedAt != nil)
    }

    @Test("each spoiled field of a sign-in is refused and counted as a failure")
    func spoiledAssertionsAreRefused() async throws {
        let tampers: [SoftAuthenticator.Tamper] = [.origin("https://evil.example.net"), .rpID("evil.example.net"), .type("webauthn.create"),
                                                   .challenge(Array(repeating: 7, count: 32)), .clearUserPresence, .signature]
        for tamper in tampers {
            let t = try await Harness.make()
            let key = SoftAuthenticator(signCount: 1)
            _ = try await t.enroll(key)
            let result = try await t.signIn(key, tamper: tamper)
            #expect(result == .deny(.invalidCode, retryAfter: nil), "\(tamper)")
            // The refusal was counted: the user's throttle has a failure.
            let event = try await t.lastEvent()
            #expect(event?.outcome == "deny", "\(tamper)")
            #expect(event?.details.contains("\"webauthn\"") == true, "\(tamper)")
            #expect(try await t.h.store.throttleState(applicationID: t.h.app, userID: t.user) != nil, "\(tamper)")
        }
    }

    @Test("each spoiled field of a registration leaves the factor pending")
    func spoiledRegistrationsAreRefused() async throws {
        let tampers: [SoftAuthenticator.Tamper] = [.origin("https://evil.example.net"), .rpID("evil.example.net"), .type("webauthn.get"),
                                                   .challenge(Array(repeating: 7, count: 32)), .clearUserPresence, .signature]
        for tamper in tampers {
            let t = try await Harness.make()
            let key = SoftAuthenticator(signCount: 1, attestation: "packed")
            let (_, result) = try await t.enroll(key, tamper: tamper)
            #expect(result == .deny(.invalidCode, retryAfter: nil), "\(tamper)")
            #expect(try await t.h.services.enrollment.factors(t.h.app, t.user).first?.status == .pending, "\(tamper)")
            #expect(try await t.h.store.securityKeys(applicationID: t.h.app, userID: t.user).isEmpty, "\(tamper)")
        }
    }

    @Test("a counter that does not move forward flags the key, and a flagged key signs in no more")
    func clonedKeyIsFlagged() async throws {
        let t = try await Harness.make()
        let key = SoftAuthenticator(signCount: 5)
        _ = try await t.enroll(key)
        #expect(try await t.signIn(key).isAllowed)
        key.signCount = 3  // a clone that has counted less
        #expect(try await t.signIn(key) == .deny(.invalidCode, retryAfter: nil))
        let stored = try #require(try await t.h.store.securityKeys(applicationID: t.h.app, userID: t.user).first)
        #expect(stored.flaggedAt != nil)
        #expect(try await t.lastEvent()?.details.contains("sign_count_not_increased") == true)
        key.signCount = 100
        await #expect(throws: TwofoldError.self) {
            _ = try await t.signIn(key)  // no key left to ask: the flagged one is not offered
        }
    }

    @Test("keys that keep no counter (always 0) sign in every time")
    func zeroCountersAreAccepted() async throws {
        let t = try await Harness.make()
        let key = SoftAuthenticator(signCount: 0)
        let (factorID, _) = try await t.enroll(key)
        #expect(try await t.signIn(key) == .allow(.factor(factorID, .webauthn)))
        #expect(try await t.signIn(key) == .allow(.factor(factorID, .webauthn)))
    }

    @Test("one answer answers once: the same credential JSON again is a replay")
    func answersAreSingleUse() async throws {
        let t = try await Harness.make()
        let key = SoftAuthenticator(signCount: 0)
        _ = try await t.enroll(key)
        let ceremony = try await t.keys.challenge(t.h.app, t.user, factorID: nil, context: ChallengeContext(), actor: "test")
        let response = try key.authenticate(try Harness.options(ceremony.options), origin: Self.origin)
        #expect(try await t.keys.answer(t.h.app, ceremony.challenge.id, credential: response, actor: "test").result.isAllowed)
        #expect(try await t.keys.answer(t.h.app, ceremony.challenge.id, credential: response, actor: "test").result
            == .deny(.replayed, retryAfter: nil))
    }

    @Test("another user's key does not answer for this user")
    func anotherUsersKeyIsRefused() async throws {
        let t = try await Harness.make()
        _ = try await t.enroll(SoftAuthenticator(signCount: 1))
        let mallory = Harness(h: t.h, user: try UserID("mallory"))
        let malloryKey = SoftAuthenticator(signCount: 1)
        _ = try await mallory.enroll(malloryKey)
        let ceremony = try await t.keys.challenge(t.h.app, t.user, factorID: nil, context: ChallengeContext(), actor: "test")
        let response = try malloryKey.authenticate(try Harness.options(ceremony.options), origin: Self.origin)
        #expect(try await t.keys.answer(t.h.app, ceremony.challenge.id, credential: response, actor: "test").result
            == .deny(.invalidCode, retryAfter: nil))
    }

    @Test("a key registered in another application does not answer for this one")
    func anotherApplicationsKeyIsRefused() async throws {
        let t = try await Harness.make()
        _ = try await t.enroll(SoftAuthenticator(signCount: 1))
        let other = try await t.h.services.applications.createApplication(named: "other", actor: "test")
        _ = try await t.h.services.applications.updateSettings(id: other.id, smsTemplate: .keep, domain: .keep,
                                                               relyingParty: .set(id: "example.com", origins: [Self.origin]), actor: "test")
        let otherKey = SoftAuthenticator(signCount: 1)
        let enrollment = try await t.keys.enroll(other.id, t.user, label: nil, userVerification: nil, actor: "test")
        let registration = try otherKey.register(try Harness.options(enrollment.options), origin: Self.origin)
        #expect(try await t.keys.activate(other.id, t.user, factorID: enrollment.factor.id, credential: registration, actor: "test").isAllowed)
        let ceremony = try await t.keys.challenge(t.h.app, t.user, factorID: nil, context: ChallengeContext(), actor: "test")
        let response = try otherKey.authenticate(try Harness.options(ceremony.options), origin: Self.origin)
        #expect(try await t.keys.answer(t.h.app, ceremony.challenge.id, credential: response, actor: "test").result
            == .deny(.invalidCode, retryAfter: nil))
        // And the other application cannot answer this one's ceremony at all.
        await #expect(throws: TwofoldError.self) {
            _ = try await t.keys.answer(other.id, ceremony.challenge.id, credential: response, actor: "test")
        }
    }

    @Test("user verification asked at enrollment is required at sign-in")
    func requiredUserVerification() async throws {
        let t = try await Harness.make()
        let key = SoftAuthenticator(signCount: 1)
        let (_, result) = try await t.enroll(key, userVerification: "required")
        #expect(result.isAllowed)
        let ceremony = try await t.keys.challenge(t.h.app, t.user, factorID: nil, context: ChallengeContext(), actor: "test")
        #expect(try Harness.options(ceremony.options)["userVerification"] as? String == "required")
    }

    @Test("malformed credentials are refused without counting, and an application without a relying party cannot enroll")
    func badInput() async throws {
        let t = try await Harness.make()
        let enrollment = try await t.keys.enroll(t.h.app, t.user, label: nil, userVerification: nil, actor: "test")
        await #expect(throws: TwofoldError.self) {
            _ = try await t.keys.activate(t.h.app, t.user, factorID: enrollment.factor.id, credential: Array("{\"id\":1}".utf8), actor: "test")
        }
        #expect(try await t.h.store.throttleState(applicationID: t.h.app, userID: t.user) == nil)
        await #expect(throws: TwofoldError.self) {
            _ = try await t.keys.enroll(t.h.app, t.user, label: nil, userVerification: "sometimes", actor: "test")
        }
        let other = try await t.h.services.applications.createApplication(named: "other", actor: "test")
        await #expect(throws: TwofoldError.self) {
            _ = try await t.keys.enroll(other.id, t.user, label: nil, userVerification: nil, actor: "test")
        }
    }

    @Test("deleting the factor deletes its key")
    func deletingTheFactorDeletesTheKey() async throws {
        let t = try await Harness.make()
        let (factorID, _) = try await t.enroll(SoftAuthenticator(signCount: 1))
        try await t.h.services.enrollment.deleteFactor(t.h.app, t.user, factorID, actor: "test")
        #expect(try await t.h.store.securityKeys(applicationID: t.h.app, userID: t.user).isEmpty)
    }
}
