import GRDB

/// The schema of an ``SQLiteStore``, as an ordered list of migrations. A released migration is
/// never edited: a change of schema is a new migration appended here.
///
/// Conventions: tables are `STRICT`; times are INTEGER milliseconds since the Unix epoch; steps
/// are stored order-preserving (``SQLiteCoding/storedStep(_:)``); secrets, hashes, keys and MACs
/// are BLOBs written exactly as the core hands them over.
enum SQLiteMigrations {
    /// Thrown by a migration that finds itself already recorded: another process applied it
    /// between GRDB's reading of the applied list and this migration's transaction.
    struct AppliedConcurrently: Error {
        let identifier: String
    }

    static let migrator: DatabaseMigrator = {
        var migrator = DatabaseMigrator()
        register("v1-schema", in: &migrator) { db in
            try db.execute(sql: schemaV1)
        }
        register("v2-clustered-user-rows", in: &migrator) { db in
            try db.execute(sql: clusteredUserRows)
        }
        register("v3-clustered-factors", in: &migrator) { db in
            try db.execute(sql: clusteredFactors)
        }
        register("v4-challenges", in: &migrator) { db in
            try db.execute(sql: challenges)
        }
        register("v5-push-devices", in: &migrator) { db in
            try db.execute(sql: pushDevices)
        }
        register(apiKeyMACs, in: &migrator) { db in
            try db.execute(sql: "ALTER TABLE api_keys ADD COLUMN mac BLOB")
        }
        register("v7-security-keys", in: &migrator) { db in
            try db.execute(sql: securityKeys)
        }
        register("v8-hardware-tokens", in: &migrator) { db in
            try db.execute(sql: hardwareTokens)
        }
        return migrator
    }()

    /// API keys gain a MAC over their row (``APIKeyRecord/mac``); the keys already there get
    /// theirs from the services, once, after this migration (``SQLiteStore/apiKeysAwaitingMAC()``).
    static let apiKeyMACs = "v6-api-key-macs"

    /// How many times ``SQLiteStore/migrate()`` re-reads the applied list after losing a race.
    static var attempts: Int { 2 + migrator.migrations.count }

    /// Registers a migration that first checks, inside its own `BEGIN IMMEDIATE` transaction
    /// (that is, holding SQLite's write lock), that no other process recorded it meanwhile.
    ///
    /// GRDB reads the list of applied migrations before it opens each migration's transaction,
    /// so two processes migrating one file at once could both try to apply the same one; the
    /// loser would fail on `CREATE TABLE`. Here the loser rolls back and migrates again,
    /// reading the list anew.
    private static func register(_ identifier: String, in migrator: inout DatabaseMigrator,
                                 _ body: @escaping @Sendable (Database) throws -> Void) {
        migrator.registerMigration(identifier, foreignKeyChecks: .immediate) { db in
            let recorded = try Bool.fetchOne(db, sql: "SELECT 1 FROM grdb_migrations WHERE identifier = ?", arguments: [identifier]) ?? false
            if recorded { throw AppliedConcurrently(identifier: identifier) }
            try body(db)
        }
    }

