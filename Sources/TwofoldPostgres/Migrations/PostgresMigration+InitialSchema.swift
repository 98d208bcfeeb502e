extension PostgresMigration {
    /// Version 1: every table of the first release.
    static let initialSchema = PostgresMigration(version: 1, name: "initial schema", statements: [
        """
        CREATE TABLE applications (
            id TEXT PRIMARY KEY,
            name TEXT NOT NULL CONSTRAINT applications_name_key UNIQUE,
            created_at BIGINT NOT NULL
        )
        """,
        """
        CREATE TABLE api_keys (
            id TEXT PRIMARY KEY,
            app_id TEXT NOT NULL,
            scopes TEXT NOT NULL,
            secret_hash BYTEA NOT NULL,
            created_at BIGINT NOT NULL,
            revoked_at BIGINT
        )
        """,
        "CREATE INDEX api_keys_by_app ON api_keys (app_id, created_at)",
        """
        CREATE TABLE data_keys (
            app_id TEXT NOT NULL,
            user_id TEXT NOT NULL,
            key_id TEXT NOT NULL,
            wrapped BYTEA NOT NULL,
            created_at BIGINT NOT NULL DEFAULT (extract(epoch FROM now()) * 1000)::BIGINT,
            PRIMARY KEY (app_id, user_id)
        )
        """,
        "CREATE INDEX data_keys_by_key_id ON data_keys (key_id)",
        """
        CREATE TABLE system_keys (
            name TEXT PRIMARY KEY,
            key_id TEXT NOT NULL,
            wrapped BYTEA NOT NULL
        )
        """,
        """
        CREATE TABLE factors (
            id TEXT PRIMARY KEY,
            app_id TEXT NOT NULL,
            user_id TEXT NOT NULL,
            type TEXT NOT NULL,
            status TEXT NOT NULL CHECK (status IN ('pending', 'active')),
            created_at BIGINT NOT NULL,
            activated_at BIGINT,
            expires_at BIGINT,
            label TEXT NOT NULL,
            issuer TEXT,
            algorithm TEXT NOT NULL,
            digits INT NOT NULL,
            period INT NOT NULL,
            sealed_secret BYTEA NOT NULL,
            last_step BIGINT,
            drift INT NOT NULL DEFAULT 0
        )
        """,
        "CREATE INDEX factors_by_user ON factors (app_id, user_id)",
        "CREATE INDEX factors_pending_by_expiry ON factors (expires_at) WHERE status = 'pending'",
        """
        CREATE TABLE recovery_codes (
            app_id TEXT NOT NULL,
            user_id TEXT NOT NULL,
            idx INT NOT NULL,
            hash BYTEA NOT NULL,
            created_at BIGINT NOT NULL,
            used_at BIGINT,
            PRIMARY KEY (app_id, user_id, idx)
        )
        """,
        """
        CREATE TABLE user_state (
            app_id TEXT NOT NULL,
            user_id TEXT NOT NULL,
            failures INT NOT NULL,
            locked_until BIGINT,
            PRIMARY KEY (app_id, user_id)
        )
        """,
        """
        CREATE TABLE audit_events (
            id BIGSERIAL PRIMARY KEY,
            shard INT NOT NULL,
            seq BIGINT NOT NULL,
            time BIGINT NOT NULL,
            app_id TEXT,
            user_id TEXT,
            user_ref TEXT,
            actor TEXT NOT NULL,
            action TEXT NOT NULL,
            outcome TEXT NOT NULL,
            reason TEXT,
            factor_id TEXT,
            details TEXT NOT NULL,
            prev_mac BYTEA NOT NULL,
            mac BYTEA NOT NULL,
            UNIQUE (shard, seq)
        )
        """,
        "CREATE INDEX audit_events_by_user ON audit_events (app_id, user_id, id)",
        """
        CREATE TABLE audit_shards (
            shard INT PRIMARY KEY,
            head_seq BIGINT NOT NULL,
            head_mac BYTEA NOT NULL,
            first_seq BIGINT NOT NULL,
            first_prev_mac BYTEA NOT NULL,
            tag BYTEA NOT NULL
        )
        """,
    ])
}
