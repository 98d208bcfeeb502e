extension PostgresMigration {
    /// Version 9: each application's pool of hardware OATH tokens.
    ///
    /// Keyed by (application, serial); `factor_id` is unique, as a factor is at most one token.
    /// `counter` is stored as steps are (``StoredStep``), so that handing a token back carries
    /// its factor's last step over in the statement that deletes the factor. The runtime role's
    /// rights on it (SELECT, INSERT, UPDATE, DELETE) come from provisioning/postgres/create-roles.sh,
    /// which grants them on every table but the audit ones.
    static let hardwareTokens = PostgresMigration(version: 9, name: "hardware tokens", statements: [
        """
        CREATE TABLE hardware_tokens (
            app_id TEXT NOT NULL,
            serial TEXT NOT NULL,
            type TEXT NOT NULL CHECK (type IN ('totp', 'hotp')),
            algorithm TEXT NOT NULL,
            digits INTEGER NOT NULL,
            period INTEGER NOT NULL,
            counter BIGINT NOT NULL,
            sealed_secret BYTEA NOT NULL,
            manufacturer TEXT,
            imported_at BIGINT NOT NULL,
            user_id TEXT,
            factor_id TEXT UNIQUE,
            assigned_at BIGINT,
            PRIMARY KEY (app_id, serial)
        )
        """,
        "CREATE INDEX hardware_tokens_by_user ON hardware_tokens (app_id, user_id) WHERE user_id IS NOT NULL",
    ])
}
