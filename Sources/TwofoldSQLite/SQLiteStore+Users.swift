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

    public func resetUser(applicationID: ApplicationID, userID: UserID, audit: AuditAppend) async throws -> (factors: Int, recoveryCodes: Int) {
        try await write("reset a user") { db in
            let arguments: StatementArguments = [applicationID.rawValue, userID.rawValue]
            try db.run(sql: "DELETE FROM factors WHERE app_id = ? AND user_id = ?", arguments: arguments)
            let factors = db.changesCount
            try db.run(sql: "DELETE FROM recovery_codes WHERE app_id = ? AND user_id = ?", arguments: arguments)
            let recoveryCodes = db.changesCount
            try Self.appendAudit(audit, db)
            return (factors, recoveryCodes)
        }
    }

    public func unlockUser(applicationID: ApplicationID, userID: UserID, audit: AuditAppend) async throws {
        try await write("unlock a user") { db in
            try db.run(sql: "DELETE FROM user_state WHERE app_id = ? AND user_id = ?",
                           arguments: [applicationID.rawValue, userID.rawValue])
            try Self.appendAudit(audit, db)
        }
    }

    /// Deletes the user's factors, recovery codes, throttle state and data key, removes their id
    /// from audit events (the pseudonym stays), then appends `audit`, in one transaction.
    public func eraseUser(applicationID: ApplicationID, userID: UserID, audit: AuditAppend) async throws {
        try await write("erase a user") { db in
            let arguments: StatementArguments = [applicationID.rawValue, userID.rawValue]
            for table in ["factors", "recovery_codes", "user_state", "data_keys"] {
                try db.run(sql: "DELETE FROM \(table) WHERE app_id = ? AND user_id = ?", arguments: arguments)
            }
            try db.run(sql: "UPDATE audit_events SET user_id = NULL WHERE app_id = ? AND user_id = ?", arguments: arguments)
            try Self.appendAudit(audit, db)
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
