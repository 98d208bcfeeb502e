import Foundation

/// Security keys: the registered credential of each `webauthn` factor.
///
/// A key's row goes with its factor: every store deletes a user's security keys wherever it
/// deletes their factors (one factor, a reset, an erasure, the purge of lapsed pending ones),
/// in the same transaction.
public protocol SecurityKeyStore: Sendable {
    /// Registers `key` to its factor and replaces the factor's sealed secret with `sealedSecret`
    /// (which now holds the credential's public key), with `audit`, in one transaction; a
    /// compare-and-set: only if the factor is the user's, of type `webauthn`, still pending, and
    /// has no key yet.
    /// - Returns: whether this call registered it; when not, nothing was written, not even `audit`.
    /// - Throws: `conflict` when a key of the application already has this credential id.
    func attachSecurityKey(_ key: SecurityKeyRecord, sealedSecret: [UInt8], audit: AuditAppend) async throws -> Bool
    /// The user's security keys, oldest first (by creation, then factor id).
    func securityKeys(applicationID: ApplicationID, userID: UserID) async throws -> [SecurityKeyRecord]
    /// Records an accepted use: moves the key's counter from `expectedSignCount` to `signCount`
    /// and its last use to `date` (never back), compare-and-set on the counter, so that of two
    /// uses presenting counters at once only one moves it.
    /// - Returns: `false` when the key is gone or its counter is no longer `expectedSignCount`.
    func recordSecurityKeyUse(_ factorID: FactorID, expectedSignCount: UInt32, signCount: UInt32, at date: Date) async throws -> Bool
    /// Flags the key as possibly cloned at `date`, keeping the earlier flag if it has one. An
    /// unknown key is left alone.
    func flagSecurityKey(_ factorID: FactorID, at date: Date) async throws
}
