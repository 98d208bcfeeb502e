import Foundation
import PostgresNIO
import TwofoldCore

extension PostgresStore {
    public func insertFactor(_ factor: FactorRecord, audit: AuditAppend) async throws {
        try await transaction("enroll factor \(factor.id)") { [self] connection in
            try await connection.run(Self.insertFactor(factor), logger: logger)
            try await appendAudit(audit, on: connection)
        }
    }

    static func insertFactor(_ factor: FactorRecord) -> PostgresQuery {
        """
        INSERT INTO factors (\(unescaped: factorColumns))
        VALUES (\(factor.id.rawValue), \(factor.applicationID.rawValue), \(factor.userID.rawValue), \(factor.type.rawValue),
                \(factor.status.rawValue), \(StoredTime.milliseconds(factor.createdAt)),
                \(factor.activatedAt.map(StoredTime.milliseconds)), \(factor.expiresAt.map(StoredTime.milliseconds)),
                \(factor.label), \(factor.issuer), \(factor.algorithm.rawValue), \(factor.digits), \(factor.period),
                \(PostgresColumn.bytes(factor.sealedSecret)), \(factor.lastAcceptedStep.map(StoredStep.stored)), \(factor.drift))
        """
    }

    public func factors(applicationID: ApplicationID, userID: UserID) async throws -> [FactorRecord] {
        try await withConnection("read factors") { [self] connection in
            try await connection.rows("""
                SELECT \(unescaped: Self.factorColumns) FROM factors
                WHERE app_id = \(applicationID.rawValue) AND user_id = \(userID.rawValue)
                ORDER BY created_at, id
                """, logger: logger).map(Self.factor)
        }
    }

    /// Under the user's lock, the factor's pending challenges end `canceled` (`factor_deleted`) at
    /// the event's time, and its push device or security key is deleted, in the same statement.
    public func deleteFactor(applicationID: ApplicationID, userID: UserID, factorID: FactorID, audit: AuditAppend) async throws -> Bool {
        try await transaction("delete factor \(factorID)") { [self] connection in
            try await lockUser(applicationID, userID, on: connection)
            let deleted = try await connection.rows("""
                WITH deleted AS (
                    DELETE FROM factors WHERE id = \(factorID.rawValue) AND app_id = \(applicationID.rawValue) AND user_id = \(userID.rawValue)
                    RETURNING 1
                ), tokens AS (
                    UPDATE hardware_tokens AS t SET \(unescaped: Self.handBack)
                    WHERE EXISTS (SELECT FROM deleted) AND t.app_id = \(applicationID.rawValue) AND t.factor_id = \(factorID.rawValue)
                ), canceled AS (
                    UPDATE challenges
                    SET status = 'canceled', reason = \(ChallengeReason.factorDeleted.rawValue),
                        finished_at = \(StoredTime.milliseconds(audit.draft.time))
                    WHERE EXISTS (SELECT FROM deleted) AND app_id = \(applicationID.rawValue) AND user_id = \(userID.rawValue)
                      AND status = 'pending' AND factor_id = \(factorID.rawValue)
                ), devices AS (
                    DELETE FROM push_devices
                    WHERE EXISTS (SELECT FROM deleted) AND factor_id = \(factorID.rawValue)
                      AND app_id = \(applicationID.rawValue) AND user_id = \(userID.rawValue)
                ), keys AS (
                    DELETE FROM security_keys
                    WHERE EXISTS (SELECT FROM deleted) AND factor_id = \(factorID.rawValue)
                      AND app_id = \(applicationID.rawValue) AND user_id = \(userID.rawValue)
                )
                SELECT 1 FROM deleted
                """, logger: logger).count == 1
            if deleted {
                try await appendAudit(audit, on: connection)
            }
            return deleted
        }
    }

