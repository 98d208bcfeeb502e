/// One versioned change of a ``PostgresStore``'s schema. A released migration is never edited:
/// a change of schema is a new migration appended to ``all``.
///
/// Conventions: times are BIGINT milliseconds since the Unix epoch; TOTP steps and HOTP counters
/// are stored order-preserving (``StoredStep``); secrets, hashes, keys and
/// MACs are BYTEA written exactly as the core hands them over. No foreign keys: the core decides
/// what belongs together, and an erasure must not be blocked by a reference.
struct PostgresMigration: Sendable {
    /// Applied in increasing order; recorded in `schema_migrations`.
    let version: Int
    let name: String
    /// Run one by one, in the migration's transaction (PostgreSQL's DDL is transactional).
    let statements: [String]

    /// Every migration, oldest first.
    static let all: [PostgresMigration] = [
        .initialSchema, .recordAttempts, .factorFillFactor, .challenges, .pushDevices, .auditFunctions, .apiKeyMACs, .securityKeys, .hardwareTokens,
    ]
}
