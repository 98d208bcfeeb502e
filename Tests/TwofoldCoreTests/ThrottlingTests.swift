import Foundation
import Testing
import TwofoldCore
import TwofoldOTP
import TwofoldTesting

@Suite("Throttling (RFC 4226 §7.3)")
struct ThrottlingTests {
    let alice = try! UserID("alice")

    func wrongCode(_ totp: TOTP, at time: UInt64) throws -> String {
        let step = try totp.step(at: time)
        let valid = Set((step - 2...step + 2).map { totp.code(step: $0) })
        return (0..<1_000_000).lazy.map { String(format: "%06d", $0) }.first { !valid.contains($0) }!
    }

    @Test("a user who mistypes three times in a row is not locked")
    func threeMistypes() async throws {
        let h = try await ServicesHarness.make()
        let (totp, id) = try await h.enrollTOTP(alice)
        for _ in 0..<3 {
            #expect(try await h.services.verification.verify(h.app, alice, code: wrongCode(totp, at: h.now), actor: "test") == .deny(.invalidCode, retryAfter: nil))
        }
        #expect(try await h.services.verification.verify(h.app, alice, code: totp.code(at: h.now), actor: "test") == .allow(.factor(id, .totp)))
        #expect((try await h.services.administration.throttleState(h.app, alice)?.failures ?? 0) == 0)
    }

    @Test("while locked a valid code is not evaluated; after the delay, or an admin unlock, it is")
    func lockedIsNoOracle() async throws {
        let h = try await ServicesHarness.make()
        let (totp, id) = try await h.enrollTOTP(alice)
        for _ in 0..<6 {
            _ = try await h.services.verification.verify(h.app, alice, code: wrongCode(totp, at: h.now), actor: "test")
        }
        let valid = try totp.code(at: h.now)
        guard case .deny(.locked, let retryAfter?) = try await h.services.verification.verify(h.app, alice, code: valid, actor: "test") else {
            Issue.record("expected a lock after six failures")
            return
        }
        #expect(retryAfter == h.clock.now().addingTimeInterval(30))
        // The valid code was not consumed while locked.
        try await h.services.administration.unlock(h.app, alice, actor: "admin")
        #expect(try await h.services.verification.verify(h.app, alice, code: valid, actor: "test") == .allow(.factor(id, .totp)))
    }

    /// (b): an online attacker who keeps guessing for 30 days, always waiting out the lock,
    /// has a success probability below 0.1 % — for TOTP (3 steps accepted per guess) and for
    /// HOTP (11 counters). The policy runs for real against the services and a fixed clock; the
    /// bound counts the guesses that were actually evaluated.
    @Test("an attacker guessing for 30 days succeeds with probability below 0.1 %", arguments: [FactorType.totp, .hotp])
    func thirtyDayBound(type: FactorType) async throws {
        let h = try await ServicesHarness.make()
        let user = try UserID("victim")
        let accepted: Double
        switch type {
        case .totp:
            _ = try await h.enrollTOTP(user)
            accepted = Double(2 * h.services.policy.totpWindow + 1)
        case .hotp:
            _ = try await h.enrollHOTP(user)
            accepted = Double(h.services.policy.hotpLookAhead + 1)
        case .sms, .voice, .push, .webauthn:
            Issue.record("factors answered through challenges have their own bound (challenge attempts)")
            return
        }
        let end = h.clock.now().addingTimeInterval(30 * 86_400)
        var evaluated = 0
        var lockedAnswers = 0
        while h.clock.now() < end {
            // A guess that is certainly wrong, so the attacker never resets the count by luck.
            switch try await h.services.verification.verify(h.app, user, code: "000000", actor: "attacker") {
            case .deny(.locked, let retryAfter?):
                lockedAnswers += 1
                h.clock.set(retryAfter)
            case .deny(.invalidCode, _), .deny(.replayed, _):
                evaluated += 1
            case let other:
                Issue.record("unexpected \(other)")
                return
            }
        }
        let probability = Double(evaluated) * accepted / 1_000_000
        #expect(evaluated > 10, "the attacker must get some guesses (the policy is not a permanent lock)")
        #expect(probability < 0.001, "\(evaluated) guesses × \(accepted) codes = \(probability)")
        #expect(lockedAnswers > 0)
    }

    @Test("the lock grows: 30 s, then doubling, capped at a day")
    func policyShape() {
        let policy = ThrottlePolicy()
        #expect((1...5).allSatisfy { policy.lockDuration(afterFailures: $0) == nil })
        #expect(policy.lockDuration(afterFailures: 6) == 30)
        #expect(policy.lockDuration(afterFailures: 7) == 60)
        #expect(policy.lockDuration(afterFailures: 8) == 120)
        #expect(policy.lockDuration(afterFailures: 40) == 86_400)
        #expect(policy.lockDuration(afterFailures: Int.max) == 86_400)
    }
}
