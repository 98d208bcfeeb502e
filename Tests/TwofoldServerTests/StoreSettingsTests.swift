import Foundation
import Logging
import PostgresNIO
import Testing
import TwofoldCore
import TwofoldPostgresTesting
@testable import TwofoldSQLite
import TwofoldTesting
@testable import TwofoldServer

/// The store settings, checked on the store a runtime opens from them as `twofold serve` opens
/// it, not only for how they parse (``ConfigurationTests``).
@Suite("Store settings reach the store: SQLite durability, PostgreSQL pool size")
struct StoreSettingsTests {
    static func quietLogger() -> Logger {
        var logger = Logger(label: "twofold.test")
        logger.logLevel = .critical
        return logger
    }

    /// `normal` fails if the setting is ignored (the default is `full`).
    @Test("TWOFOLD_SQLITE_SYNCHRONOUS decides whether each commit is synced before its callers hear back",
          arguments: [SQLiteDurability.full, .normal])
    func sqliteDurability(_ durability: SQLiteDurability) async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("twofold-durability-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: directory) }
        let configuration = try TwofoldConfiguration.load(file: nil, environment: [
            "TWOFOLD_DATA_DIR": directory.path,
            "TWOFOLD_SQLITE_SYNCHRONOUS": durability.rawValue,
        ])
        let runtime = try await TwofoldRuntime.open(configuration, logger: Self.quietLogger(), serving: true, creating: true)
        do {
            let store = try #require(runtime.store as? SQLiteStore)
            #expect(store.durability == durability)
            // The writer runs at `synchronous = NORMAL` either way (see SQLiteDurability): with
            // `full` the WAL flusher syncs after every commit, off the writer, and F_FULLFSYNC is
            // asked for (on Apple platforms).
            #expect(try await store.writerPragma("synchronous") == "1")
            #expect(try await store.writerPragma("fullfsync") == (durability == .full ? "1" : "0"))
            let syncsBefore = store.batcher.flusher?.syncs
            #expect(try await runtime.ensureInitialAPIKey() != nil)  // a write through the services
            let syncsAfter = store.batcher.flusher?.syncs
            switch durability {
            case .full:
                #expect((syncsAfter ?? 0) > (syncsBefore ?? 0), "the write was not synced: \(String(describing: syncsAfter))")
            case .normal:
                #expect(syncsAfter == nil, "a store at normal durability syncs every commit")
            }
        } catch {
            try? await runtime.close()
            throw error
        }
        try await runtime.close()
    }

    /// Fails if the setting is ignored: the default pool is 8 connections.
    @Test("TWOFOLD_POSTGRES_POOL_SIZE is how many connections a serving node keeps, however much runs at once")
    func postgresPoolSize() async throws {
        try await PostgresTestDatabase.with { database in
            let directory = FileManager.default.temporaryDirectory.appendingPathComponent("twofold-pool-\(UUID().uuidString)")
            defer { try? FileManager.default.removeItem(at: directory) }
            let configuration = try TwofoldConfiguration.load(file: nil, environment: [
                "TWOFOLD_DATA_DIR": directory.path,
                "TWOFOLD_STORE": database.url,
                "TWOFOLD_POSTGRES_POOL_SIZE": "3",
            ])
            /// The client connections to the test's database, less the one asking.
            func connections() async throws -> Int {
                try await database.query("""
                    SELECT count(*)::int8 FROM pg_stat_activity
                    WHERE datname = current_database() AND backend_type = 'client backend' AND pid <> pg_backend_pid()
                    """) { try $0.decode(Int.self) }.first ?? -1
            }
            let runtime = try await TwofoldRuntime.open(configuration, logger: Self.quietLogger(), serving: true, creating: true)
            do {
                // A serving node opens its whole pool at once.
                let deadline = ContinuousClock.now + .seconds(10)
                while try await connections() < 3, ContinuousClock.now < deadline {
                    try await Task.sleep(for: .milliseconds(100))
                }
                // More work at once than connections: each read takes one until it is done.
                let services = runtime.services
                let application = runtime.defaultApplication.id
                try await withThrowingTaskGroup(of: Void.self) { group in
                    for index in 0..<64 {
                        group.addTask {
                            _ = try await services.enrollment.factors(application, try UserID("user\(index)"))
                        }
                    }
                    try await group.waitForAll()
                }
                // Let any connection opened beyond the pool show up.
                try await Task.sleep(for: .seconds(1))
                let kept = try await connections()
                #expect(kept == 3, "the node keeps \(kept) connections")
            } catch {
                try? await runtime.close()
                throw error
            }
            try await runtime.close()
        }
    }
}
