extension PostgresMigration {
    /// Version 2: `twofold_record_attempts`, which writes a batch of verification attempts (their
    /// compare-and-sets, throttle updates, audit events and shard heads) in one statement, on
    /// condition that nothing they were decided on changed since it was read.
    ///
    /// Why a function: an attempt decided in Swift must be written only if the user's throttle
    /// state and the audit shards' heads are still what the decision and the events' MACs were
    /// computed from; checking that and writing in one call makes a batch two round trips (this
    /// call and the read before it) and one commit, instead of BEGIN, locks, reads, writes and
    /// COMMIT one after the other (``PostgresStore/record(_:underLocks:)`` in
    /// `PostgresStore+AttemptBatch.swift`).
    ///
    /// What it does, in the lock order of every other writer (users, their rows, shard heads):
    /// 1. `twofold_lock_attempts`: the users' advisory locks, in key order, then the row locks of
    ///    the heads of the events' shards, in shard order (a batch that runs under locks from the
    ///    start calls it first, in its transaction, and these locks are then its own already);
    /// 2. returns false, having written nothing, when a user's throttle state is not the one seen
    ///    (`a_seen_failures`/`a_seen_locked_until`, -1 for no state or no lock);
    /// 3. returns false when a head is not the one seen (its sequence and tag, a keyed MAC of
    ///    every field of the head);
    /// 4. the compare-and-sets and throttle updates; when one
    ///    compare-and-set the caller expected to win loses (another node took the step), raises
    ///    SQLSTATE TF001, which rolls the whole statement back;
    /// 5. the events, in order, and the new heads; returns true.
    /// Arrays cannot hold NULL: "none" is '' for a factor id, -1 for an index or a time, and
    /// U+0001 for an event's text.
    ///
    /// Its statements run generic plans (PL/pgSQL caches them), which guess that the arrays hold
    /// 100 rows; hash and merge joins are turned off for the call, so that each table is looked up
    /// by its index per attempt rather than hashed whole to be joined with a batch of one.
    static let recordAttempts = PostgresMigration(version: 2, name: "record attempts in one statement", statements: [
        """
        CREATE FUNCTION twofold_lock_attempts(user_keys TEXT[], shards INT[]) RETURNS VOID LANGUAGE plpgsql AS $function$
        DECLARE
            lock_key BIGINT;
        BEGIN
            FOR lock_key IN SELECT DISTINCT hashtextextended(k, 0) FROM unnest(user_keys) AS k ORDER BY 1 LOOP
                PERFORM pg_advisory_xact_lock(lock_key);
            END LOOP;
            PERFORM FROM audit_shards WHERE shard = ANY(shards) ORDER BY shard FOR UPDATE;
        END
        $function$
        """,
        """
        CREATE FUNCTION twofold_record_attempts(
            a_i INT[], a_app TEXT[], a_usr TEXT[], a_now BIGINT[], a_fid TEXT[], a_step BIGINT[], a_drift BIGINT[],
            a_activate BOOLEAN[], a_code BIGINT[], a_failures BIGINT[], a_locked_until BIGINT[], a_counts BOOLEAN[],
            a_has_state BOOLEAN[], a_seen_failures BIGINT[], a_seen_locked_until BIGINT[],
            e_shard INT[], e_seq BIGINT[], e_time BIGINT[], e_app TEXT[], e_usr TEXT[], e_ref TEXT[], e_actor TEXT[],
            e_action TEXT[], e_outcome TEXT[], e_reason TEXT[], e_fid TEXT[], e_details TEXT[], e_prev BYTEA[], e_mac BYTEA[],
            h_shard INT[], h_seq BIGINT[], h_mac BYTEA[], h_tag BYTEA[], h_seen_seq BIGINT[], h_seen_tag BYTEA[]
        ) RETURNS BOOLEAN LANGUAGE plpgsql SET enable_hashjoin = off SET enable_mergejoin = off AS $function$
        DECLARE
            won_count BIGINT;
        BEGIN
            PERFORM twofold_lock_attempts(ARRAY(SELECT x.app || x.usr FROM unnest(a_app, a_usr) AS x (app, usr)), h_shard);

            IF EXISTS (
                SELECT FROM unnest(a_app, a_usr, a_seen_failures, a_seen_locked_until) AS r (app, usr, failures, locked_until)
                LEFT JOIN user_state AS s ON s.app_id = r.app AND s.user_id = r.usr
                WHERE coalesce(s.failures, -1) <> r.failures OR coalesce(s.locked_until, -1) <> r.locked_until
            ) THEN
                RETURN false;
            END IF;

            IF (SELECT count(*) FROM audit_shards AS s
                JOIN unnest(h_shard, h_seen_seq, h_seen_tag) AS h (shard, seq, tag)
                  ON s.shard = h.shard AND s.head_seq = h.seq AND s.tag = h.tag) <> cardinality(h_shard) THEN
                RETURN false;
            END IF;

            WITH r AS (
                SELECT * FROM unnest(a_i, a_app, a_usr, a_now, a_fid, a_step, a_drift, a_activate, a_code, a_failures,
                                     a_locked_until, a_counts, a_has_state)
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
            SELECT count(*) INTO won_count FROM won;
            IF won_count <> (SELECT count(*) FROM unnest(a_fid, a_code) AS x (fid, code) WHERE x.fid <> '' OR x.code >= 0) THEN
                RAISE EXCEPTION 'a compare-and-set of a batch of verification attempts lost to another writer'
                    USING ERRCODE = 'TF001';
            END IF;

            INSERT INTO audit_events (shard, seq, time, app_id, user_id, user_ref, actor, action, outcome, reason, factor_id,
                                      details, prev_mac, mac)
            SELECT e.shard, e.seq, e.time, NULLIF(e.app, chr(1)), NULLIF(e.usr, chr(1)), NULLIF(e.ref, chr(1)), e.actor,
                   e.action, e.outcome, NULLIF(e.reason, chr(1)), NULLIF(e.fid, chr(1)), e.details, e.prev, e.mac
            FROM unnest(e_shard, e_seq, e_time, e_app, e_usr, e_ref, e_actor, e_action, e_outcome, e_reason, e_fid, e_details,
                        e_prev, e_mac) WITH ORDINALITY
                AS e (shard, seq, time, app, usr, ref, actor, action, outcome, reason, fid, details, prev, mac, n)
            ORDER BY e.n;

            UPDATE audit_shards AS s SET head_seq = h.seq, head_mac = h.mac, tag = h.tag
            FROM unnest(h_shard, h_seq, h_mac, h_tag) AS h (shard, seq, mac, tag)
            WHERE s.shard = h.shard;
            RETURN true;
        END
        $function$
        """,
    ])
}
