extension PostgresMigration {
    /// Version 4: SMS and voice challenges, their send budgets, and
    /// `twofold_record_attempts_with_challenges`, the batch write that also approves challenges
    /// and counts wrong codes against them.
    ///
    /// `challenges`: one row per challenge sent; a phone number is never stored here (the factor
    /// keeps it sealed, and only its masked form in `label`). Times are BIGINT milliseconds;
    /// `context` is ``ChallengeContext`` as JSON with sorted keys; the delivery columns are set
    /// together once a provider took the challenge (`delivery_reference` only when the provider
    /// gave one). Its indexes serve what reads it often: the pending challenges of a user
    /// (every verification's snapshot, a factor's deletion, which both filter the user's few
    /// pending rows further), a user's listing and erasure, and the purge by age.
    ///
    /// `send_budgets`: one token bucket per opaque key, spent by a conditional upsert
    /// (``PostgresStore/insertChallenge(_:spending:audit:)``).
    ///
    /// `applications` gains each application's SMS template and domain (both optional).
    ///
    /// The factors table needs no change: its `type` has no CHECK, so `sms` and `voice` factors
    /// fit as they are.
    ///
    /// The new function is ``recordAttempts``'s `twofold_record_attempts` with four more arrays
    /// (the challenge an attempt approves, the factor that approval activates, and the snapshot
    /// challenges a counted failure counts against). It gets a name of its own, and the old
    /// function stays, so that nodes of the previous version keep recording attempts against
    /// the migrated schema while a deployment rolls forward. What it adds to step 4:
    /// - a challenge approved: `status` 'approved', `finished_at` the attempt's time, if it is
    ///   still pending, unexpired and the attempt's user's; when activating, only if its factor
    ///   is still pending, which then becomes active as with a step. Each is a compare-and-set
    ///   the caller expects to win: one that loses raises TF001 like a step's;
    /// - a counted failure (an attempt whose throttle failure is written): `failed_attempts` + 1
    ///   on each challenge of its snapshot still pending; one that reaches `max_attempts` ends
    ///   'denied', reason 'too_many_attempts', finished at the attempt's time.
    /// A batch holds one attempt per user (see `PostgresStore+AttemptBatch.swift`), and an
    /// attempt writes only its own user's rows, so no row is written twice by one call.
    static let challenges = PostgresMigration(version: 4, name: "challenges and send budgets", statements: [
        """
        CREATE TABLE challenges (
            id TEXT PRIMARY KEY,
            app_id TEXT NOT NULL,
            user_id TEXT NOT NULL,
            factor_id TEXT NOT NULL,
            type TEXT NOT NULL,
            mode TEXT NOT NULL,
            purpose TEXT NOT NULL,
            status TEXT NOT NULL CHECK (status IN ('pending', 'approved', 'denied', 'expired', 'failed', 'canceled')),
            reason TEXT,
            created_at BIGINT NOT NULL,
            expires_at BIGINT NOT NULL,
            finished_at BIGINT,
            code_hash BYTEA,
            failed_attempts INT NOT NULL,
            max_attempts INT NOT NULL,
            context TEXT NOT NULL,
            delivery_provider TEXT,
            delivery_status TEXT,
            delivery_reference TEXT,
            delivery_attempt INT,
            CHECK ((delivery_provider IS NULL) = (delivery_status IS NULL)
                   AND (delivery_provider IS NULL) = (delivery_attempt IS NULL)
                   AND (delivery_provider IS NOT NULL OR delivery_reference IS NULL))
        )
        """,
        "CREATE INDEX challenges_by_user ON challenges (app_id, user_id, status)",
        "CREATE INDEX challenges_by_creation ON challenges (created_at)",
        """
        CREATE TABLE send_budgets (
            key TEXT PRIMARY KEY,
            tokens DOUBLE PRECISION NOT NULL,
            updated_at BIGINT NOT NULL
        )
        """,
        "ALTER TABLE applications ADD COLUMN sms_template TEXT, ADD COLUMN domain TEXT",
        """
        CREATE FUNCTION twofold_record_attempts_with_challenges(
            a_i INT[], a_app TEXT[], a_usr TEXT[], a_now BIGINT[], a_fid TEXT[], a_step BIGINT[], a_drift BIGINT[],
            a_activate BOOLEAN[], a_code BIGINT[], a_failures BIGINT[], a_locked_until BIGINT[], a_counts BOOLEAN[],
            a_has_state BOOLEAN[], a_seen_failures BIGINT[], a_seen_locked_until BIGINT[],
            e_shard INT[], e_seq BIGINT[], e_time BIGINT[], e_app TEXT[], e_usr TEXT[], e_ref TEXT[], e_actor TEXT[],
            e_action TEXT[], e_outcome TEXT[], e_reason TEXT[], e_fid TEXT[], e_details TEXT[], e_prev BYTEA[], e_mac BYTEA[],
            h_shard INT[], h_seq BIGINT[], h_mac BYTEA[], h_tag BYTEA[], h_seen_seq BIGINT[], h_seen_tag BYTEA[],
            a_cid TEXT[], a_cfid TEXT[], k_i INT[], k_cid TEXT[]
        ) RETURNS BOOLEAN LANGUAGE plpgsql SET enable_hashjoin = off SET enable_mergejoin = off AS $function$
        DECLARE
            written BIGINT;
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
                                     a_locked_until, a_counts, a_has_state, a_cid, a_cfid)
                    AS r (i, app, usr, now, fid, step, drift, activate, code, failures, locked_until, counts, has_state, cid, cfid)
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
            ), approved AS (
                UPDATE challenges AS c SET status = 'approved', finished_at = r.now
                FROM r
                WHERE r.cid <> '' AND c.id = r.cid AND c.app_id = r.app AND c.user_id = r.usr
                  AND c.status = 'pending' AND c.expires_at > r.now
                  AND (r.cfid = '' OR EXISTS (
                      SELECT FROM factors AS f
                      WHERE f.id = r.cfid AND f.app_id = r.app AND f.user_id = r.usr AND f.status = 'pending'))
                RETURNING r.i, r.app, r.usr, r.now, r.cfid
            ), activated AS (
                UPDATE factors AS f SET status = 'active', activated_at = a.now, expires_at = NULL
                FROM approved AS a
                WHERE a.cfid <> '' AND f.id = a.cfid AND f.app_id = a.app AND f.user_id = a.usr AND f.status = 'pending'
                RETURNING a.i
            ), won AS (
                SELECT i FROM step UNION ALL SELECT i FROM code UNION ALL SELECT i FROM approved
            ), failed AS (
                INSERT INTO user_state (app_id, user_id, failures, locked_until)
                SELECT r.app, r.usr, r.failures, NULLIF(r.locked_until, -1) FROM r
                WHERE r.counts AND r.i NOT IN (SELECT i FROM won)
                ON CONFLICT (app_id, user_id) DO UPDATE SET failures = EXCLUDED.failures, locked_until = EXCLUDED.locked_until
            ), cleared AS (
                DELETE FROM user_state AS s USING r
                WHERE r.has_state AND s.app_id = r.app AND s.user_id = r.usr AND r.i IN (SELECT i FROM won)
            ), counted AS (
                UPDATE challenges AS c
                SET failed_attempts = c.failed_attempts + 1,
                    status = CASE WHEN c.failed_attempts + 1 >= c.max_attempts THEN 'denied' ELSE c.status END,
                    reason = CASE WHEN c.failed_attempts + 1 >= c.max_attempts THEN 'too_many_attempts' ELSE c.reason END,
                    finished_at = CASE WHEN c.failed_attempts + 1 >= c.max_attempts THEN r.now ELSE c.finished_at END
                FROM unnest(k_i, k_cid) AS k (i, cid) JOIN r ON r.i = k.i
                WHERE r.counts AND r.i NOT IN (SELECT i FROM won)
                  AND c.id = k.cid AND c.app_id = r.app AND c.user_id = r.usr AND c.status = 'pending'
            )
            SELECT (SELECT count(*) FROM won) + (SELECT count(*) FROM activated) INTO written;
            IF written <> (SELECT count(*) FILTER (WHERE x.fid <> '' OR x.code >= 0 OR x.cid <> '') + count(*) FILTER (WHERE x.cfid <> '')
                           FROM unnest(a_fid, a_code, a_cid, a_cfid) AS x (fid, code, cid, cfid)) THEN
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
