import Foundation
import GRDB
import TwofoldCore

/// Hardware tokens (``HardwareTokenStore``): each application's pool of OATH tokens.
extension SQLiteStore {
    /// One write transaction: every row, then the event; a serial already there rolls all back.
    public func insertHardwareTokens(_ tokens: [HardwareTokenRecord], audit: AuditAppend) async throws {
        let rows = tokens.map(SQLiteCoding.values)
        try await write("import hardware tokens") { db in
            for (token, row) in zip(tokens, rows) {
                do {
                    try db.directRun("INSERT INTO hardware_tokens (\(SQLiteCoding.hardwareTokenColumns)) VALUES (\(Self.hardwareTokenParameters))", row)
                } catch let error as DatabaseError
                            where error.extendedResultCode == .SQLITE_CONSTRAINT_PRIMARYKEY || error.extendedResultCode == .SQLITE_CONSTRAINT_UNIQUE {
                    throw TwofoldError(.conflict, "a hardware token with serial \(token.serial) is in the application's pool")
                }
            }
            try Self.appendAudit(audit, db)
        }
    }

    private static let hardwareTokenParameters = Array(repeating: "?", count: 13).joined(separator: ", ")

    /// By serial in byte order (SQLite's BINARY collation).
    public func hardwareTokens(applicationID: ApplicationID, unassignedOnly: Bool) async throws -> [HardwareTokenRecord] {
        try await read("list hardware tokens") { db in
            try db.directFetchAll("""
                SELECT \(SQLiteCoding.hardwareTokenColumns) FROM hardware_tokens
                WHERE app_id = ? AND (? = 0 OR factor_id IS NULL) ORDER BY serial
                """, [.text(applicationID.rawValue), .integer(unassignedOnly ? 1 : 0)], SQLiteCoding.hardwareToken)
        }
    }

    /// The token's compare-and-set `UPDATE` (still unassigned), then the factor and the event,
    /// in one write transaction.
    public func assignHardwareToken(applicationID: ApplicationID, serial: String, factor: FactorRecord, at date: Date,
                                    audit: AuditAppend) async throws -> Bool {
        try await write("assign a hardware token") { db in
            try db.directRun("""
                UPDATE hardware_tokens SET user_id = ?1, factor_id = ?2, assigned_at = ?3
                WHERE app_id = ?4 AND serial = ?5 AND factor_id IS NULL
                """, [.text(factor.userID.rawValue), .text(factor.id.rawValue), .integer(StoredTime.milliseconds(date)),
                      .text(applicationID.rawValue), .text(serial)])
            guard db.changesCount == 1 else { return false }
            try Self.insert(factor, db)
            try Self.appendAudit(audit, db)
            return true
        }
    }

    /// Hands the token back (counter carried) and deletes its factor, its challenges and its
    /// event together.
    public func unassignHardwareToken(applicationID: ApplicationID, serial: String, audit: AuditAppend) async throws -> Bool {
        try await write("unassign a hardware token") { db in
            guard let assigned = try db.directFetchOne("""
                SELECT user_id, factor_id FROM hardware_tokens WHERE app_id = ? AND serial = ? AND factor_id IS NOT NULL
                """, [.text(applicationID.rawValue), .text(serial)], { row in (try row.text(0), try row.text(1)) }) else {
                return false
            }
            try Self.deleteTokenFactor(applicationID, userID: assigned.0, factorID: assigned.1, at: audit.draft.time, db)
            try Self.appendAudit(audit, db)
            return true
        }
    }

    /// Deletes the token, and its factor first when assigned, with the event.
    public func deleteHardwareToken(applicationID: ApplicationID, serial: String, audit: AuditAppend) async throws -> Bool {
        try await write("delete a hardware token") { db in
            guard let assigned = try db.directFetchOne("""
                SELECT user_id, factor_id FROM hardware_tokens WHERE app_id = ? AND serial = ?
                """, [.text(applicationID.rawValue), .text(serial)], { row in (try row.optionalText(0), try row.optionalText(1)) }) else {
                return false
            }
            if let userID = assigned.0, let factorID = assigned.1 {
                try Self.deleteTokenFactor(applicationID, userID: userID, factorID: factorID, at: audit.draft.time, db)
            }
            try db.directRun("DELETE FROM hardware_tokens WHERE app_id = ? AND serial = ?", [.text(applicationID.rawValue), .text(serial)])
            try Self.appendAudit(audit, db)
            return true
        }
    }

    /// Hands the token back and deletes the factor it was, with the factor's open challenges.
    private static func deleteTokenFactor(_ applicationID: ApplicationID, userID: String, factorID: String, at time: Date, _ db: Database) throws {
        try returnHardwareTokens(applicationID.rawValue, userID, factorID: factorID, db)
        try db.directRun("DELETE FROM factors WHERE app_id = ? AND user_id = ? AND id = ?",
                         [.text(applicationID.rawValue), .text(userID), .text(factorID)])
        // The factor id was written by Twofold when it assigned the token.
        if let id = FactorID(rawValue: factorID), let user = try? UserID(userID) {
            try cancelChallenges(of: id, applicationID, user, at: time, db)
        }
    }

    /// Hands back to the pool the tokens assigned to the user's factors (only `factorID`'s when
    /// given), before those factors are deleted in the same transaction: an HOTP token's next
    /// counter becomes one past its factor's last accepted one.
    static func returnHardwareTokens(_ applicationID: String, _ userID: String, factorID: String? = nil, _ db: Database) throws {
        try db.directRun("""
            UPDATE hardware_tokens SET
                counter = CASE WHEN type = 'hotp' THEN MAX(counter, COALESCE(
                    (SELECT CASE WHEN f.last_step < 9223372036854775807 THEN f.last_step + 1 ELSE f.last_step END
                     FROM factors AS f WHERE f.app_id = ?1 AND f.user_id = ?2 AND f.id = hardware_tokens.factor_id), counter))
                    ELSE counter END,
                user_id = NULL, factor_id = NULL, assigned_at = NULL
            WHERE app_id = ?1 AND user_id = ?2 AND factor_id IS NOT NULL AND (?3 IS NULL OR factor_id = ?3)
            """, [.text(applicationID), .text(userID), .optional(factorID)])
    }
}
