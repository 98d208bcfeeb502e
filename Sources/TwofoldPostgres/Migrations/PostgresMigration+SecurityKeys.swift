extension PostgresMigration {
    /// Version 8: security keys (WebAuthn) and each application's relying party.
    ///
    /// `security_keys`: the registered credential of each `webauthn` factor, keyed by the
    /// factor's id (a use and a flag name the key by it; the key is deleted with its factor, in
    /// the same statement). A credential id is unique within an application, as WebAuthn has
    /// the browser name a key by it alone. `sign_count` is the authenticator's 32-bit counter;
    /// times are BIGINT milliseconds. `security_keys_by_user` serves a user's listing, erasure
    /// and reset. The runtime role needs SELECT, INSERT, UPDATE and DELETE on it (listing,
    /// registration, use and flag, the cascade), which provisioning/postgres/create-roles.sh
    /// gives on every table but the audit ones: nothing to grant or revoke here.
    ///
    /// `applications` gains `rp_id` (NULL until set) and `origins`, empty for every application
    /// until it is given a relying party.
    ///
    /// Neither `challenges.type` nor `factors.type` has a CHECK, so `webauthn` challenges and
    /// factors fit as they are.
    static let securityKeys = PostgresMigration(version: 8, name: "security keys and relying parties", statements: [
        """
        CREATE TABLE security_keys (
            factor_id TEXT PRIMARY KEY,
            app_id TEXT NOT NULL,
            user_id TEXT NOT NULL,
            credential_id BYTEA NOT NULL,
            aaguid BYTEA NOT NULL,
            transports TEXT[] NOT NULL,
            attestation_format TEXT NOT NULL,
            sign_count BIGINT NOT NULL CHECK (sign_count BETWEEN 0 AND 4294967295),
            created_at BIGINT NOT NULL,
            last_used_at BIGINT,
            flagged_at BIGINT,
            UNIQUE (app_id, credential_id)
        )
        """,
        "CREATE INDEX security_keys_by_user ON security_keys (app_id, user_id)",
        "ALTER TABLE applications ADD COLUMN rp_id TEXT, ADD COLUMN origins TEXT[] NOT NULL DEFAULT '{}'",
    ])
}