    /// The per-user tables every verification reads by primary key become `WITHOUT ROWID`
    /// tables, clustered on that key: a lookup is one B-tree descent instead of two (the key's
    /// index, then the row by rowid), and a user's recovery codes sit together in one leaf.
    /// With a million users each of those descents lands on a page of its own, so this is one
    /// or two fewer random page reads per verification.
    private static let clusteredUserRows = """
        CREATE TABLE data_keys_clustered (
            app_id TEXT NOT NULL,
            user_id TEXT NOT NULL,
            key_id TEXT NOT NULL,
            wrapped BLOB NOT NULL,
            created_at INTEGER,
            PRIMARY KEY (app_id, user_id)
        ) STRICT, WITHOUT ROWID;
        INSERT INTO data_keys_clustered (app_id, user_id, key_id, wrapped, created_at)
            SELECT app_id, user_id, key_id, wrapped, created_at FROM data_keys;
        DROP TABLE data_keys;
        ALTER TABLE data_keys_clustered RENAME TO data_keys;
        CREATE INDEX data_keys_by_key_id ON data_keys (key_id);

        CREATE TABLE recovery_codes_clustered (
            app_id TEXT NOT NULL,
            user_id TEXT NOT NULL,
            idx INTEGER NOT NULL,
            hash BLOB NOT NULL,
            created_at INTEGER NOT NULL,
            used_at INTEGER,
            PRIMARY KEY (app_id, user_id, idx)
        ) STRICT, WITHOUT ROWID;
        INSERT INTO recovery_codes_clustered (app_id, user_id, idx, hash, created_at, used_at)
            SELECT app_id, user_id, idx, hash, created_at, used_at FROM recovery_codes;
        DROP TABLE recovery_codes;
        ALTER TABLE recovery_codes_clustered RENAME TO recovery_codes;

        CREATE TABLE user_state_clustered (
            app_id TEXT NOT NULL,
            user_id TEXT NOT NULL,
            failures INTEGER NOT NULL,
            locked_until INTEGER,
            PRIMARY KEY (app_id, user_id)
        ) STRICT, WITHOUT ROWID;
        INSERT INTO user_state_clustered (app_id, user_id, failures, locked_until)
            SELECT app_id, user_id, failures, locked_until FROM user_state;
        DROP TABLE user_state;
        ALTER TABLE user_state_clustered RENAME TO user_state;
        """

    /// Factors become a `WITHOUT ROWID` table clustered on (application, user, `seq`), like the
    /// tables of v2: the verification's read of a user's factors and its compare-and-set are one
    /// B-tree descent each instead of two (`factors_by_user`, then the row by rowid), which with a
    /// million users is a random page less per read. `seq` keeps the order factors were added in
    /// (it was the rowid); the factor id stays unique through an index of its own, which the
    /// verification path does not use.
    private static let clusteredFactors = """
        CREATE TABLE factors_clustered (
            app_id TEXT NOT NULL,
            user_id TEXT NOT NULL,
            seq INTEGER NOT NULL,
            id TEXT NOT NULL UNIQUE,
            type TEXT NOT NULL,
            status TEXT NOT NULL CHECK (status IN ('pending', 'active')),
            created_at INTEGER NOT NULL,
            activated_at INTEGER,
            expires_at INTEGER,
            label TEXT NOT NULL,
            issuer TEXT,
            algorithm TEXT NOT NULL,
            digits INTEGER NOT NULL,
            period INTEGER NOT NULL,
            sealed_secret BLOB NOT NULL,
            last_step INTEGER,
            drift INTEGER NOT NULL DEFAULT 0,
            PRIMARY KEY (app_id, user_id, seq)
        ) STRICT, WITHOUT ROWID;
        INSERT INTO factors_clustered (app_id, user_id, seq, id, type, status, created_at, activated_at, expires_at, label,
                                       issuer, algorithm, digits, period, sealed_secret, last_step, drift)
            SELECT app_id, user_id, rowid, id, type, status, created_at, activated_at, expires_at, label,
                   issuer, algorithm, digits, period, sealed_secret, last_step, drift
            FROM factors ORDER BY app_id, user_id, rowid;
        DROP TABLE factors;
        ALTER TABLE factors_clustered RENAME TO factors;
        CREATE INDEX factors_pending_by_expiry ON factors (expires_at) WHERE status = 'pending';
        """

