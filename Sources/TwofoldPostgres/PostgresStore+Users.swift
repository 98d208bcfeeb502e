import Foundation
import PostgresNIO
import TwofoldCore

extension PostgresStore {
    /// Serialises this transaction with every other that changes what an attempt of the user
    /// reads or writes: a transaction-scoped advisory lock on a 64-bit hash of (application, user).
    /// Unlike a row lock it needs no row, so attempts by users with nothing stored leave nothing
    /// behind. Two users whose hashes collide merely wait for each other.
    func lockUser(_ applicationID: ApplicationID, _ userID: UserID, on connection: PostgresConnection) async throws {
        try await connection.run(UserLockStatement(applicationID, userID), logger: logger)
    }

    public func throttleState(applicationID: ApplicationID, userID: UserID) async throws -> ThrottleState? {
        try await withConnection("read the throttle state") { [self] connection in
            try await connection.rows("""
                SELECT failures, locked_until FROM user_state WHERE app_id = \(applicationID.rawValue) AND user_id = \(userID.rawValue)
                """, logger: logger).first.map { row in
                let (failures, lockedUntil) = try row.decode((Int, Int64?).self)
                return ThrottleState(failures: failures, lockedUntil: PostgresColumn.date(lockedUntil))
            }
        }
    }

    public func storesAnything(applicationID: ApplicationID, userID: UserID) async throws -> Bool {
        try await withConnection("look for the user") { [self] connection in
            try await storesAnything(applicationID, userID, on: connection)
        }
    }

    /// Whether any of the four tables that make a user (``UserStore``) has a row of theirs.
    func storesAnything(_ applicationID: ApplicationID, _ userID: UserID, on connection: PostgresConnection) async throws -> Bool {
        try await connection.rows("""
            SELECT EXISTS (SELECT 1 FROM factors WHERE app_id = \(applicationID.rawValue) AND user_id = \(userID.rawValue))
                OR EXISTS (SELECT 1 FROM recovery_codes WHERE app_id = \(applicationID.rawValue) AND user_id = \(userID.rawValue))
                OR EXISTS (SELECT 1 FROM user_state WHERE app_id = \(applicationID.rawValue) AND user_id = \(userID.rawValue))
                OR EXISTS (SELECT 1 FROM data_keys WHERE app_id = \(applicationID.rawValue) AND user_id = \(userID.rawValue))
            """, logger: logger).first.map { try $0.decode(Bool.self) } ?? false
    }

    /// Holds the user's lock, then checks that the user exists and deletes their factors (with
    /// their push devices and security keys), recovery codes and challenges (the counts are the
    /// first two).
    public func resetUser(applicationID: ApplicationID, userID: UserID, audit: AuditAppend) async throws -> (factors: Int, recoveryCodes: Int)? {
        try await transaction("reset the user") { [self] connection in
            try await lockUser(applicationID, userID, on: connection)
            guard try await storesAnything(applicationID, userID, on: connection) else { return nil }
            let counts = try await connection.rows("""
                WITH deleted_factors AS (
                    DELETE FROM factors WHERE app_id = \(applicationID.rawValue) AND user_id = \(userID.rawValue) RETURNING 1
                ), tokens AS (
                    UPDATE hardware_tokens AS t SET \(unescaped: Self.handBack)
                    WHERE t.app_id = \(applicationID.rawValue) AND t.user_id = \(userID.rawValue)
                ), codes AS (
                    DELETE FROM recovery_codes WHERE app_id = \(applicationID.rawValue) AND user_id = \(userID.rawValue) RETURNING 1
                ), challenges AS (
                    DELETE FROM challenges WHERE app_id = \(applicationID.rawValue) AND user_id = \(userID.rawValue)
                ), devices AS (
                    DELETE FROM push_devices WHERE app_id = \(applicationID.rawValue) AND user_id = \(userID.rawValue)
                ), keys AS (
                    DELETE FROM security_keys WHERE app_id = \(applicationID.rawValue) AND user_id = \(userID.rawValue)
                )
                SELECT (SELECT count(*) FROM deleted_factors), (SELECT count(*) FROM codes)
                """, logger: logger).first.map { try $0.decode((Int, Int).self) } ?? (0, 0)
            try await appendAudit(audit, on: connection)
            return (factors: counts.0, recoveryCodes: counts.1)
        }
    }

