import Foundation

/// What an attempt does to its user's throttle, and what it answers, once the store knows
/// whether the decision's compare-and-set won: the one rule every store applies (steps 3 and 4
/// of ``AttemptStore/attempt(_:decide:audit:)``), so that they cannot drift apart.
public struct ThrottleTransition: Sendable, Equatable {
    /// The change to the stored throttle state.
    public enum Change: Sendable, Equatable {
        /// Leave it as it is (or absent).
        case none
        /// Delete it: success clears the failures, and no state remains.
        case clear
        /// Store these failures and this lock end (stored milliseconds), creating the state.
        case set(failures: Int, lockedUntil: Int64?)
    }

    public var outcome: AttemptOutcome
    public var change: Change

    /// - Parameters:
    ///   - decision: What `decide` returned.
    ///   - won: Whether an acceptance's compare-and-set won (ignored for a rejection).
    ///   - failures: The user's consecutive failures as read in the attempt, 0 without state.
    ///   - hasState: Whether the user has throttle state (failures or a lock) stored.
    ///   - request: The attempt, for its time and throttle policy.
    public init(_ decision: AttemptDecision, won: Bool, failures: Int, hasState: Bool, request: AttemptRequest) {
        let reason: DenialReason
        switch decision {
        case .accept(let acceptance) where won:
            outcome = .accepted(acceptance)
            change = hasState ? .clear : .none
            return
        case .accept(.step), .accept(.challenge):
            reason = .replayed
        case .accept(.recoveryCode):
            reason = .invalidCode
        case .reject(let rejection):
            reason = rejection
        }
        guard reason.countsAsFailure else {
            outcome = .denied(reason, lockedUntil: nil)
            change = .none
            return
        }
        let next = request.throttle.afterFailure(failures, at: StoredTime.milliseconds(request.now))
        outcome = .denied(reason, lockedUntil: next.lockedUntil.map { StoredTime.date(milliseconds: $0) })
        change = .set(failures: next.failures, lockedUntil: next.lockedUntil)
    }
}