    /// SMS and voice challenges, and the send budgets that pay for them.
    ///
    /// `challenges` is clustered on its id: every write to a challenge after its insertion
    /// (delivery, finishing, an attempt's approval or failure count) names it by id.
    /// `challenges_pending` holds only pending challenges, which end within minutes, so it stays
    /// small and cached however long the table grows: it is what every verification reads (a
    /// user's pending challenges of one purpose, newest first), and for a user without any it is
    /// one descent of a few hot pages. `challenges_by_user` serves the listing and a user's
    /// erasure or reset, `challenges_by_creation` the purge.
    ///
    /// The factor's phone number is not here: it stays sealed in `factors.sealed_secret` (whose
    /// `type` column has no CHECK, so `sms` and `voice` factors need no change there).
    /// `delivery_reference` may be null on its own (a provider need not give one); the other
    /// three delivery columns are all set or all null.
    private static let challenges = """
        CREATE TABLE challenges (
            id TEXT NOT NULL PRIMARY KEY,
            app_id TEXT NOT NULL,
            user_id TEXT NOT NULL,
            factor_id TEXT NOT NULL,
            type TEXT NOT NULL CHECK (type IN ('sms', 'voice')),
            mode TEXT NOT NULL CHECK (mode IN ('code', 'approve')),
            purpose TEXT NOT NULL CHECK (purpose IN ('login', 'enrollment')),
            status TEXT NOT NULL CHECK (status IN ('pending', 'approved', 'denied', 'expired', 'failed', 'canceled')),
            reason TEXT,
            created_at INTEGER NOT NULL,
            expires_at INTEGER NOT NULL,
            finished_at INTEGER,
            code_hash BLOB,
            failed_attempts INTEGER NOT NULL,
            max_attempts INTEGER NOT NULL,
            context TEXT NOT NULL,
            delivery_provider TEXT,
            delivery_status TEXT,
            delivery_reference TEXT,
            delivery_attempt INTEGER,
            CHECK ((delivery_provider IS NULL) = (delivery_status IS NULL)
                   AND (delivery_provider IS NULL) = (delivery_attempt IS NULL)
                   AND (delivery_provider IS NOT NULL OR delivery_reference IS NULL))
        ) STRICT, WITHOUT ROWID;
        CREATE INDEX challenges_pending ON challenges (app_id, user_id, purpose, created_at) WHERE status = 'pending';
        CREATE INDEX challenges_by_user ON challenges (app_id, user_id, created_at);
        CREATE INDEX challenges_by_creation ON challenges (created_at);

        CREATE TABLE send_budgets (
            key TEXT NOT NULL PRIMARY KEY,
            tokens REAL NOT NULL,
            updated_at INTEGER NOT NULL
        ) STRICT, WITHOUT ROWID;
        ALTER TABLE applications ADD COLUMN sms_template TEXT;
        ALTER TABLE applications ADD COLUMN domain TEXT;
        """

