import Foundation
import Hummingbird
import TwofoldCore

/// Looks at the user's throttle after a refused activation or resynchronisation code, to count
/// lockouts and to tell a locked caller when to come back. (Verification needs no such read: the
/// engine reports the lock a refusal started, ``TwofoldEngine/verifyReportingLock(_:_:code:actor:apiKeyID:)``.)
struct LockoutWatch: Sendable {
    let engine: TwofoldEngine
    let clock: any WallClock
    let metrics: TwofoldMetrics

    /// After an evaluated code was refused (`invalid_code` or `replayed`): a lock in force now
    /// was started by this failure, since a user already locked is not evaluated at all.
    func failureRecorded(_ applicationID: ApplicationID, _ userID: UserID) async {
        guard let state = try? await engine.throttleState(applicationID, userID),
              let until = state.lockedUntil, until > clock.now() else { return }
        metrics.recordLockout()
    }

    /// Whole seconds until `until`, at least 1.
    func secondsUntil(_ until: Date) -> Int {
        max(1, Int(until.timeIntervalSince(clock.now()).rounded(.up)))
    }

    /// The 429 answer for an engine `locked` error, with `Retry-After` when the lock's end is known.
    func lockedError(_ error: TwofoldError, _ applicationID: ApplicationID, _ userID: UserID) async -> APIError {
        var headers: HTTPFields = [:]
        if let until = try? await engine.throttleState(applicationID, userID)?.lockedUntil {
            headers[.retryAfter] = String(secondsUntil(until))
        }
        return APIError(.tooManyRequests, .rateLimited, error.message, headers: headers)
    }
}
