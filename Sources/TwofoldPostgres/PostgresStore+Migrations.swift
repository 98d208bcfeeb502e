import Foundation
import PostgresNIO
import TwofoldCore

extension PostgresStore {
    /// The advisory lock that migrations hold, as the pair of 32-bit keys ('twof', 1). Pairs and
    /// single 64-bit keys are separate key spaces, so it never meets a user's lock.
    static let migrationLock: (Int32, Int32) = (0x7477_6F66, 1)

    /// Applies the migrations the database lacks, all in one transaction that holds an advisory
    /// lock: a node that starts while another migrates waits, then finds nothing left to do.
    /// Versions the database has that this build does not know (a newer node migrated first)
    /// are left alone.
    ///
    /// A schema already up to date is only read (`schema_migrations`), so a runtime role that may
    /// not change the schema (provisioning/postgres/create-roles.sh) opens it; one that finds a
    /// migration pending fails with `configuration`, saying to migrate as the schema's owner.
    /// - Returns: The versions this call applied, in order; empty when there was nothing to do.
    /// - Throws: `configuration` when the role lacks the rights to read the schema's version or
    ///   to apply a pending migration; `unavailable` for anything else.
    @discardableResult
    public func migrate() async throws -> [Int] {
        let applied = try await transaction("migrate the schema") { [self] connection in
            try await connection.run(
                "SELECT pg_advisory_xact_lock(\(Self.migrationLock.0), \(Self.migrationLock.1))", logger: logger)
            var done = Set<Int>()
            let exists = try await connection.rows("SELECT to_regclass('schema_migrations') IS NOT NULL", logger: logger)
                .first.map { try $0.decode(Bool.self) } ?? false
            if exists {
                do {
                    for try await version in try await connection.query("SELECT version FROM schema_migrations", logger: logger)
                        .decode(Int.self) {
                        done.insert(version)
                    }
                } catch let error as PSQLError where error.serverInfo?[.sqlState] == Self.insufficientPrivilege {
                    throw TwofoldError(.configuration, """
                        PostgreSQL role \(url.username) may not read the schema's version (\(Self.describe(error))): \
                        grant it SELECT on schema_migrations (provisioning/postgres/create-roles.sh)
                        """)
                }
            }
            let pending = PostgresMigration.all.filter { !done.contains($0.version) }
            var applied: [Int] = []
            do {
                if !exists, !pending.isEmpty {
                    try await connection.run("""
                        CREATE TABLE IF NOT EXISTS schema_migrations (
                            version INT PRIMARY KEY,
                            name TEXT NOT NULL,
                            applied_at BIGINT NOT NULL
                        )
                        """, logger: logger)
                }
                for migration in pending {
                    for statement in migration.statements {
                        try await connection.run(PostgresQuery(unsafeSQL: statement), logger: logger)
                    }
                    try await connection.run("""
                        INSERT INTO schema_migrations (version, name, applied_at)
                        VALUES (\(migration.version), \(migration.name), \(StoredTime.milliseconds(Date())))
                        """, logger: logger)
                    applied.append(migration.version)
                    if migration.version == PostgresMigration.apiKeyMACs.version {
                        // The keys of the version before, read in the migration's transaction.
                        var ids: [String] = []
                        for try await id in try await connection.query("SELECT id FROM api_keys WHERE mac IS NULL ORDER BY id", logger: logger)
                            .decode(String.self) {
                            ids.append(id)
                        }
                        migratedAPIKeys.withLock { $0 = ids }
                    }
                }
            } catch let error as PSQLError where error.serverInfo?[.sqlState] == Self.insufficientPrivilege {
                let versions = (pending.count == 1 ? "migration " : "migrations ")
                    + pending.map { String($0.version) }.joined(separator: ", ")
                throw TwofoldError(.configuration, """
                    the PostgreSQL schema needs \(versions), which role \(url.username) may not apply \
                    (\(Self.describe(error))): run `twofold migrate` with TWOFOLD_STORE naming the role that owns the \
                    schema, then start again
                    """)
            }
            return applied
        }
        if !applied.isEmpty {
            logger.info("migrated the PostgreSQL schema", metadata: ["versions": "\(applied)"])
        }
        return applied
    }

    /// SQLSTATE 42501, `insufficient_privilege`: "permission denied", "must be owner of".
    static let insufficientPrivilege = "42501"
}
