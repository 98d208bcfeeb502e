import Foundation
import GRDB
import TwofoldCore

extension SQLiteStore {
    /// - Throws: `conflict` when a factor has that id.
    public func insertFactor(_ factor: FactorRecord, audit: AuditAppend) async throws {
        try await write("insert a factor") { db in
            try Self.insert(factor, db)
            try Self.appendAudit(audit, db)
        }
    }

    /// Inserts `factor` after the user's other factors (`seq`), inside the current transaction.
    /// - Throws: `conflict` when a factor has that id.
    static func insert(_ factor: FactorRecord, _ db: Database) throws {
        do {
            try db.run(
                sql: """
                    INSERT INTO factors (id, app_id, user_id, type, status, created_at, activated_at, expires_at, label,
                                         issuer, algorithm, digits, period, sealed_secret, last_step, drift, seq)
                    VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16,
                            (SELECT COALESCE(MAX(seq), 0) + 1 FROM factors WHERE app_id = ?2 AND user_id = ?3))
                    """,
                arguments: [
                    factor.id.rawValue, factor.applicationID.rawValue, factor.userID.rawValue, factor.type.rawValue,
                    factor.status.rawValue, StoredTime.milliseconds(factor.createdAt),
                    factor.activatedAt.map(StoredTime.milliseconds), factor.expiresAt.map(StoredTime.milliseconds),
                    factor.label, factor.issuer, factor.algorithm.rawValue, factor.digits, factor.period,
                    SQLiteCoding.blob(factor.sealedSecret), factor.lastAcceptedStep.map(StoredStep.stored),
                    factor.drift,
                ])
        } catch let error as DatabaseError
                    where error.extendedResultCode == .SQLITE_CONSTRAINT_UNIQUE || error.extendedResultCode == .SQLITE_CONSTRAINT_PRIMARYKEY {
            throw TwofoldError(.conflict, "a factor with id \(factor.id) exists")
        }
    }

    /// Oldest first (creation time, then insertion order).
    public func factors(applicationID: ApplicationID, userID: UserID) async throws -> [FactorRecord] {
        try await read("list factors") { db in
            try db.directFetchAll("SELECT \(SQLiteCoding.factorColumns) FROM factors WHERE app_id = ? AND user_id = ? ORDER BY created_at, seq",
                                  [.text(applicationID.rawValue), .text(userID.rawValue)], SQLiteCoding.factor)
        }
    }

    /// Deletes the factor's push device or security key, cancels its pending challenges (finished
    /// at the event's time) and appends `audit`, only when the factor existed: nothing changed
    /// otherwise.
    public func deleteFactor(applicationID: ApplicationID, userID: UserID, factorID: FactorID, audit: AuditAppend) async throws -> Bool {
        try await write("delete a factor") { db in
            try Self.returnHardwareTokens(applicationID.rawValue, userID.rawValue, factorID: factorID.rawValue, db)
            try db.run(sql: "DELETE FROM factors WHERE id = ? AND app_id = ? AND user_id = ?",
                           arguments: [factorID.rawValue, applicationID.rawValue, userID.rawValue])
            guard db.changesCount > 0 else { return false }
            for table in ["push_devices", "security_keys"] {
                try db.directRun("DELETE FROM \(table) WHERE factor_id = ? AND app_id = ? AND user_id = ?",
                                 [.text(factorID.rawValue), .text(applicationID.rawValue), .text(userID.rawValue)])
            }
            try Self.cancelChallenges(of: factorID, applicationID, userID, at: audit.draft.time, db)
            try Self.appendAudit(audit, db)
            return true
        }
    }

    /// Deletes the factors' push devices and security keys too, in the same transaction.
    public func deleteExpiredPendingFactors(before date: Date) async throws -> Int {
        try await write("delete expired enrollments") { db in
            let cutoff = StoredTime.milliseconds(date)
            for table in ["push_devices", "security_keys"] {
                try db.directRun("""
                    DELETE FROM \(table) WHERE factor_id IN (SELECT id FROM factors WHERE status = 'pending' AND expires_at < ?)
                    """, [.integer(cutoff)])
            }
            try db.run(sql: "DELETE FROM factors WHERE status = 'pending' AND expires_at < ?", arguments: [cutoff])
            return db.changesCount
        }
    }

    // MARK: Recovery codes

    /// Checks for an active factor and replaces, in one write transaction.
    @discardableResult
    public func replaceRecoveryCodes(applicationID: ApplicationID, userID: UserID, codes: [RecoveryCodeRecord], audit: AuditAppend) async throws -> Bool {
        try await write("replace recovery codes") { db in
            let hasActiveFactor = try Bool.fetchOne(db, sql: """
                SELECT EXISTS (SELECT 1 FROM factors WHERE app_id = ? AND user_id = ? AND status = 'active')
                """, arguments: [applicationID.rawValue, userID.rawValue]) ?? false
            guard hasActiveFactor else { return false }
            try db.run(sql: "DELETE FROM recovery_codes WHERE app_id = ? AND user_id = ?",
                           arguments: [applicationID.rawValue, userID.rawValue])
            let insert = try db.cachedStatement(sql: """
                INSERT INTO recovery_codes (app_id, user_id, idx, hash, created_at, used_at) VALUES (?, ?, ?, ?, ?, ?)
                """)
            for code in codes {
                try insert.execute(arguments: [applicationID.rawValue, userID.rawValue, code.index, SQLiteCoding.blob(code.hash),
                                               StoredTime.milliseconds(code.createdAt), code.usedAt.map(StoredTime.milliseconds)])
            }
            try Self.appendAudit(audit, db)
            return true
        }
    }

    public func recoveryCodes(applicationID: ApplicationID, userID: UserID) async throws -> [RecoveryCodeRecord] {
        try await read("list recovery codes") { db in
            try db.directFetchAll("SELECT \(SQLiteCoding.recoveryCodeColumns) FROM recovery_codes WHERE app_id = ? AND user_id = ? ORDER BY idx",
                                  [.text(applicationID.rawValue), .text(userID.rawValue)], SQLiteCoding.recoveryCode)
        }
    }
}
