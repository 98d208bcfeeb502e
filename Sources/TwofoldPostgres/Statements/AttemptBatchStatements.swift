import PostgresNIO

// The statements of a batch of attempts (``PostgresStore/attemptBatch(_:)``). Each takes one array
// per column, element `i` describing the batch's attempt `i`; arrays cannot hold NULL here, so
// "none" is written as a sentinel the columns never hold ('' for an id, -1 for an index or a time).

/// Takes the advisory locks of several users (see ``UserLockStatement``) in the order of their
/// lock keys, so that two batches sharing users never wait for each other in opposite orders.
/// The sorted subquery is fenced (`OFFSET 0`) so the locks are taken row by row in that order.
struct UserLocksStatement: PostgresPreparedStatement {
    static let sql = """
        SELECT pg_advisory_xact_lock(k)
        FROM (SELECT DISTINCT hashtextextended(x, 0) AS k FROM unnest($1::TEXT[]) AS x ORDER BY 1 OFFSET 0) AS keys
        """
    static let bindingDataTypes: [PostgresDataType] = [.textArray]
    typealias Row = ()

    /// Each user's ``UserLockStatement/key``.
    let keys: [String]

    func makeBindings() -> PostgresBindings {
        var bindings = PostgresBindings(capacity: 1)
        bindings.append(keys)
        return bindings
    }

    func decodeRow(_ row: PostgresRow) throws -> Row {}
}

/// ``AttemptSnapshotStatement`` for several attempts at once: the same rows (but the shard of the
/// latest event, which a batch does not need), each preceded by the index of its attempt.
struct AttemptBatchSnapshotStatement: PostgresPreparedStatement {
    static let sql = """
        WITH r AS (
            SELECT * FROM unnest($1::INT[], $2::TEXT[], $3::TEXT[], $4::BOOLEAN[], $5::TEXT[], $6::TEXT[])
                AS r (i, app, usr, verifying, fid, key)
        )
        SELECT r.i, 0, NULL::TEXT, NULL::TEXT, NULL::TEXT, NULL::TEXT, NULL::TEXT, NULL::TEXT,
               s.failures::BIGINT, s.locked_until, NULL::BIGINT, NULL::BIGINT, NULL::BIGINT, NULL::BIGINT, NULL::BIGINT,
               NULL::BYTEA
        FROM r JOIN user_state s ON s.app_id = r.app AND s.user_id = r.usr
        UNION ALL
        SELECT r.i, 1, d.key_id, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, d.wrapped
        FROM r JOIN data_keys d ON d.app_id = r.app AND d.user_id = r.usr
        UNION ALL
        SELECT r.i, 2, f.id, f.type, f.status, f.label, f.issuer, f.algorithm,
               f.created_at, f.activated_at, f.expires_at, f.last_step, f.digits, f.period, f.drift, f.sealed_secret
        FROM r JOIN factors f ON f.app_id = r.app AND f.user_id = r.usr
                             AND CASE WHEN r.verifying THEN f.status = 'active' ELSE f.id = r.fid END
        UNION ALL
        SELECT r.i, 3, NULL, NULL, NULL, NULL, NULL, NULL, c.idx, c.created_at, c.used_at, NULL, NULL, NULL, NULL, c.hash
        FROM r JOIN recovery_codes c ON r.verifying AND c.app_id = r.app AND c.user_id = r.usr AND c.used_at IS NULL
        UNION ALL
        SELECT r.i, 5, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL
        FROM r JOIN api_keys k ON k.id = r.key AND k.revoked_at IS NULL
        ORDER BY 1, 2, 9, 3
        """
    static let bindingDataTypes: [PostgresDataType] = [.int4Array, .textArray, .textArray, .boolArray, .textArray, .textArray]
    typealias Row = (index: Int, row: AttemptSnapshotStatement.Row)

    var indices: [Int32] = []
    var applicationIDs: [String] = []
    var userIDs: [String] = []
    var verifying: [Bool] = []
    /// The factor an activation or resynchronisation names, or ''.
    var factorIDs: [String] = []
    /// The API key to check, or ''.
    var apiKeyIDs: [String] = []

    mutating func append(_ index: Int, _ applicationID: String, _ userID: String, verifying: Bool, factorID: String?, apiKeyID: String?) {
        indices.append(Int32(index))
        applicationIDs.append(applicationID)
        userIDs.append(userID)
        self.verifying.append(verifying)
        factorIDs.append(factorID ?? "")
        apiKeyIDs.append(apiKeyID ?? "")
    }

    func makeBindings() -> PostgresBindings {
        var bindings = PostgresBindings(capacity: 6)
        bindings.append(indices)
        bindings.append(applicationIDs)
        bindings.append(userIDs)
        bindings.append(verifying)
        bindings.append(factorIDs)
        bindings.append(apiKeyIDs)
        return bindings
    }

    func decodeRow(_ row: PostgresRow) throws -> Row {
        let (i, kind, t1, t2, t3, t4, t5, t6, n1, n2, n3, n4, n5, n6, n7, b) = try row.decode(
            (Int, Int, String?, String?, String?, String?, String?, String?,
             Int64?, Int64?, Int64?, Int64?, Int64?, Int64?, Int64?, ByteBuffer?).self)
        return (i, (kind, t1, t2, t3, t4, t5, t6, n1, n2, n3, n4, n5, n6, n7, b))
    }
}

