import Foundation
import Hummingbird
import TwofoldCore

/// Counts lockouts and tells a locked caller when to come back, from what an attempt reported
/// (``TwofoldError/lockedUntil``, or the verification's own lock report): no second read of the
/// throttle state.
struct LockoutWatch: Sendable {
    let clock: any WallClock
    let metrics: TwofoldMetrics

    /// After an evaluated code was refused (`invalid_code`): count the lock it started, if any.
    func failureRecorded(_ error: TwofoldError) {
        if error.lockedUntil != nil { metrics.recordLockout() }
    }

    /// Whole seconds until `until`, at least 1.
    func secondsUntil(_ until: Date) -> Int {
        max(1, Int(until.timeIntervalSince(clock.now()).rounded(.up)))
    }

    /// The 429 answer for a `locked` error, with `Retry-After` when the lock's end is known.
    func lockedError(_ error: TwofoldError) -> APIError {
        var headers: HTTPFields = [:]
        if let until = error.lockedUntil {
            headers[.retryAfter] = String(secondsUntil(until))
        }
        return APIError(.tooManyRequests, .rateLimited, error.message, headers: headers)
    }
}
