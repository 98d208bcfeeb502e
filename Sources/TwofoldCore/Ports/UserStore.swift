import Foundation

/// What is held per user beyond factors: throttle state, and the operations on everything a
/// user has (reset, unlock, erase, listing).
///
/// A user *has something stored* in an application when they have a factor (pending or active),
/// a recovery code, a throttle state or a data key there: exactly the users ``users(applicationID:)``
/// lists. Reset and unlock act only on such a user, and decide so in the transaction that
/// writes (never check-then-act): for anyone else they write nothing, not even their audit event.
public protocol UserStore: Sendable {
    /// The user's failures and lock; `nil` when there are neither.
    func throttleState(applicationID: ApplicationID, userID: UserID) async throws -> ThrottleState?
    /// Whether the user has a factor, a recovery code, a throttle state or a data key in the application.
    func storesAnything(applicationID: ApplicationID, userID: UserID) async throws -> Bool
    /// Deletes every factor and recovery code of the user and appends `audit`.
    /// - Returns: How many of each were deleted, or `nil` when nothing is stored for the user;
    ///   then nothing was written, not even `audit`.
    func resetUser(applicationID: ApplicationID, userID: UserID, audit: AuditAppend) async throws -> (factors: Int, recoveryCodes: Int)?
    /// Clears the failure count and any lock (no throttle row remains) and appends `audit`.
    /// - Returns: `false` when nothing is stored for the user; then nothing was written, not even `audit`.
    func unlockUser(applicationID: ApplicationID, userID: UserID, audit: AuditAppend) async throws -> Bool
    /// Deletes everything held about the user, their data key included, and removes their id from
    /// audit events (which keep the pseudonym). The erasure's own event is appended last.
    /// - Returns: `false` when there was nothing to erase: nothing stored, and no audit event
    ///   naming the user. Then nothing was written, not even `audit`.
    func eraseUser(applicationID: ApplicationID, userID: UserID, audit: AuditAppend) async throws -> Bool
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