    /// One statement deletes the factors and their push devices, a second their security keys, in
    /// one transaction.
    ///
    /// Why a second statement: a key is added to a factor that already exists
    /// (``attachSecurityKey(_:sealedSecret:audit:)``), unlike a push device, which comes with its
    /// factor. A purge that waited for such a registration's lock on the factor's row deletes
    /// the factor all the same, but its own statement would not see the key, which committed
    /// after the statement began; the next statement does.
    public func deleteExpiredPendingFactors(before date: Date) async throws -> Int {
        try await transaction("delete expired enrollments") { [self] connection in
            let deleted = try await connection.rows("""
                WITH deleted AS (
                    DELETE FROM factors WHERE status = 'pending' AND expires_at < \(StoredTime.milliseconds(date)) RETURNING id
                ), devices AS (
                    DELETE FROM push_devices WHERE factor_id IN (SELECT id FROM deleted)
                )
                SELECT id FROM deleted
                """, logger: logger).map { try $0.decode(String.self) }
            if !deleted.isEmpty {
                try await connection.run("DELETE FROM security_keys WHERE factor_id = ANY(\(deleted))", logger: logger)
            }
            return deleted.count
        }
    }

    // MARK: Recovery codes

    /// Holds the user's lock, then checks for an active factor and replaces.
    @discardableResult
    public func replaceRecoveryCodes(applicationID: ApplicationID, userID: UserID, codes: [RecoveryCodeRecord], audit: AuditAppend) async throws -> Bool {
        try await transaction("replace recovery codes") { [self] connection in
            try await lockUser(applicationID, userID, on: connection)
            let hasActiveFactor = try await connection.rows("""
                SELECT EXISTS (SELECT 1 FROM factors WHERE app_id = \(applicationID.rawValue) AND user_id = \(userID.rawValue)
                                                        AND status = 'active')
                """, logger: logger).first.map { try $0.decode(Bool.self) } ?? false
            guard hasActiveFactor else { return false }
            try await connection.run("""
                DELETE FROM recovery_codes WHERE app_id = \(applicationID.rawValue) AND user_id = \(userID.rawValue)
                """, logger: logger)
            if !codes.isEmpty {
                try await connection.run(Self.insertRecoveryCodes(applicationID, userID, codes), logger: logger)
            }
            try await appendAudit(audit, on: connection)
            return true
        }
    }

    public func recoveryCodes(applicationID: ApplicationID, userID: UserID) async throws -> [RecoveryCodeRecord] {
        try await withConnection("read recovery codes") { [self] connection in
            try await connection.rows("""
                SELECT idx, hash, created_at, used_at FROM recovery_codes
                WHERE app_id = \(applicationID.rawValue) AND user_id = \(userID.rawValue)
                ORDER BY idx
                """, logger: logger).map { row in
                let (index, hash, createdAt, usedAt) = try row.decode((Int, ByteBuffer, Int64, Int64?).self)
                return RecoveryCodeRecord(index: index, hash: PostgresColumn.bytes(hash), createdAt: PostgresColumn.date(createdAt),
                                          usedAt: PostgresColumn.date(usedAt))
            }
        }
    }

    /// One INSERT for the whole set, each value a bound parameter.
    private static func insertRecoveryCodes(_ applicationID: ApplicationID, _ userID: UserID, _ codes: [RecoveryCodeRecord]) -> PostgresQuery {
        var bindings = PostgresBindings(capacity: codes.count * 6)
        var rows: [String] = []
        for code in codes {
            let first = bindings.count + 1
            bindings.append(applicationID.rawValue)
            bindings.append(userID.rawValue)
            bindings.append(code.index)
            bindings.append(PostgresColumn.bytes(code.hash))
            bindings.append(StoredTime.milliseconds(code.createdAt))
            bindings.append(code.usedAt.map(StoredTime.milliseconds))
            rows.append("(" + (first..<first + 6).map { "$\($0)" }.joined(separator: ", ") + ")")
        }
        return PostgresQuery(
            unsafeSQL: "INSERT INTO recovery_codes (app_id, user_id, idx, hash, created_at, used_at) VALUES " + rows.joined(separator: ", "),
            binds: bindings)
    }
}
