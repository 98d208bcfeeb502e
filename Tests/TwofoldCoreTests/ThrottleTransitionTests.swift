import Foundation
import Testing
import TwofoldCore

/// The throttle rule every store applies after an attempt's compare-and-set.
@Suite("Throttle transition")
struct ThrottleTransitionTests {
    let factorID = FactorID(rawValue: "fac_" + String(repeating: "a", count: 26))!
    let now = Date(timeIntervalSince1970: 1_700_000_000)
    let policy = ThrottlePolicy(freeFailures: 2, baseDelay: 30, maximumDelay: 3_600)

    func request(at time: Date? = nil) throws -> AttemptRequest {
        AttemptRequest(applicationID: ApplicationID(rawValue: "app_" + String(repeating: "b", count: 26))!, userID: try UserID("alice"),
                       purpose: .verify, now: time ?? now, throttle: policy)
    }

    var step: AttemptDecision { .acceptStep(factorID, type: .totp, step: 7, drift: 0, activate: false) }

    @Test("a won acceptance answers it and clears stored failures, and writes nothing without them")
    func wonAcceptance() throws {
        let withState = ThrottleTransition(step, won: true, failures: 2, hasState: true, request: try request())
        #expect(withState.outcome == .accepted(.step(StepAcceptance(factorID: factorID, factorType: .totp, step: 7, drift: 0, activate: false))))
        #expect(withState.change == .clear)
        #expect(ThrottleTransition(step, won: true, failures: 0, hasState: false, request: try request()).change == .none)
    }

    @Test("a lost step is a replay and a lost recovery code an invalid code, each counting a failure")
    func lostAcceptance() throws {
        let replay = ThrottleTransition(step, won: false, failures: 0, hasState: false, request: try request())
        #expect(replay.outcome == .denied(.replayed, lockedUntil: nil))
        #expect(replay.change == .set(failures: 1, lockedUntil: nil))
        let code = ThrottleTransition(.acceptRecoveryCode(index: 2, remaining: 5), won: false, failures: 1, hasState: true, request: try request())
        #expect(code.outcome == .denied(.invalidCode, lockedUntil: nil))
        #expect(code.change == .set(failures: 2, lockedUntil: nil))
    }

    @Test("the failure past the free ones locks for the base delay, then doubling")
    func locks() throws {
        let third = ThrottleTransition(.reject(.invalidCode), won: false, failures: 2, hasState: true, request: try request())
        #expect(third.outcome == .denied(.invalidCode, lockedUntil: now.addingTimeInterval(30)))
        #expect(third.change == .set(failures: 3, lockedUntil: StoredTime.milliseconds(now) + 30_000))
        let fourth = ThrottleTransition(.reject(.replayed), won: false, failures: 3, hasState: true, request: try request())
        #expect(fourth.change == .set(failures: 4, lockedUntil: StoredTime.milliseconds(now) + 60_000))
    }

    @Test("no_factors and locked refusals change nothing, whatever was stored", arguments: [DenialReason.noFactors, .locked])
    func uncounted(_ reason: DenialReason) throws {
        let transition = ThrottleTransition(.reject(reason), won: false, failures: 4, hasState: true, request: try request())
        #expect(transition.outcome == .denied(reason, lockedUntil: nil))
        #expect(transition.change == .none)
    }

    @Test("a rejection is never a win, whatever the store says of its compare-and-set")
    func rejectionNeverWins() throws {
        let transition = ThrottleTransition(.reject(.invalidCode), won: true, failures: 0, hasState: false, request: try request())
        #expect(transition.outcome == .denied(.invalidCode, lockedUntil: nil))
    }

    @Test("a lock ending past the stored range saturates instead of trapping")
    func saturates() throws {
        let far = Date(timeIntervalSince1970: 9.3e15)
        let transition = ThrottleTransition(.reject(.invalidCode), won: false, failures: Int.max, hasState: true, request: try request(at: far))
        #expect(transition.change == .set(failures: Int.max, lockedUntil: Int64.max))
    }
}
