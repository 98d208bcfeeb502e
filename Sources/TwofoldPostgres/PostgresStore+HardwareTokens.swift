import Foundation
import PostgresNIO
import TwofoldCore
import TwofoldOTP

/// Hardware tokens (``HardwareTokenStore``): each application's pool of OATH tokens.
///
/// An assignment and a hand-back take the user's advisory lock first, as every change to a
/// user's factors does, so that they order with a reset or an erasure of that user.
extension PostgresStore {
    /// One transaction: every row, then the event; a serial already there rolls all back.
    public func insertHardwareTokens(_ tokens: [HardwareTokenRecord], audit: AuditAppend) async throws {
        try await transaction("import hardware tokens") { [self] connection in
            for token in tokens {
                do {
                    try await connection.run("""
                        INSERT INTO hardware_tokens (\(unescaped: Self.hardwareTokenColumns))
                        VALUES (\(token.applicationID.rawValue), \(token.serial), \(token.type.rawValue), \(token.algorithm.rawValue),
                                \(token.digits), \(token.period), \(StoredStep.stored(token.counter)), \(PostgresColumn.bytes(token.sealedSecret)),
                                \(token.manufacturer), \(StoredTime.milliseconds(token.importedAt)), \(token.userID?.rawValue),
                                \(token.factorID?.rawValue), \(token.assignedAt.map(StoredTime.milliseconds)))
                        """, logger: logger)
                } catch let error as PSQLError where error.serverInfo?[.sqlState] == "23505" {
                    throw TwofoldError(.conflict, "a hardware token with serial \(token.serial) is in the application's pool")
                }
            }
            try await appendAudit(audit, on: connection)
        }
    }

    /// By serial in byte order.
    public func hardwareTokens(applicationID: ApplicationID, unassignedOnly: Bool) async throws -> [HardwareTokenRecord] {
        try await withConnection("list hardware tokens") { [self] connection in
            try await connection.rows("""
                SELECT \(unescaped: Self.hardwareTokenColumns) FROM hardware_tokens
                WHERE app_id = \(applicationID.rawValue) AND (NOT \(unassignedOnly) OR factor_id IS NULL)
                ORDER BY serial COLLATE "C"
                """, logger: logger).map(Self.hardwareToken)
        }
    }

    /// Under the user's lock: the token's compare-and-set `UPDATE` (still unassigned), the
    /// factor, the event.
    public func assignHardwareToken(applicationID: ApplicationID, serial: String, factor: FactorRecord, at date: Date,
                                    audit: AuditAppend) async throws -> Bool {
        try await transaction("assign hardware token \(serial)") { [self] connection in
            try await lockUser(applicationID, factor.userID, on: connection)
            let assigned = try await connection.rows("""
                UPDATE hardware_tokens SET user_id = \(factor.userID.rawValue), factor_id = \(factor.id.rawValue),
                    assigned_at = \(StoredTime.milliseconds(date))
                WHERE app_id = \(applicationID.rawValue) AND serial = \(serial) AND factor_id IS NULL
                RETURNING 1
                """, logger: logger).count == 1
            guard assigned else { return false }
            try await connection.run(Self.insertFactor(factor), logger: logger)
            try await appendAudit(audit, on: connection)
            return true
        }
    }

    public func unassignHardwareToken(applicationID: ApplicationID, serial: String, audit: AuditAppend) async throws -> Bool {
        try await transaction("unassign hardware token \(serial)") { [self] connection in
            guard let (user, factorID) = try await assignment(applicationID, serial, on: connection), let user, let factorID else { return false }
            guard try await deleteTokenFactor(applicationID, user, factorID, serial: serial, at: audit.draft.time, on: connection) else {
                return false
            }
            try await appendAudit(audit, on: connection)
            return true
        }
    }

    public func deleteHardwareToken(applicationID: ApplicationID, serial: String, audit: AuditAppend) async throws -> Bool {
        try await transaction("delete hardware token \(serial)") { [self] connection in
            guard let (user, factorID) = try await assignment(applicationID, serial, on: connection) else { return false }
            if let user, let factorID {
                guard try await deleteTokenFactor(applicationID, user, factorID, serial: serial, at: audit.draft.time, on: connection) else {
                    return false
                }
            }
            let deleted = try await connection.rows("""
                DELETE FROM hardware_tokens WHERE app_id = \(applicationID.rawValue) AND serial = \(serial) RETURNING 1
                """, logger: logger).count == 1
            guard deleted else { return false }
            try await appendAudit(audit, on: connection)
            return true
        }
    }

