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
    /// - Returns: The versions this call applied, in order; empty when there was nothing to do.
    @discardableResult
    public func migrate() async throws -> [Int] {
        let applied = try await transaction("migrate the schema") { [self] connection in
            try await connection.run(
                "SELECT pg_advisory_xact_lock(\(Self.migrationLock.0), \(Self.migrationLock.1))", logger: logger)
            try await connection.run("""
                CREATE TABLE IF NOT EXISTS schema_migrations (
                    version INT PRIMARY KEY,
                    name TEXT NOT NULL,
                    applied_at BIGINT NOT NULL
                )
                """, logger: logger)
            var done = Set<Int>()
            for try await version in try await connection.query("SELECT version FROM schema_migrations", logger: logger).decode(Int.self) {
                done.insert(version)
            }
            var applied: [Int] = []
            for migration in PostgresMigration.all where !done.contains(migration.version) {
                for statement in migration.statements {
                    try await connection.run(PostgresQuery(unsafeSQL: statement), logger: logger)
                }
                try await connection.run("""
                    INSERT INTO schema_migrations (version, name, applied_at)
                    VALUES (\(migration.version), \(migration.name), \(StoredTime.milliseconds(Date())))
                    """, logger: logger)
                applied.append(migration.version)
            }
            return applied
        }
        if !applied.isEmpty {
            logger.info("migrated the PostgreSQL schema", metadata: ["versions": "\(applied)"])
        }
        return applied
    }
}
