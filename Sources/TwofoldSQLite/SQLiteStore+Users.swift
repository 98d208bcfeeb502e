import Foundation
import GRDB
import TwofoldCore

extension SQLiteStore {
    public func throttleState(applicationID: ApplicationID, userID: UserID) async throws -> ThrottleState? {
        try await read("read a throttle state") { db in
            try Self.throttleState(applicationID, userID, db)
        }
    }

    static func throttleState(_ applicationID: ApplicationID, _ userID: UserID, _ db: Database) throws -> ThrottleState? {
        try db.fetchRow(sql: "SELECT failures, locked_until FROM user_state WHERE app_id = ? AND user_id = ?",
                         arguments: [applicationID.rawValue, userID.rawValue]).map { row in
            ThrottleState(failures: try row.decode(Int.self, forColumn: "failures"),
                          lockedUntil: try SQLiteCoding.optionalDate(row, "locked_until"))
        }
    }

    public func storesAnything(applicationID: ApplicationID, userID: UserID) async throws -> Bool {
        try await read("look for a user") { db in
            try Self.storesAnything(applicationID, userID, db)
        }
    }

    /// Whether any of the four tables that make a user (``UserStore``) has a row of theirs.
    static func storesAnything(_ applicationID: ApplicationID, _ userID: UserID, _ db: Database) throws -> Bool {
        try Bool.fetchOne(db, sql: """
            SELECT EXISTS (SELECT 1 FROM factors WHERE app_id = ?1 AND user_id = ?2)
                OR EXISTS (SELECT 1 FROM recovery_codes WHERE app_id = ?1 AND user_id = ?2)
                OR EXISTS (SELECT 1 FROM user_state WHERE app_id = ?1 AND user_id = ?2)
                OR EXISTS (SELECT 1 FROM data_keys WHERE app_id = ?1 AND user_id = ?2)
            """, arguments: [applicationID.rawValue, userID.rawValue]) ?? false
    }

    /// Checks that the user exists and deletes their factors (with their push devices and
    /// security keys), recovery codes and challenges, in one write transaction.
    public func resetUser(applicationID: ApplicationID, userID: UserID, audit: AuditAppend) async throws -> (factors: Int, recoveryCodes: Int)? {
        try await write("reset a user") { db in
            guard try Self.storesAnything(applicationID, userID, db) else { return nil }
            let arguments: StatementArguments = [applicationID.rawValue, userID.rawValue]
            try Self.returnHardwareTokens(applicationID.rawValue, userID.rawValue, db)
            try db.run(sql: "DELETE FROM factors WHERE app_id = ? AND user_id = ?", arguments: arguments)
            let factors = db.changesCount
            try db.run(sql: "DELETE FROM recovery_codes WHERE app_id = ? AND user_id = ?", arguments: arguments)
            let recoveryCodes = db.changesCount
            try db.run(sql: "DELETE FROM challenges WHERE app_id = ? AND user_id = ?", arguments: arguments)
            try db.run(sql: "DELETE FROM push_devices WHERE app_id = ? AND user_id = ?", arguments: arguments)
            try db.run(sql: "DELETE FROM security_keys WHERE app_id = ? AND user_id = ?", arguments: arguments)
            try Self.appendAudit(audit, db)
            return (factors, recoveryCodes)
        }
    }

    /// Checks that the user exists and unlocks, in one write transaction.
    public func unlockUser(applicationID: ApplicationID, userID: UserID, audit: AuditAppend) async throws -> Bool {
        try await write("unlock a user") { db in
            guard try Self.storesAnything(applicationID, userID, db) else { return false }
            try db.run(sql: "DELETE FROM user_state WHERE app_id = ? AND user_id = ?",
                           arguments: [applicationID.rawValue, userID.rawValue])
            try Self.appendAudit(audit, db)
            return true
        }
    }

    /// Deletes the user's factors, push devices, security keys, challenges, recovery codes, throttle
    /// state and data key, removes their id from audit events (the pseudonym stays), then appends
    /// `audit`, in one transaction; appends nothing when none of that changed a row.
    public func eraseUser(applicationID: ApplicationID, userID: UserID, audit: AuditAppend) async throws -> Bool {
        try await write("erase a user") { db in
            let arguments: StatementArguments = [applicationID.rawValue, userID.rawValue]
            var changed = 0
            try Self.returnHardwareTokens(applicationID.rawValue, userID.rawValue, db)
            changed += db.changesCount
            for table in ["factors", "push_devices", "security_keys", "challenges", "recovery_codes", "user_state", "data_keys"] {
                try db.run(sql: "DELETE FROM \(table) WHERE app_id = ? AND user_id = ?", arguments: arguments)
                changed += db.changesCount
            }
            try db.run(sql: "UPDATE audit_events SET user_id = NULL WHERE app_id = ? AND user_id = ?", arguments: arguments)
            changed += db.changesCount
            guard changed > 0 else { return false }
            try Self.appendAudit(audit, db)
            return true
        }
    }

    /// Users with a data key, a factor, recovery codes or a throttle state, sorted as ``UserID`` sorts.
    public func users(applicationID: ApplicationID) async throws -> [UserID] {
        try await read("list users") { db in
            try String.fetchAll(db, sql: """
                SELECT user_id FROM data_keys WHERE app_id = ?1
                UNION SELECT user_id FROM factors WHERE app_id = ?1
                UNION SELECT user_id FROM recovery_codes WHERE app_id = ?1
                UNION SELECT user_id FROM user_state WHERE app_id = ?1
                """, arguments: [applicationID.rawValue]).map(SQLiteCoding.userID).sorted()
        }
    }
}
