extension PostgresMigration {
    /// Version 5: push devices, the request signatures they were seen to use, and each
    /// application's choice of number matching.
    ///
    /// `push_devices`: one device per push factor (`factor_id` is unique; the device is deleted
    /// with its factor). `activation_hash` is the keyed hash of the device's one-time activation
    /// token while it waits, unique among waiting devices, and NULL once it is activated (a
    /// unique index allows any number of NULLs). `public_key` (SPKI DER) and `sealed_transport`
    /// (sealed under the user's data key) come with the activation; `transport_kind` stays in
    /// clear and has no CHECK, so a later kind of transport needs no migration. Times are BIGINT
    /// milliseconds. `push_devices_by_user` serves a user's listing, erasure and reset.
    ///
    /// `device_signatures`: the digests of request signatures seen, until they expire; an insert
    /// that does nothing on a taken digest is the replay check
    /// (``PostgresStore/rememberDeviceSignature(_:expiresAt:)``), and
    /// `device_signatures_by_expiry` serves the purge.
    ///
    /// `applications` gains `push_number_matching`, on for every application until turned off.
    ///
    /// `challenges` needs no change: its `type` has no CHECK, so `push` challenges fit as they are.
    static let pushDevices = PostgresMigration(version: 5, name: "push devices and device signatures", statements: [
        """
        CREATE TABLE push_devices (
            id TEXT PRIMARY KEY,
            app_id TEXT NOT NULL,
            user_id TEXT NOT NULL,
            factor_id TEXT NOT NULL UNIQUE,
            activation_hash BYTEA UNIQUE,
            activation_expires_at BIGINT,
            public_key BYTEA,
            sealed_transport BYTEA,
            transport_kind TEXT,
            created_at BIGINT NOT NULL,
            activated_at BIGINT,
            last_used_at BIGINT,
            suspended_until BIGINT
        )
        """,
        "CREATE INDEX push_devices_by_user ON push_devices (app_id, user_id)",
        """
        CREATE TABLE device_signatures (
            digest BYTEA PRIMARY KEY,
            expires_at BIGINT NOT NULL
        )
        """,
        "CREATE INDEX device_signatures_by_expiry ON device_signatures (expires_at)",
        "ALTER TABLE applications ADD COLUMN push_number_matching BOOLEAN NOT NULL DEFAULT TRUE",
    ])
}
