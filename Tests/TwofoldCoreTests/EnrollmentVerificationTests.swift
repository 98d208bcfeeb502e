import Foundation
import Testing
import TwofoldCore
import TwofoldOTP
import TwofoldTesting

@Suite("Enrollment and verification")
struct EnrollmentVerificationTests {
    let alice = try! UserID("alice@example.com")

    @Test("a factor is pending until a valid code activates it, and only then verifies logins")
    func pendingUntilActivated() async throws {
        let h = try await ServicesHarness.make()
        let enrollment = try await h.services.enrollment.enroll(h.app, alice, EnrollmentRequest(type: .totp, issuer: "ACME"), actor: "test")
        #expect(enrollment.factor.status == .pending)
        #expect(enrollment.secret.bytes.count == 20)
        #expect(enrollment.uri.issuer == "ACME")
        #expect(enrollment.uri.account == alice.rawValue)
        let totp = try enrollment.uri.makeTOTP()
        let code = try totp.code(at: h.now)

        // Pending factors do not count: the user has no factors yet.
        #expect(try await h.services.verification.verify(h.app, alice, code: code, actor: "test") == .deny(.noFactors, retryAfter: nil))
        await #expect(throws: TwofoldError.self) {
            try await h.services.enrollment.activate(h.app, alice, enrollment.factor.id, code: "000000", actor: "test")
        }
        let active = try await h.services.enrollment.activate(h.app, alice, enrollment.factor.id, code: code, actor: "test")
        #expect(active.status == .active)
        #expect(active.activatedAt != nil)
        // Activation consumed the step: the same code is now a replay.
        #expect(try await h.services.verification.verify(h.app, alice, code: code, actor: "test") == .deny(.replayed, retryAfter: nil))
        h.clock.advance(by: 30)
        #expect(try await h.services.verification.verify(h.app, alice, code: try totp.code(at: h.now), actor: "test")
                == .allow(.factor(enrollment.factor.id, .totp)))
    }

    @Test("the secret leaves only at enrollment; pending QR URIs stop once active")
    func secretOnlyAtCreation() async throws {
        let h = try await ServicesHarness.make()
        let enrollment = try await h.services.enrollment.enroll(h.app, alice, EnrollmentRequest(type: .totp), actor: "test")
        #expect(try await h.services.enrollment.pendingEnrollmentURI(h.app, alice, enrollment.factor.id) == enrollment.uri)
        let listed = try await h.services.enrollment.factors(h.app, alice)
        #expect(listed == [enrollment.factor])
        let code = try enrollment.uri.makeTOTP().code(at: h.now)
        _ = try await h.services.enrollment.activate(h.app, alice, enrollment.factor.id, code: code, actor: "test")
        await #expect {
            try await h.services.enrollment.pendingEnrollmentURI(h.app, alice, enrollment.factor.id)
        } throws: { isCode($0, .notFound) }
    }

    @Test("pending enrollments expire after 10 minutes")
    func pendingExpires() async throws {
        let h = try await ServicesHarness.make()
        let enrollment = try await h.services.enrollment.enroll(h.app, alice, EnrollmentRequest(type: .totp), actor: "test")
        h.clock.advance(by: 601)
        let code = try enrollment.uri.makeTOTP().code(at: h.now)
        await #expect {
            try await h.services.enrollment.activate(h.app, alice, enrollment.factor.id, code: code, actor: "test")
        } throws: { error in
            (error as? TwofoldError)?.code == .expired
        }
        #expect(try await h.services.enrollment.factors(h.app, alice).isEmpty)
    }

    @Test("a wrong code, a malformed code and a code of another user are invalid_code")
    func invalidCodes() async throws {
        let h = try await ServicesHarness.make()
        let (totp, _) = try await h.enrollTOTP(alice)
        let bob = try UserID("bob")
        let (bobTOTP, _) = try await h.enrollTOTP(bob)
        let current = try totp.code(at: h.now)
        let wrong = current == "123456" ? "654321" : "123456"
        #expect(try await h.services.verification.verify(h.app, alice, code: wrong, actor: "test") == .deny(.invalidCode, retryAfter: nil))
        #expect(try await h.services.verification.verify(h.app, alice, code: "12 456", actor: "test") == .deny(.invalidCode, retryAfter: nil))
        #expect(try await h.services.verification.verify(h.app, alice, code: "", actor: "test") == .deny(.invalidCode, retryAfter: nil))
        let bobsCode = try bobTOTP.code(at: h.now)
        if bobsCode != current {
            #expect(try await h.services.verification.verify(h.app, alice, code: bobsCode, actor: "test") == .deny(.invalidCode, retryAfter: nil))
        }
    }

    @Test("a code from the previous or next step is accepted; two steps away is not")
    func window() async throws {
        let h = try await ServicesHarness.make()
        let (totp, id) = try await h.enrollTOTP(alice)
        h.clock.advance(by: 300)
        let step = try totp.step(at: h.now)
        #expect(try await h.services.verification.verify(h.app, alice, code: totp.code(step: step + 2), actor: "test").isAllowed == false)
        #expect(try await h.services.verification.verify(h.app, alice, code: totp.code(step: step - 2), actor: "test").isAllowed == false)
        #expect(try await h.services.verification.verify(h.app, alice, code: totp.code(step: step - 1), actor: "test") == .allow(.factor(id, .totp)))
        // The next step, on another user's factor (alice's window now centres a step behind).
        let bob = try UserID("bob")
        let (bobTOTP, bobFactor) = try await h.enrollTOTP(bob)
        h.clock.advance(by: 300)
        let bobStep = try bobTOTP.step(at: h.now)
        #expect(try await h.services.verification.verify(h.app, bob, code: bobTOTP.code(step: bobStep + 1), actor: "test") == .allow(.factor(bobFactor, .totp)))
    }

    @Test("drift: the window is centred where the device's clock was last found")
    func drift() async throws {
        let h = try await ServicesHarness.make()
        let (totp, id) = try await h.enrollTOTP(alice)
        // The device runs one step fast: accepted at the window's edge, and remembered.
        var step = try totp.step(at: h.now)
        #expect(try await h.services.verification.verify(h.app, alice, code: totp.code(step: step + 1), actor: "test") == .allow(.factor(id, .totp)))
        h.clock.advance(by: 120)
        step = try totp.step(at: h.now)
        // Now two steps fast: inside the window centred one step ahead.
        #expect(try await h.services.verification.verify(h.app, alice, code: totp.code(step: step + 2), actor: "test") == .allow(.factor(id, .totp)))
        let stored = try await h.store.factors(applicationID: h.app, userID: alice).first
        #expect(stored?.drift == 2)
    }

    @Test("drift: codes of later and later steps within one period do not ratchet the window away")
    func driftDoesNotRatchet() async throws {
        let h = try await ServicesHarness.make()
        let (totp, id) = try await h.enrollTOTP(alice)
        let step = try totp.step(at: h.now)
        // Within one period: the next step is at the window's edge and is remembered (drift 1);
        // the one after is still inside the window around it, but may not push the drift to 2,
        // so the step after that stays out of reach.
        #expect(try await h.services.verification.verify(h.app, alice, code: totp.code(step: step + 1), actor: "test") == .allow(.factor(id, .totp)))
        #expect(try await h.services.verification.verify(h.app, alice, code: totp.code(step: step + 2), actor: "test") == .allow(.factor(id, .totp)))
        #expect(try await h.store.factors(applicationID: h.app, userID: alice).first?.drift == 1)
        #expect(try await h.services.verification.verify(h.app, alice, code: totp.code(step: step + 3), actor: "test") == .deny(.invalidCode, retryAfter: nil))
    }

    @Test("drift: a device whose clock is right verifies whatever drift was remembered, and the drift decays")
    func driftDecays() async throws {
        let h = try await ServicesHarness.make()
        let (totp, id) = try await h.enrollTOTP(alice)
        // The device ran ahead for a while: drift 1, then 2, then 3 over three periods.
        for ahead in 1...3 {
            #expect(try await h.services.verification.verify(h.app, alice, code: totp.code(step: try totp.step(at: h.now) + UInt64(ahead)),
                                                            actor: "test") == .allow(.factor(id, .totp)))
            h.clock.advance(by: 30)
        }
        #expect(try await h.store.factors(applicationID: h.app, userID: alice).first?.drift == 3)
        // Its clock is corrected: the current code is found around the server's clock, once the
        // steps consumed ahead have passed, and the drift goes back to zero.
        h.clock.advance(by: 90)
        #expect(try await h.services.verification.verify(h.app, alice, code: totp.code(at: h.now), actor: "test") == .allow(.factor(id, .totp)))
        #expect(try await h.store.factors(applicationID: h.app, userID: alice).first?.drift == 0)
    }

    @Test("HOTP accepts the next counter and up to 10 beyond; consumed counters are replays")
    func hotpLookAhead() async throws {
        let h = try await ServicesHarness.make()
        let (hotp, id) = try await h.enrollHOTP(alice)
        #expect(try await h.services.verification.verify(h.app, alice, code: hotp.code(counter: 1), actor: "test") == .allow(.factor(id, .hotp)))
        #expect(try await h.services.verification.verify(h.app, alice, code: hotp.code(counter: 12), actor: "test") == .allow(.factor(id, .hotp)))
        #expect(try await h.services.verification.verify(h.app, alice, code: hotp.code(counter: 5), actor: "test") == .deny(.replayed, retryAfter: nil))
        #expect(try await h.services.verification.verify(h.app, alice, code: hotp.code(counter: 24), actor: "test").isAllowed == false)
    }

    @Test("HOTP resynchronisation: two consecutive codes within 100 counters move the counter")
    func hotpResync() async throws {
        let h = try await ServicesHarness.make()
        let (hotp, id) = try await h.enrollHOTP(alice)
        #expect(try await h.services.verification.verify(h.app, alice, code: hotp.code(counter: 60), actor: "test").isAllowed == false)
        await #expect(throws: TwofoldError.self) {
            try await h.services.enrollment.resynchronize(h.app, alice, id, codes: (hotp.code(counter: 60), hotp.code(counter: 62)), actor: "test")
        }
        try await h.services.enrollment.resynchronize(h.app, alice, id, codes: (hotp.code(counter: 60), hotp.code(counter: 61)), actor: "test")
        #expect(try await h.services.verification.verify(h.app, alice, code: hotp.code(counter: 62), actor: "test") == .allow(.factor(id, .hotp)))
        #expect(try await h.services.verification.verify(h.app, alice, code: hotp.code(counter: 61), actor: "test") == .deny(.replayed, retryAfter: nil))
        let (_, totpID) = try await h.enrollTOTP(alice)
        await #expect {
            try await h.services.enrollment.resynchronize(h.app, alice, totpID, codes: ("123456", "234567"), actor: "test")
        } throws: { error in
            (error as? TwofoldError)?.code == .invalidState
        }
    }

    @Test("100 concurrent verifications of one valid code give exactly one allow")
    func concurrentReplay() async throws {
        let h = try await ServicesHarness.make(policy: VerificationPolicy(throttle: ThrottlePolicy(freeFailures: 100)))
        let (totp, _) = try await h.enrollTOTP(alice)
        let code = try totp.code(at: h.now)
        let services = h.services
        let app = h.app
        let user = alice
        let results = try await withThrowingTaskGroup(of: VerificationResult.self) { group in
            for _ in 0..<100 {
                group.addTask { try await services.verification.verify(app, user, code: code, actor: "test") }
            }
            return try await group.reduce(into: []) { $0.append($1) }
        }
        #expect(results.filter(\.isAllowed).count == 1)
        #expect(results.filter { $0 == .deny(.replayed, retryAfter: nil) }.count == 99)
    }

    @Test("the factor list never shows a secret and hides other users' factors")
    func listAndDelete() async throws {
        let h = try await ServicesHarness.make()
        let (_, id) = try await h.enrollTOTP(alice)
        let bob = try UserID("bob")
        #expect(try await h.services.enrollment.factors(h.app, bob).isEmpty)
        await #expect {
            try await h.services.enrollment.deleteFactor(h.app, bob, id, actor: "test")
        } throws: { isCode($0, .notFound) }
        try await h.services.enrollment.deleteFactor(h.app, alice, id, actor: "test")
        #expect(try await h.services.enrollment.factors(h.app, alice).isEmpty)
        #expect(try await h.services.verification.verify(h.app, alice, code: "123456", actor: "test") == .deny(.noFactors, retryAfter: nil))
    }

    @Test("user ids: 1 to 128 printable characters", arguments: ["", String(repeating: "x", count: 129), "a\u{0}b", "tab\there", " lead", "trail ", "bidi\u{202E}x", "line\u{2028}sep"])
    func invalidUserIDs(text: String) {
        #expect(throws: TwofoldError.self) { try UserID(text) }
    }

    @Test("valid user ids include e-mail addresses, non-Latin scripts and inner spaces",
          arguments: ["alice@example.com", "42", "Jürgen Müller", "用户", "🙂", String(repeating: "é", count: 128)])
    func validUserIDs(text: String) throws {
        #expect(try UserID(text).rawValue == text)
    }
}

/// Whether `error` is a ``TwofoldError`` with this code.
func isCode(_ error: any Error, _ code: TwofoldError.Code) -> Bool {
    (error as? TwofoldError)?.code == code
}