    /// Push devices, the request signatures they were seen to use, push challenges, and each
    /// application's choice of number matching.
    ///
    /// `push_devices` holds one device per push factor, clustered on its id: every signed request
    /// of a device names it by id. `factor_id` is unique (a device goes with its factor, and is
    /// deleted with it); `activation_hash` is unique among waiting devices and NULL once one is
    /// activated, which SQLite's unique index allows any number of. `transport_kind` has no
    /// CHECK, like `factors.type`, so that a later kind of transport needs no rebuilt table; a
    /// kind this build does not know reads as an invalid value. `push_devices_by_user` serves a
    /// user's listing, erasure and reset.
    ///
    /// `device_signatures` remembers the digests of signatures seen until they expire: an
    /// insert that does nothing on a taken digest is the replay check, and
    /// `device_signatures_by_expiry` serves the purge.
    ///
    /// `challenges` is rebuilt (SQLite cannot alter a CHECK) to accept the `push` type, with
    /// every row and index it had. `applications` gains `push_number_matching`, on (1) for every
    /// application until turned off.
    private static let pushDevices = """
        CREATE TABLE push_devices (
            id TEXT NOT NULL PRIMARY KEY,
            app_id TEXT NOT NULL,
            user_id TEXT NOT NULL,
            factor_id TEXT NOT NULL UNIQUE,
            activation_hash BLOB UNIQUE,
            activation_expires_at INTEGER,
            public_key BLOB,
            sealed_transport BLOB,
            transport_kind TEXT,
            created_at INTEGER NOT NULL,
            activated_at INTEGER,
            last_used_at INTEGER,
            suspended_until INTEGER
        ) STRICT, WITHOUT ROWID;
        CREATE INDEX push_devices_by_user ON push_devices (app_id, user_id);

        CREATE TABLE device_signatures (
            digest BLOB NOT NULL PRIMARY KEY,
            expires_at INTEGER NOT NULL
        ) STRICT, WITHOUT ROWID;
        CREATE INDEX device_signatures_by_expiry ON device_signatures (expires_at);

        CREATE TABLE challenges_v5 (
            id TEXT NOT NULL PRIMARY KEY,
            app_id TEXT NOT NULL,
            user_id TEXT NOT NULL,
            factor_id TEXT NOT NULL,
            type TEXT NOT NULL CHECK (type IN ('sms', 'voice', 'push')),
            mode TEXT NOT NULL CHECK (mode IN ('code', 'approve')),
            purpose TEXT NOT NULL CHECK (purpose IN ('login', 'enrollment')),
            status TEXT NOT NULL CHECK (status IN ('pending', 'approved', 'denied', 'expired', 'failed', 'canceled')),
            reason TEXT,
            created_at INTEGER NOT NULL,
            expires_at INTEGER NOT NULL,
            finished_at INTEGER,
            code_hash BLOB,
            failed_attempts INTEGER NOT NULL,
            max_attempts INTEGER NOT NULL,
            context TEXT NOT NULL,
            delivery_provider TEXT,
            delivery_status TEXT,
            delivery_reference TEXT,
            delivery_attempt INTEGER,
            CHECK ((delivery_provider IS NULL) = (delivery_status IS NULL)
                   AND (delivery_provider IS NULL) = (delivery_attempt IS NULL)
                   AND (delivery_provider IS NOT NULL OR delivery_reference IS NULL))
        ) STRICT, WITHOUT ROWID;
        INSERT INTO challenges_v5 (id, app_id, user_id, factor_id, type, mode, purpose, status, reason, created_at,
                                   expires_at, finished_at, code_hash, failed_attempts, max_attempts, context,
                                   delivery_provider, delivery_status, delivery_reference, delivery_attempt)
            SELECT id, app_id, user_id, factor_id, type, mode, purpose, status, reason, created_at,
                   expires_at, finished_at, code_hash, failed_attempts, max_attempts, context,
                   delivery_provider, delivery_status, delivery_reference, delivery_attempt
            FROM challenges;
        DROP TABLE challenges;
        ALTER TABLE challenges_v5 RENAME TO challenges;
        CREATE INDEX challenges_pending ON challenges (app_id, user_id, purpose, created_at) WHERE status = 'pending';
        CREATE INDEX challenges_by_user ON challenges (app_id, user_id, created_at);
        CREATE INDEX challenges_by_creation ON challenges (created_at);

        ALTER TABLE applications ADD COLUMN push_number_matching INTEGER NOT NULL DEFAULT 1 CHECK (push_number_matching IN (0, 1));
        """

    /// Security keys (WebAuthn), each application's relying party, and challenges of any type.
    ///
    /// `security_keys` holds the registered credential of each `webauthn` factor, clustered on
    /// the factor's id: a use (``SQLiteStore/recordSecurityKeyUse(_:expectedSignCount:signCount:at:)``)
    /// and a flag name the key by it, and a key goes with its factor (deleted with it, in the same
    /// transaction). A credential id is unique within an application, as WebAuthn has the browser
    /// name a key by it alone. `transports` is a JSON array of strings; `sign_count` is the
    /// authenticator's 32-bit counter. `security_keys_by_user` serves a user's listing, erasure
    /// and reset.
    ///
    /// `applications` gains `rp_id` and `origins` (a JSON array of strings; NULL for none, as
    /// every application has until it is given a relying party).
    ///
    /// `challenges` is rebuilt once more, with every row and index it had, but this time its
    /// `type` has no CHECK, like `factors.type`: SQLite cannot alter a CHECK, so each new type
    /// (`push` in v5, `webauthn` now) would otherwise cost a rebuild of the whole table, and the
    /// store reads a type this build does not know as an invalid value anyway. Every other
    /// CHECK stays.
    /// `hardware_tokens`: each application's pool of OATH tokens, clustered on (application,
    /// serial). `counter` is stored as steps are (``StoredStep``), so that handing a token back
    /// can carry its factor's last step over in one statement. `factor_id` is unique: a factor is
    /// at most one token.
    private static let hardwareTokens = """
        CREATE TABLE hardware_tokens (
            app_id TEXT NOT NULL,
            serial TEXT NOT NULL,
            type TEXT NOT NULL CHECK (type IN ('totp', 'hotp')),
            algorithm TEXT NOT NULL,
            digits INTEGER NOT NULL,
            period INTEGER NOT NULL,
            counter INTEGER NOT NULL,
            sealed_secret BLOB NOT NULL,
            manufacturer TEXT,
            imported_at INTEGER NOT NULL,
            user_id TEXT,
            factor_id TEXT UNIQUE,
            assigned_at INTEGER,
            PRIMARY KEY (app_id, serial)
        ) STRICT, WITHOUT ROWID;
        CREATE INDEX hardware_tokens_by_user ON hardware_tokens (app_id, user_id) WHERE user_id IS NOT NULL;
        """

