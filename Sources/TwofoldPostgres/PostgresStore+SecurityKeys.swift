import Foundation
import PostgresNIO
import TwofoldCore

/// Security keys (``SecurityKeyStore``): the registered credential of each `webauthn` factor.
///
/// Locks: the registration takes the user's advisory lock first, then the factor's row, then
/// the key's — the order of a factor's deletion, a reset and an erasure (user, factor, key) and
/// of the purge of lapsed enrollments (factor, key), so that none of them waits for another in
/// the opposite order.
extension PostgresStore {
    /// Under the user's lock, one statement: a compare-and-set `UPDATE` of the factor's sealed
    /// secret (the user's, `webauthn`, pending and without a key), and the key's `INSERT` only
    /// if it wrote; then the event. The lock is what makes the "without a key" part hold: each
    /// statement of a READ COMMITTED transaction sees what committed before it began, so a
    /// caller that waited for the lock sees the key of the one that held it (without it, a
    /// caller that waited only for the factor's row would still see no key, and fail on the
    /// key's primary key instead of returning `false`).
    /// - Throws: `conflict` when a key of the application has the credential id (and then
    ///   nothing was written, the factor's secret included).
    public func attachSecurityKey(_ key: SecurityKeyRecord, sealedSecret: [UInt8], audit: AuditAppend) async throws -> Bool {
        try await transaction("attach a security key to factor \(key.factorID)") { [self] connection in
            try await lockUser(key.applicationID, key.userID, on: connection)
            let counts: (Int, Int)
            do {
                counts = try await connection.rows("""
                    WITH factor AS (
                        UPDATE factors SET sealed_secret = \(PostgresColumn.bytes(sealedSecret))
                        WHERE id = \(key.factorID.rawValue) AND app_id = \(key.applicationID.rawValue) AND user_id = \(key.userID.rawValue)
                          AND type = \(FactorType.webauthn.rawValue) AND status = 'pending'
                          AND NOT EXISTS (SELECT FROM security_keys WHERE factor_id = \(key.factorID.rawValue))
                        RETURNING id
                    ), registered AS (
                        INSERT INTO security_keys (\(unescaped: Self.securityKeyColumns))
                        SELECT id, \(key.applicationID.rawValue), \(key.userID.rawValue), \(PostgresColumn.bytes(key.credentialID)),
                               \(PostgresColumn.bytes(key.aaguid)), \(key.transports)::TEXT[], \(key.attestationFormat),
                               \(Int64(key.signCount)), \(StoredTime.milliseconds(key.createdAt)),
                               \(key.lastUsedAt.map(StoredTime.milliseconds))::BIGINT, \(key.flaggedAt.map(StoredTime.milliseconds))::BIGINT
                        FROM factor
                        RETURNING 1
                    )
                    SELECT (SELECT count(*) FROM factor), (SELECT count(*) FROM registered)
                    """, logger: logger).first.map { try $0.decode((Int, Int).self) } ?? (0, 0)
            } catch let error as PSQLError where error.serverInfo?[.sqlState] == "23505"
                && error.serverInfo?[.constraintName] == "security_keys_app_id_credential_id_key" {
                throw TwofoldError(.conflict, "a security key with this credential id is registered in application \(key.applicationID)")
            }
            switch counts {
            case (0, 0):
                return false
            case (1, 1):
                try await appendAudit(audit, on: connection)
                return true
            default:
                // Thrown to roll the factor's update back.
                throw TwofoldError(.unavailable, "PostgreSQL could not attach a security key to factor \(key.factorID): it changed meanwhile")
            }
        }
    }

    /// Oldest first: creation time, then factor id in byte order.
    public func securityKeys(applicationID: ApplicationID, userID: UserID) async throws -> [SecurityKeyRecord] {
        try await withConnection("list security keys") { [self] connection in
            try await connection.rows("""
                SELECT \(unescaped: Self.securityKeyColumns) FROM security_keys
                WHERE app_id = \(applicationID.rawValue) AND user_id = \(userID.rawValue)
                ORDER BY created_at, factor_id COLLATE "C"
                """, logger: logger).map(Self.securityKey)
        }
    }

    /// One `UPDATE`, a compare-and-set on the counter, keeping the later last use: of concurrent
    /// callers on any node, the others wait for the first's row lock, then find the counter moved.
    public func recordSecurityKeyUse(_ factorID: FactorID, expectedSignCount: UInt32, signCount: UInt32, at date: Date) async throws -> Bool {
        try await withConnection("record the use of the security key of factor \(factorID)") { [self] connection in
            try await connection.rows("""
                UPDATE security_keys
                SET sign_count = \(Int64(signCount)), last_used_at = GREATEST(last_used_at, \(StoredTime.milliseconds(date)))
                WHERE factor_id = \(factorID.rawValue) AND sign_count = \(Int64(expectedSignCount))
                RETURNING 1
                """, logger: logger).count == 1
        }
    }

    /// One `UPDATE` keeping the earlier time.
    public func flagSecurityKey(_ factorID: FactorID, at date: Date) async throws {
        try await withConnection("flag the security key of factor \(factorID)") { [self] connection in
            try await connection.run("""
                UPDATE security_keys SET flagged_at = LEAST(flagged_at, \(StoredTime.milliseconds(date))) WHERE factor_id = \(factorID.rawValue)
                """, logger: logger)
        }
    }

    // MARK: Rows

    static let securityKeyColumns = """
        factor_id, app_id, user_id, credential_id, aaguid, transports, attestation_format, sign_count, created_at, last_used_at, flagged_at
        """

    static func securityKey(_ row: PostgresRow) throws -> SecurityKeyRecord {
        let (factor, app, user, credentialID, aaguid, transports, format, signCount, createdAt, lastUsedAt, flaggedAt) = try row.decode(
            (String, String, String, ByteBuffer, ByteBuffer, [String], String, Int64, Int64, Int64?, Int64?).self)
        return SecurityKeyRecord(
            factorID: try identifier(factor), applicationID: try identifier(app), userID: try userID(user),
            credentialID: PostgresColumn.bytes(credentialID), aaguid: PostgresColumn.bytes(aaguid), transports: transports,
            attestationFormat: format,
            signCount: try value(UInt32(exactly: signCount), "security key signature counter", String(signCount)),
            createdAt: PostgresColumn.date(createdAt), lastUsedAt: PostgresColumn.date(lastUsedAt),
            flaggedAt: PostgresColumn.date(flaggedAt))
    }
}