    /// Holds the user's lock, then checks that the user exists and unlocks.
    public func unlockUser(applicationID: ApplicationID, userID: UserID, audit: AuditAppend) async throws -> Bool {
        try await transaction("unlock the user") { [self] connection in
            try await lockUser(applicationID, userID, on: connection)
            guard try await storesAnything(applicationID, userID, on: connection) else { return false }
            try await connection.run("""
                DELETE FROM user_state WHERE app_id = \(applicationID.rawValue) AND user_id = \(userID.rawValue)
                """, logger: logger)
            try await appendAudit(audit, on: connection)
            return true
        }
    }

    /// Deletes the user's throttle state, factors, push devices, security keys, recovery codes, data
    /// key and challenges; appends `audit` only when a row was deleted or an event named the user.
    public func eraseUser(applicationID: ApplicationID, userID: UserID, audit: AuditAppend) async throws -> Bool {
        try await transaction("erase the user") { [self] connection in
            try await lockUser(applicationID, userID, on: connection)
            let deleted = try await connection.rows("""
                WITH state AS (
                    DELETE FROM user_state WHERE app_id = \(applicationID.rawValue) AND user_id = \(userID.rawValue) RETURNING 1
                ), deleted_factors AS (
                    DELETE FROM factors WHERE app_id = \(applicationID.rawValue) AND user_id = \(userID.rawValue) RETURNING 1
                ), tokens AS (
                    UPDATE hardware_tokens AS t SET \(unescaped: Self.handBack)
                    WHERE t.app_id = \(applicationID.rawValue) AND t.user_id = \(userID.rawValue) RETURNING 1
                ), codes AS (
                    DELETE FROM recovery_codes WHERE app_id = \(applicationID.rawValue) AND user_id = \(userID.rawValue) RETURNING 1
                ), wrapped AS (
                    DELETE FROM data_keys WHERE app_id = \(applicationID.rawValue) AND user_id = \(userID.rawValue) RETURNING 1
                ), challenges AS (
                    DELETE FROM challenges WHERE app_id = \(applicationID.rawValue) AND user_id = \(userID.rawValue) RETURNING 1
                ), devices AS (
                    DELETE FROM push_devices WHERE app_id = \(applicationID.rawValue) AND user_id = \(userID.rawValue) RETURNING 1
                ), keys AS (
                    DELETE FROM security_keys WHERE app_id = \(applicationID.rawValue) AND user_id = \(userID.rawValue) RETURNING 1
                )
                SELECT (SELECT count(*) FROM state) + (SELECT count(*) FROM deleted_factors) + (SELECT count(*) FROM codes)
                    + (SELECT count(*) FROM wrapped) + (SELECT count(*) FROM challenges) + (SELECT count(*) FROM devices)
                    + (SELECT count(*) FROM keys) + (SELECT count(*) FROM tokens)
                """, logger: logger).first.map { try $0.decode(Int.self) } ?? 0
            if deleted == 0 {
                // Nothing stored: erase only if an event still names the user, and otherwise
                // leave even the audit shard's head row unwritten.
                let named = try await connection.rows("""
                    SELECT EXISTS (SELECT 1 FROM audit_events WHERE app_id = \(applicationID.rawValue) AND user_id = \(userID.rawValue))
                    """, logger: logger).first.map { try $0.decode(Bool.self) } ?? false
                guard named else { return false }
            }
            // The user's events are all in the erasure event's shard: hold its head first, as a
            // purge does, so the two never wait for each other in opposite orders.
            let head = try await lockAuditHead(for: audit, on: connection)
            // `UPDATE audit_events SET user_id = NULL` for the user's events, in a function the
            // runtime role may call without UPDATE on the table (migration 6).
            try await connection.run("""
                SELECT twofold_erase_audit_user(\(applicationID.rawValue), \(userID.rawValue))
                """, logger: logger)
            try await writeAudit(audit, after: head, on: connection)
            return true
        }
    }

    public func users(applicationID: ApplicationID) async throws -> [UserID] {
        let ids = try await withConnection("list users") { [self] connection in
            try await connection.rows("""
                SELECT user_id FROM data_keys WHERE app_id = \(applicationID.rawValue)
                UNION SELECT user_id FROM user_state WHERE app_id = \(applicationID.rawValue)
                UNION SELECT user_id FROM factors WHERE app_id = \(applicationID.rawValue)
                UNION SELECT user_id FROM recovery_codes WHERE app_id = \(applicationID.rawValue)
                """, logger: logger).map { try Self.userID(try $0.decode(String.self)) }
        }
        // Sorted here: the database's collation need not be Swift's order.
        return ids.sorted()
    }
}