    private static let securityKeys = """
        CREATE TABLE security_keys (
            factor_id TEXT NOT NULL PRIMARY KEY,
            app_id TEXT NOT NULL,
            user_id TEXT NOT NULL,
            credential_id BLOB NOT NULL,
            aaguid BLOB NOT NULL,
            transports TEXT NOT NULL,
            attestation_format TEXT NOT NULL,
            sign_count INTEGER NOT NULL CHECK (sign_count BETWEEN 0 AND 4294967295),
            created_at INTEGER NOT NULL,
            last_used_at INTEGER,
            flagged_at INTEGER,
            UNIQUE (app_id, credential_id)
        ) STRICT, WITHOUT ROWID;
        CREATE INDEX security_keys_by_user ON security_keys (app_id, user_id);

        ALTER TABLE applications ADD COLUMN rp_id TEXT;
        ALTER TABLE applications ADD COLUMN origins TEXT;

        CREATE TABLE challenges_v7 (
            id TEXT NOT NULL PRIMARY KEY,
            app_id TEXT NOT NULL,
            user_id TEXT NOT NULL,
            factor_id TEXT NOT NULL,
            type TEXT NOT NULL,
            mode TEXT NOT NULL CHECK (mode IN ('code', 'approve')),
            purpose TEXT NOT NULL CHECK (purpose IN ('login', 'enrollment')),
            status TEXT NOT NULL CHECK (status IN ('pending', 'approved', 'denied', 'expired', 'failed', 'canceled')),
            reason TEXT,
            created_at INTEGER NOT NULL,
            expires_at INTEGER NOT NULL,
            finished_at INTEGER,
            code_hash BLOB,
            failed_attempts INTEGER NOT NULL,
            max_attempts INTEGER NOT NULL,
            context TEXT NOT NULL,
            delivery_provider TEXT,
            delivery_status TEXT,
            delivery_reference TEXT,
            delivery_attempt INTEGER,
            CHECK ((delivery_provider IS NULL) = (delivery_status IS NULL)
                   AND (delivery_provider IS NULL) = (delivery_attempt IS NULL)
                   AND (delivery_provider IS NOT NULL OR delivery_reference IS NULL))
        ) STRICT, WITHOUT ROWID;
        INSERT INTO challenges_v7 (id, app_id, user_id, factor_id, type, mode, purpose, status, reason, created_at,
                                   expires_at, finished_at, code_hash, failed_attempts, max_attempts, context,
                                   delivery_provider, delivery_status, delivery_reference, delivery_attempt)
            SELECT id, app_id, user_id, factor_id, type, mode, purpose, status, reason, created_at,
                   expires_at, finished_at, code_hash, failed_attempts, max_attempts, context,
                   delivery_provider, delivery_status, delivery_reference, delivery_attempt
            FROM challenges;
        DROP TABLE challenges;
        ALTER TABLE challenges_v7 RENAME TO challenges;
        CREATE INDEX challenges_pending ON challenges (app_id, user_id, purpose, created_at) WHERE status = 'pending';
        CREATE INDEX challenges_by_user ON challenges (app_id, user_id, created_at);
        CREATE INDEX challenges_by_creation ON challenges (created_at);
        """

