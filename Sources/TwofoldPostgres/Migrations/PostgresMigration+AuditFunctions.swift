extension PostgresMigration {
    /// Version 6: the two changes to stored audit events that Twofold makes, each as a function,
    /// so that a runtime role without UPDATE or DELETE on `audit_events` can still make them
    /// (provisioning/postgres/create-roles.sh).
    ///
    /// - `twofold_purge_audit_shard(shard, end, first_prev_mac, tag)`: a purge's step for one
    ///   shard (``PostgresStore/purgeAudit(before:chain:)``). Deletes the shard's events from its
    ///   chain's first sequence up to `end` (excluded), re-anchors the head on `end` with the
    ///   previous MAC and tag the caller computed (the tag is keyed: only the store can compute
    ///   it), and returns how many events it deleted. It locks the head row `FOR UPDATE`, which
    ///   the store's transaction already holds, so it waits for nothing new. It refuses an `end`
    ///   that would delete nothing or go past the head, so that it can only drop the start of a
    ///   chain, never an event in its middle.
    /// - `twofold_erase_audit_user(app_id, user_id)`: an erasure's nulling of `user_id` on the
    ///   user's events (``PostgresStore/eraseUser(applicationID:userID:audit:)``); events keep
    ///   their keyed `user_ref`, which the MAC covers.
    ///
    /// Why `SECURITY DEFINER`: such a function runs with the rights of its owner, the role that
    /// ran this migration (the schema's owner; never migrate as a superuser, which would then
    /// own them), whatever the caller may do itself. The runtime role gets EXECUTE on them, and
    /// they are the only way it can change or delete a stored event: the two things the store
    /// does, and nothing else. EXECUTE is revoked from PUBLIC, as every role could otherwise
    /// call them.
    ///
    /// Why a fixed `search_path`: a function that runs as its owner must not resolve names the
    /// way its caller chose. A caller that put a schema of its own, or `pg_temp`, before
    /// Twofold's would have the owner's code read its `audit_shards` or use its `=` operator.
    /// So each function's path is `pg_catalog`, then the schema this migration runs in (where
    /// every earlier migration created the tables), then `pg_temp` last; named explicitly, as
    /// PostgreSQL otherwise searches `pg_temp` first. The schema's name is only known when the
    /// migration runs, hence the `DO` block.
    static let auditFunctions = PostgresMigration(version: 6, name: "audit purge and erasure as functions", statements: [
        """
        CREATE FUNCTION twofold_purge_audit_shard(p_shard INT, p_end BIGINT, p_first_prev_mac BYTEA, p_tag BYTEA)
        RETURNS BIGINT LANGUAGE plpgsql SECURITY DEFINER AS $function$
        DECLARE
            head_first BIGINT;
            head_last BIGINT;
            deleted BIGINT;
        BEGIN
            SELECT first_seq, head_seq INTO head_first, head_last FROM audit_shards WHERE shard = p_shard FOR UPDATE;
            IF NOT FOUND OR p_end <= head_first OR p_end > head_last + 1 THEN
                RAISE EXCEPTION 'a purge of audit shard % must end after its first event and at most just past its head, not at %',
                    p_shard, p_end USING ERRCODE = 'invalid_parameter_value';
            END IF;
            DELETE FROM audit_events WHERE shard = p_shard AND seq >= head_first AND seq < p_end;
            GET DIAGNOSTICS deleted = ROW_COUNT;
            UPDATE audit_shards SET first_seq = p_end, first_prev_mac = p_first_prev_mac, tag = p_tag WHERE shard = p_shard;
            RETURN deleted;
        END
        $function$
        """,
        """
        CREATE FUNCTION twofold_erase_audit_user(p_app TEXT, p_user TEXT)
        RETURNS VOID LANGUAGE plpgsql SECURITY DEFINER AS $function$
        BEGIN
            UPDATE audit_events SET user_id = NULL WHERE app_id = p_app AND user_id = p_user;
        END
        $function$
        """,
        """
        DO $block$
        BEGIN
            EXECUTE format('ALTER FUNCTION twofold_purge_audit_shard(INT, BIGINT, BYTEA, BYTEA) SET search_path = pg_catalog, %I, pg_temp',
                           current_schema());
            EXECUTE format('ALTER FUNCTION twofold_erase_audit_user(TEXT, TEXT) SET search_path = pg_catalog, %I, pg_temp',
                           current_schema());
        END
        $block$
        """,
        "REVOKE EXECUTE ON FUNCTION twofold_purge_audit_shard(INT, BIGINT, BYTEA, BYTEA), twofold_erase_audit_user(TEXT, TEXT) FROM PUBLIC",
    ])
}
