import PostgresNIO

/// Everything an attempt reads, in one statement of five kinds of rows padded to one shape
/// (text columns t1…t6, BIGINT n1…n7, BYTEA b):
/// - 0, the throttle state: n1 failures, n2 locked_until;
/// - 1, the data key: t1 key_id, b wrapped;
/// - 2, each factor (the active ones when verifying, else the named one): t1…t6 id, type, status,
///   label, issuer, algorithm; n1…n7 created_at, activated_at, expires_at, last_step, digits,
///   period, drift; b sealed_secret;
/// - 3, each unused recovery code (verification only): n1…n3 idx, created_at, used_at; b hash;
/// - 4, the shard of the user's latest audit event: n1;
/// - 5, when an API key id is given and that key exists unrevoked: one row, no values.
///
/// Factors come oldest first, codes by index.
struct AttemptSnapshotStatement: PostgresPreparedStatement {
    static let sql = """
        SELECT 0, NULL::TEXT, NULL::TEXT, NULL::TEXT, NULL::TEXT, NULL::TEXT, NULL::TEXT,
               failures::BIGINT, locked_until, NULL::BIGINT, NULL::BIGINT, NULL::BIGINT, NULL::BIGINT, NULL::BIGINT, NULL::BYTEA
        FROM user_state WHERE app_id = $1::TEXT AND user_id = $2::TEXT
        UNION ALL
        SELECT 1, key_id, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, wrapped
        FROM data_keys WHERE app_id = $1 AND user_id = $2
        UNION ALL
        SELECT 2, id, type, status, label, issuer, algorithm,
               created_at, activated_at, expires_at, last_step, digits, period, drift, sealed_secret
        FROM factors
        WHERE app_id = $1 AND user_id = $2 AND CASE WHEN $3::BOOLEAN THEN status = 'active' ELSE id = $4::TEXT END
        UNION ALL
        SELECT 3, NULL, NULL, NULL, NULL, NULL, NULL, idx, created_at, used_at, NULL, NULL, NULL, NULL, hash
        FROM recovery_codes
        WHERE $3 AND app_id = $1 AND user_id = $2 AND used_at IS NULL
        UNION ALL
        (SELECT 4, NULL, NULL, NULL, NULL, NULL, NULL, shard, NULL, NULL, NULL, NULL, NULL, NULL, NULL
         FROM audit_events WHERE app_id = $1 AND user_id = $2 ORDER BY id DESC LIMIT 1)
        UNION ALL
        SELECT 5, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL
        FROM api_keys WHERE id = $5::TEXT AND revoked_at IS NULL
        ORDER BY 1, 8, 2
        """
    static let bindingDataTypes: [PostgresDataType] = [.text, .text, .bool, .text, .text]
    typealias Row = (
        kind: Int, t1: String?, t2: String?, t3: String?, t4: String?, t5: String?, t6: String?,
        n1: Int64?, n2: Int64?, n3: Int64?, n4: Int64?, n5: Int64?, n6: Int64?, n7: Int64?, b: ByteBuffer?
    )

    let applicationID: String
    let userID: String
    /// Verification reads the active factors and the unused codes; otherwise the factor `factorID`.
    let verifying: Bool
    let factorID: String?
    /// The API key to check (``AttemptRequest/apiKeyID``), if any.
    let apiKeyID: String?

    func makeBindings() -> PostgresBindings {
        var bindings = PostgresBindings(capacity: 5)
        bindings.append(applicationID)
        bindings.append(userID)
        bindings.append(verifying)
        bindings.append(factorID)
        bindings.append(apiKeyID)
        return bindings
    }

    func decodeRow(_ row: PostgresRow) throws -> Row {
        try row.decode((Int, String?, String?, String?, String?, String?, String?,
                        Int64?, Int64?, Int64?, Int64?, Int64?, Int64?, Int64?, ByteBuffer?).self)
    }
}