    private static let schemaV1 = """
        CREATE TABLE applications (
            id TEXT NOT NULL PRIMARY KEY,
            name TEXT NOT NULL UNIQUE,
            created_at INTEGER NOT NULL
        ) STRICT;

        CREATE TABLE api_keys (
            id TEXT NOT NULL PRIMARY KEY,
            app_id TEXT NOT NULL,
            scopes TEXT NOT NULL,
            secret_hash BLOB NOT NULL,
            created_at INTEGER NOT NULL,
            revoked_at INTEGER
        ) STRICT;
        CREATE INDEX api_keys_by_application ON api_keys (app_id);

        CREATE TABLE data_keys (
            app_id TEXT NOT NULL,
            user_id TEXT NOT NULL,
            key_id TEXT NOT NULL,
            wrapped BLOB NOT NULL,
            created_at INTEGER,
            PRIMARY KEY (app_id, user_id)
        ) STRICT;
        CREATE INDEX data_keys_by_key_id ON data_keys (key_id);

        CREATE TABLE system_keys (
            name TEXT NOT NULL PRIMARY KEY,
            key_id TEXT NOT NULL,
            wrapped BLOB NOT NULL
        ) STRICT;

        CREATE TABLE factors (
            id TEXT NOT NULL PRIMARY KEY,
            app_id TEXT NOT NULL,
            user_id TEXT NOT NULL,
            type TEXT NOT NULL,
            status TEXT NOT NULL CHECK (status IN ('pending', 'active')),
            created_at INTEGER NOT NULL,
            activated_at INTEGER,
            expires_at INTEGER,
            label TEXT NOT NULL,
            issuer TEXT,
            algorithm TEXT NOT NULL,
            digits INTEGER NOT NULL,
            period INTEGER NOT NULL,
            sealed_secret BLOB NOT NULL,
            last_step INTEGER,
            drift INTEGER NOT NULL DEFAULT 0
        ) STRICT;
        CREATE INDEX factors_by_user ON factors (app_id, user_id);
        CREATE INDEX factors_pending_by_expiry ON factors (expires_at) WHERE status = 'pending';

        CREATE TABLE recovery_codes (
            app_id TEXT NOT NULL,
            user_id TEXT NOT NULL,
            idx INTEGER NOT NULL,
            hash BLOB NOT NULL,
            created_at INTEGER NOT NULL,
            used_at INTEGER,
            PRIMARY KEY (app_id, user_id, idx)
        ) STRICT;

        CREATE TABLE user_state (
            app_id TEXT NOT NULL,
            user_id TEXT NOT NULL,
            failures INTEGER NOT NULL,
            locked_until INTEGER,
            PRIMARY KEY (app_id, user_id)
        ) STRICT;

        CREATE TABLE audit_events (
            id INTEGER PRIMARY KEY AUTOINCREMENT,
            shard INTEGER NOT NULL,
            seq INTEGER NOT NULL,
            time INTEGER NOT NULL,
            app_id TEXT,
            user_id TEXT,
            user_ref TEXT,
            actor TEXT NOT NULL,
            action TEXT NOT NULL,
            outcome TEXT NOT NULL,
            reason TEXT,
            factor_id TEXT,
            details TEXT NOT NULL,
            prev_mac BLOB NOT NULL,
            mac BLOB NOT NULL,
            UNIQUE (shard, seq)
        ) STRICT;
        CREATE INDEX audit_events_by_user ON audit_events (app_id, user_id, id);

        CREATE TABLE audit_shards (
            shard INTEGER NOT NULL PRIMARY KEY,
            head_seq INTEGER NOT NULL,
            head_mac BLOB NOT NULL,
            first_seq INTEGER NOT NULL,
            first_prev_mac BLOB NOT NULL,
            tag BLOB NOT NULL
        ) STRICT;
        """
}
