import PostgresNIO

/// Applies an attempt's decision in one statement: the compare-and-set of a factor's step (when
/// `factorID` is set) or of a recovery code (when `codeIndex` is), the throttle (a lost
/// compare-and-set, or a rejection that `countsAsFailure`, writes `failures` and `lockedUntil`; a
/// success deletes the user's state), and the lock of the shard head `shard`, if given and present.
/// Its one row: how many compare-and-sets won (0 or 1), then the head's columns or NULLs.
struct AttemptApplyStatement: PostgresPreparedStatement {
    static let sql = """
        WITH step AS (
            UPDATE factors
            SET last_step = $5::BIGINT, drift = $6::BIGINT, status = 'active',
                activated_at = CASE WHEN $7::BOOLEAN THEN $3::BIGINT ELSE activated_at END,
                expires_at = CASE WHEN $7 THEN NULL ELSE expires_at END
            WHERE $4::TEXT IS NOT NULL AND id = $4 AND app_id = $1::TEXT AND user_id = $2::TEXT
              AND status = CASE WHEN $7 THEN 'pending' ELSE 'active' END
              AND (last_step IS NULL OR last_step < $5)
            RETURNING 1
        ), code AS (
            UPDATE recovery_codes SET used_at = $3
            WHERE $8::BIGINT IS NOT NULL AND app_id = $1 AND user_id = $2 AND idx = $8 AND used_at IS NULL
            RETURNING 1
        ), won AS (
            SELECT 1 FROM step UNION ALL SELECT 1 FROM code
        ), failed AS (
            INSERT INTO user_state (app_id, user_id, failures, locked_until)
            SELECT $1, $2, $9::BIGINT, $10::BIGINT
            WHERE $11::BOOLEAN AND NOT EXISTS (SELECT FROM won)
            ON CONFLICT (app_id, user_id) DO UPDATE SET failures = EXCLUDED.failures, locked_until = EXCLUDED.locked_until
        ), cleared AS (
            DELETE FROM user_state WHERE $12::BOOLEAN AND app_id = $1 AND user_id = $2 AND EXISTS (SELECT FROM won)
        )
        SELECT (SELECT count(*) FROM won), head.*
        FROM (VALUES (1)) AS one (x)
        LEFT JOIN LATERAL (
            SELECT shard, head_seq, head_mac, first_seq, first_prev_mac, tag FROM audit_shards WHERE shard = $13::BIGINT FOR UPDATE
        ) AS head ON true
        """
    static let bindingDataTypes: [PostgresDataType] = [
        .text, .text, .int8, .text, .int8, .int8, .bool, .int8, .int8, .int8, .bool, .bool, .int8,
    ]
    typealias Row = (won: Int, shard: Int?, headSequence: Int64?, headMAC: ByteBuffer?, firstSequence: Int64?,
                     firstPreviousMAC: ByteBuffer?, tag: ByteBuffer?)

    let applicationID: String
    let userID: String
    let now: Int64
    var factorID: String?
    var step: Int64?
    var drift: Int64?
    var activate = false
    var codeIndex: Int64?
    var failures: Int64 = 0
    var lockedUntil: Int64?
    var countsAsFailure = false
    var hasState = false
    var shard: Int64?

    init(applicationID: String, userID: String, now: Int64) {
        self.applicationID = applicationID
        self.userID = userID
        self.now = now
    }

    func makeBindings() -> PostgresBindings {
        var bindings = PostgresBindings(capacity: 13)
        bindings.append(applicationID)
        bindings.append(userID)
        bindings.append(now)
        bindings.append(factorID)
        bindings.append(step)
        bindings.append(drift)
        bindings.append(activate)
        bindings.append(codeIndex)
        bindings.append(failures)
        bindings.append(lockedUntil)
        bindings.append(countsAsFailure)
        bindings.append(hasState)
        bindings.append(shard)
        return bindings
    }

    func decodeRow(_ row: PostgresRow) throws -> Row {
        try row.decode((Int, Int?, Int64?, ByteBuffer?, Int64?, ByteBuffer?, ByteBuffer?).self)
    }
}
