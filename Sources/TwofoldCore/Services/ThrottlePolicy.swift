import Foundation

/// Consecutive failures per user lock verification with growing delays (RFC 4226 §7.3).
///
/// Defaults: 5 failures lock nothing (a person who mistypes three or four times is never
/// locked); the 6th locks for 30 s, and each further failure doubles the lock, up to a day.
/// An online attacker then gets about 47 guesses in 30 days: with HOTP's window of 11 counters
/// that is a success probability of 47 × 11 / 10^6 ≈ 0.05 %, and with TOTP's 3 steps ≈ 0.014 %,
/// both under 0.1 % (the throttling test computes the bound by running the policy).
public struct ThrottlePolicy: Sendable, Equatable, Codable {
    /// Failures that lock nothing.
    public var freeFailures: Int
    /// The first lock, in seconds.
    public var baseDelay: TimeInterval
    /// The longest lock, in seconds.
    public var maximumDelay: TimeInterval

    public init(freeFailures: Int = 5, baseDelay: TimeInterval = 30, maximumDelay: TimeInterval = 86_400) {
        self.freeFailures = freeFailures
        self.baseDelay = baseDelay
        self.maximumDelay = maximumDelay
    }

    /// How long to lock after the `failures`-th consecutive failure, or `nil` for no lock.
    public func lockDuration(afterFailures failures: Int) -> TimeInterval? {
        guard failures > freeFailures else { return nil }
        let doublings = min(failures - freeFailures - 1, 62)
        let delay = baseDelay * pow(2, Double(doublings))
        return min(delay, maximumDelay)
    }

    /// The throttle after one more consecutive failure at `now` (stored milliseconds): the new
    /// count, and the end of the lock it starts, if the policy locks after that many. Every
    /// store applies this one rule.
    public func afterFailure(_ failures: Int, at now: Int64) -> (failures: Int, lockedUntil: Int64?) {
        let (count, overflow) = failures.addingReportingOverflow(1)
        let failures = overflow ? Int.max : count
        return (failures, lockDuration(afterFailures: failures).map { StoredTime.milliseconds(now, plus: $0) })
    }

    /// - Throws: `configuration` for values that would disable throttling or overflow.
    public func validate() throws(TwofoldError) {
        guard freeFailures >= 0, freeFailures <= 100 else {
            throw TwofoldError(.configuration, "free failures must be 0 to 100, not \(freeFailures)")
        }
        guard baseDelay >= 1, maximumDelay >= baseDelay, maximumDelay <= 30 * 86_400 else {
            throw TwofoldError(.configuration, "lock delays must satisfy 1 s ≤ base ≤ maximum ≤ 30 days")
        }
    }
}
