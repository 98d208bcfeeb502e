import Foundation

/// A user's factors and recovery codes.
public protocol FactorStore: Sendable {
    func insertFactor(_ factor: FactorRecord, audit: AuditAppend) async throws
    /// The user's factors, oldest first.
    func factors(applicationID: ApplicationID, userID: UserID) async throws -> [FactorRecord]
    /// Deletes one factor; returns whether it existed.
    func deleteFactor(applicationID: ApplicationID, userID: UserID, factorID: FactorID, audit: AuditAppend) async throws -> Bool
    /// Deletes pending factors that expired before `date`; returns how many.
    func deleteExpiredPendingFactors(before date: Date) async throws -> Int

    /// Replaces the user's set (all of it) with `codes` and appends `audit`, provided the user
    /// has an active factor: recovery codes stand in for a lost factor, so a user without one
    /// gets none. The check is made in the transaction that writes.
    /// - Returns: `false` when the user has no active factor; then nothing was written, not even `audit`.
    @discardableResult
    func replaceRecoveryCodes(applicationID: ApplicationID, userID: UserID, codes: [RecoveryCodeRecord], audit: AuditAppend) async throws -> Bool
    func recoveryCodes(applicationID: ApplicationID, userID: UserID) async throws -> [RecoveryCodeRecord]
}