/// ``AttemptApplyStatement`` for several attempts at once, without the head's lock: the
/// compare-and-sets, then the throttle of each attempt. Its rows: the indices of the attempts
/// whose compare-and-set won.
struct AttemptBatchApplyStatement: PostgresPreparedStatement {
    static let sql = """
        WITH r AS (
            SELECT * FROM unnest($1::INT[], $2::TEXT[], $3::TEXT[], $4::BIGINT[], $5::TEXT[], $6::BIGINT[], $7::BIGINT[],
                                 $8::BOOLEAN[], $9::BIGINT[], $10::BIGINT[], $11::BIGINT[], $12::BOOLEAN[], $13::BOOLEAN[])
                AS r (i, app, usr, now, fid, step, drift, activate, code, failures, locked_until, counts, has_state)
        ), step AS (
            UPDATE factors AS f
            SET last_step = r.step, drift = r.drift, status = 'active',
                activated_at = CASE WHEN r.activate THEN r.now ELSE f.activated_at END,
                expires_at = CASE WHEN r.activate THEN NULL ELSE f.expires_at END
            FROM r
            WHERE r.fid <> '' AND f.id = r.fid AND f.app_id = r.app AND f.user_id = r.usr
              AND f.status = CASE WHEN r.activate THEN 'pending' ELSE 'active' END
              AND (f.last_step IS NULL OR f.last_step < r.step)
            RETURNING r.i
        ), code AS (
            UPDATE recovery_codes AS c SET used_at = r.now
            FROM r
            WHERE r.code >= 0 AND c.app_id = r.app AND c.user_id = r.usr AND c.idx = r.code AND c.used_at IS NULL
            RETURNING r.i
        ), won AS (
            SELECT i FROM step UNION ALL SELECT i FROM code
        ), failed AS (
            INSERT INTO user_state (app_id, user_id, failures, locked_until)
            SELECT r.app, r.usr, r.failures, NULLIF(r.locked_until, -1) FROM r
            WHERE r.counts AND r.i NOT IN (SELECT i FROM won)
            ON CONFLICT (app_id, user_id) DO UPDATE SET failures = EXCLUDED.failures, locked_until = EXCLUDED.locked_until
        ), cleared AS (
            DELETE FROM user_state AS s USING r
            WHERE r.has_state AND s.app_id = r.app AND s.user_id = r.usr AND r.i IN (SELECT i FROM won)
        )
        SELECT i FROM won
        """
    static let bindingDataTypes: [PostgresDataType] = [
        .int4Array, .textArray, .textArray, .int8Array, .textArray, .int8Array, .int8Array,
        .boolArray, .int8Array, .int8Array, .int8Array, .boolArray, .boolArray,
    ]
    typealias Row = Int

    var indices: [Int32] = []
    var applicationIDs: [String] = []
    var userIDs: [String] = []
    var nows: [Int64] = []
    var factorIDs: [String] = []
    var steps: [Int64] = []
    var drifts: [Int64] = []
    var activates: [Bool] = []
    var codeIndices: [Int64] = []
    var failures: [Int64] = []
    var lockedUntils: [Int64] = []
    var countsAsFailure: [Bool] = []
    var hasState: [Bool] = []

    var isEmpty: Bool { indices.isEmpty }

    mutating func append(_ index: Int, _ applicationID: String, _ userID: String, now: Int64, _ plan: PostgresStore.AttemptPlan) {
        indices.append(Int32(index))
        applicationIDs.append(applicationID)
        userIDs.append(userID)
        nows.append(now)
        factorIDs.append(plan.factorID ?? "")
        steps.append(plan.step ?? 0)
        drifts.append(plan.drift ?? 0)
        activates.append(plan.activate)
        codeIndices.append(plan.codeIndex ?? -1)
        failures.append(plan.failures)
        lockedUntils.append(plan.lockedUntil.map(PostgresColumn.milliseconds) ?? -1)
        countsAsFailure.append(plan.countsAsFailure)
        hasState.append(plan.hasState)
    }

    func makeBindings() -> PostgresBindings {
        var bindings = PostgresBindings(capacity: 13)
        bindings.append(indices)
        bindings.append(applicationIDs)
        bindings.append(userIDs)
        bindings.append(nows)
        bindings.append(factorIDs)
        bindings.append(steps)
        bindings.append(drifts)
        bindings.append(activates)
        bindings.append(codeIndices)
        bindings.append(failures)
        bindings.append(lockedUntils)
        bindings.append(countsAsFailure)
        bindings.append(hasState)
        return bindings
    }

    func decodeRow(_ row: PostgresRow) throws -> Row {
        try row.decode(Int.self)
    }
}

/// Locks the heads of several shards, in shard order.
struct AuditHeadsLockStatement: PostgresPreparedStatement {
    static let sql = """
        SELECT shard, head_seq, head_mac, first_seq, first_prev_mac, tag FROM audit_shards
        WHERE shard = ANY($1::INT[]) ORDER BY shard FOR UPDATE
        """
    static let bindingDataTypes: [PostgresDataType] = [.int4Array]
    typealias Row = PostgresRow

    let shards: [Int32]

    func makeBindings() -> PostgresBindings {
        var bindings = PostgresBindings(capacity: 1)
        bindings.append(shards)
        return bindings
    }

    func decodeRow(_ row: PostgresRow) throws -> Row { row }
}
