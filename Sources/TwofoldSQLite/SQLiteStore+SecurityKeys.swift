import Foundation
import GRDB
import TwofoldCore

/// Security keys (``SecurityKeyStore``): the registered credential of each `webauthn` factor.
extension SQLiteStore {
    /// One compare-and-set `UPDATE` of the factor's sealed secret (the user's, `webauthn`,
    /// pending and without a key, tested in the statement that writes), then the key and the
    /// event, in one write transaction: of concurrent callers the first to reach the writer
    /// wins, and the others find the key there.
    /// - Throws: `conflict` when a key of the application has the credential id (and then
    ///   nothing was written, the factor's secret included).
    public func attachSecurityKey(_ key: SecurityKeyRecord, sealedSecret: [UInt8], audit: AuditAppend) async throws -> Bool {
        let row = try SQLiteCoding.values(key)
        return try await write("attach a security key") { db in
            try db.directRun("""
                UPDATE factors SET sealed_secret = ?1
                WHERE app_id = ?2 AND user_id = ?3 AND id = ?4 AND type = 'webauthn' AND status = 'pending'
                  AND NOT EXISTS (SELECT 1 FROM security_keys WHERE factor_id = ?4)
                """, [.blob(sealedSecret), .text(key.applicationID.rawValue), .text(key.userID.rawValue), .text(key.factorID.rawValue)])
            guard db.changesCount == 1 else { return false }
            do {
                try db.directRun("INSERT INTO security_keys (\(SQLiteCoding.securityKeyColumns)) VALUES (\(Self.securityKeyParameters))", row)
            } catch let error as DatabaseError where error.extendedResultCode == .SQLITE_CONSTRAINT_UNIQUE {
                throw TwofoldError(.conflict, "a security key with this credential id is registered in application \(key.applicationID)")
            }
            try Self.appendAudit(audit, db)
            return true
        }
    }

    private static let securityKeyParameters = Array(repeating: "?", count: 11).joined(separator: ", ")

    /// Oldest first: creation time, then factor id in byte order.
    public func securityKeys(applicationID: ApplicationID, userID: UserID) async throws -> [SecurityKeyRecord] {
        try await read("list security keys") { db in
            try db.directFetchAll("""
                SELECT \(SQLiteCoding.securityKeyColumns) FROM security_keys WHERE app_id = ? AND user_id = ? ORDER BY created_at, factor_id
                """, [.text(applicationID.rawValue), .text(userID.rawValue)], SQLiteCoding.securityKey)
        }
    }

    /// One `UPDATE`, a compare-and-set on the counter, keeping the later last use.
    public func recordSecurityKeyUse(_ factorID: FactorID, expectedSignCount: UInt32, signCount: UInt32, at date: Date) async throws -> Bool {
        try await write("record a security key's use") { db in
            try db.directRun("""
                UPDATE security_keys SET sign_count = ?1, last_used_at = MAX(COALESCE(last_used_at, ?2), ?2)
                WHERE factor_id = ?3 AND sign_count = ?4
                """, [.integer(Int64(signCount)), .integer(StoredTime.milliseconds(date)), .text(factorID.rawValue),
                      .integer(Int64(expectedSignCount))])
            return db.changesCount == 1
        }
    }

    /// One `UPDATE` keeping the earlier time.
    public func flagSecurityKey(_ factorID: FactorID, at date: Date) async throws {
        try await write("flag a security key") { db in
            try db.directRun("UPDATE security_keys SET flagged_at = MIN(COALESCE(flagged_at, ?1), ?1) WHERE factor_id = ?2",
                             [.integer(StoredTime.milliseconds(date)), .text(factorID.rawValue)])
        }
    }
}
