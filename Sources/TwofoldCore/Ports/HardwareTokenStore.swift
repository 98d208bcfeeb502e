import Foundation

/// The pool of hardware OATH tokens of each application.
///
/// A token's assignment goes with its factor: wherever a store deletes factors (one factor, a
/// reset, an erasure), it hands their tokens back to the pool in the same transaction, an HOTP
/// token's counter moved to one past the factor's last accepted counter (never back, and left
/// as it was when the factor accepted none).
public protocol HardwareTokenStore: Sendable {
    /// Inserts every token, with `audit`, in one transaction: all or none.
    /// - Throws: `conflict` naming a serial the application's pool already holds, or one the
    ///   batch repeats.
    func insertHardwareTokens(_ tokens: [HardwareTokenRecord], audit: AuditAppend) async throws
    /// The application's tokens by serial (byte order); only those in the pool when `unassignedOnly`.
    func hardwareTokens(applicationID: ApplicationID, unassignedOnly: Bool) async throws -> [HardwareTokenRecord]
    /// Assigns a token in the pool to `factor`'s user and inserts `factor` (active) with `audit`,
    /// in one transaction; a compare-and-set on the token being unassigned.
    /// - Returns: `false` when the serial is unknown or already assigned; then nothing was written.
    func assignHardwareToken(applicationID: ApplicationID, serial: String, factor: FactorRecord, at date: Date,
                             audit: AuditAppend) async throws -> Bool
    /// Hands an assigned token back to the pool: deletes its factor (its counter carried back)
    /// with `audit`, in one transaction.
    /// - Returns: `false` when the serial is unknown or not assigned; then nothing was written.
    func unassignHardwareToken(applicationID: ApplicationID, serial: String, audit: AuditAppend) async throws -> Bool
    /// Deletes a token, and its factor when assigned, with `audit`, in one transaction.
    /// - Returns: `false` when the serial is unknown; then nothing was written.
    func deleteHardwareToken(applicationID: ApplicationID, serial: String, audit: AuditAppend) async throws -> Bool
}