    /// The user and factor the token is assigned to (`nil`s in the pool); `nil` for no such token.
    private func assignment(_ applicationID: ApplicationID, _ serial: String,
                            on connection: PostgresConnection) async throws -> (UserID?, FactorID?)? {
        guard let row = try await connection.rows("""
            SELECT user_id, factor_id FROM hardware_tokens WHERE app_id = \(applicationID.rawValue) AND serial = \(serial)
            """, logger: logger).first else { return nil }
        let (user, factor) = try row.decode((String?, String?).self)
        return (try user.map(Self.userID), try factor.map(Self.identifier))
    }

    /// Under the user's lock, one statement: hands the token back (its counter carried) and
    /// deletes its factor and cancels the factor's open challenges; `false` when the token was
    /// handed back meanwhile.
    private func deleteTokenFactor(_ applicationID: ApplicationID, _ userID: UserID, _ factorID: FactorID, serial: String, at time: Date,
                                   on connection: PostgresConnection) async throws -> Bool {
        try await lockUser(applicationID, userID, on: connection)
        return try await connection.rows("""
            WITH returned AS (
                UPDATE hardware_tokens AS t SET \(unescaped: Self.handBack)
                WHERE t.app_id = \(applicationID.rawValue) AND t.serial = \(serial) AND t.factor_id = \(factorID.rawValue)
                RETURNING 1
            ), deleted AS (
                DELETE FROM factors WHERE EXISTS (SELECT FROM returned)
                  AND id = \(factorID.rawValue) AND app_id = \(applicationID.rawValue) AND user_id = \(userID.rawValue)
            ), canceled AS (
                UPDATE challenges
                SET status = 'canceled', reason = \(ChallengeReason.factorDeleted.rawValue), finished_at = \(StoredTime.milliseconds(time))
                WHERE EXISTS (SELECT FROM returned) AND app_id = \(applicationID.rawValue) AND user_id = \(userID.rawValue)
                  AND status = 'pending' AND factor_id = \(factorID.rawValue)
            )
            SELECT 1 FROM returned
            """, logger: logger).count == 1
    }

    /// The `SET` list that hands a token (`t`) back to the pool, in a statement whose other
    /// parts delete its factor: they all read the factor as it was, so an HOTP token's next
    /// counter becomes one past the factor's last accepted one. (A statement using it must not
    /// name a CTE `factors`, which would hide the table.)
    static let handBack = """
        counter = CASE WHEN t.type = 'hotp' THEN GREATEST(t.counter, COALESCE(
                (SELECT CASE WHEN f.last_step < 9223372036854775807 THEN f.last_step + 1 ELSE f.last_step END
                 FROM factors AS f WHERE f.app_id = t.app_id AND f.user_id = t.user_id AND f.id = t.factor_id), t.counter))
            ELSE t.counter END,
        user_id = NULL, factor_id = NULL, assigned_at = NULL
        """

    // MARK: Rows

    static let hardwareTokenColumns = """
        app_id, serial, type, algorithm, digits, period, counter, sealed_secret, manufacturer, imported_at, user_id, factor_id, assigned_at
        """

    static func hardwareToken(_ row: PostgresRow) throws -> HardwareTokenRecord {
        let (app, serial, type, algorithm, digits, period, counter, sealed, manufacturer, importedAt, user, factor, assignedAt) = try row.decode(
            (String, String, String, String, Int, Int, Int64, ByteBuffer, String?, Int64, String?, String?, Int64?).self)
        return HardwareTokenRecord(
            applicationID: try identifier(app), serial: serial, type: try value(FactorType(rawValue: type), "hardware token type", type),
            algorithm: try value(OTPAlgorithm(rawValue: algorithm), "algorithm", algorithm), digits: digits, period: period,
            counter: StoredStep.step(stored: counter), sealedSecret: PostgresColumn.bytes(sealed), manufacturer: manufacturer,
            importedAt: PostgresColumn.date(importedAt), userID: try user.map(userID), factorID: try factor.map(identifier),
            assignedAt: PostgresColumn.date(assignedAt))
    }
}
