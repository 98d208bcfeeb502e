import Foundation

/// What is held per user beyond factors: throttle state, and the operations on everything a
/// user has (reset, unlock, erase, listing).
public protocol UserStore: Sendable {
    /// The user's failures and lock; `nil` when there are neither.
    func throttleState(applicationID: ApplicationID, userID: UserID) async throws -> ThrottleState?
    /// Deletes every factor and recovery code of the user; returns how many of each.
    func resetUser(applicationID: ApplicationID, userID: UserID, audit: AuditAppend) async throws -> (factors: Int, recoveryCodes: Int)
    /// Clears the failure count and any lock (no throttle row remains).
    func unlockUser(applicationID: ApplicationID, userID: UserID, audit: AuditAppend) async throws
    /// Deletes everything held about the user, their data key included, and removes their id from
    /// audit events (which keep the pseudonym). The erasure's own event is appended last.
    func eraseUser(applicationID: ApplicationID, userID: UserID, audit: AuditAppend) async throws
    /// Every user the application has anything stored for, sorted.
    func users(applicationID: ApplicationID) async throws -> [UserID]
}

/// Consecutive failures and the current lock of one user.
public struct ThrottleState: Sendable, Equatable {
    public var failures: Int
    public var lockedUntil: Date?

    public init(failures: Int, lockedUntil: Date?) {
        self.failures = failures
        self.lockedUntil = lockedUntil
    }
}
