import Foundation
import Testing
import TwofoldCore
import TwofoldPostgres
import TwofoldSQLite
import TwofoldPostgresTesting
import TwofoldTesting

/// The stores every conformance test runs against, each time on a fresh one. A store joins the
/// suite by a case here.
enum StoreUnderTest: String, CaseIterable, Sendable, CustomTestStringConvertible {
    case inMemory = "in-memory"
    case sqlite = "SQLite"
    case postgres = "PostgreSQL"

    /// The arguments of every conformance test.
    static let all = allCases

    var testDescription: String { rawValue }

    /// Runs `body` on a fresh, migrated, empty store of this kind, then disposes of the store
    /// whether `body` threw or not: closed, and its SQLite file removed or its PostgreSQL
    /// database dropped.
    ///
    /// PostgreSQL needs a server (`TWOFOLD_TEST_POSTGRES_URL`, see ``PostgresTestDatabase``):
    /// without one the test is skipped with a printed reason, or fails when `CI` is set.
    func withFreshStore<Value: Sendable>(_ body: (any TwofoldStore) async throws -> Value) async throws -> Value {
        switch self {
        case .inMemory:
            return try await Self.run(body, on: InMemoryStore())
        case .sqlite:
            let directory = FileManager.default.temporaryDirectory
                .appendingPathComponent("twofold-conformance-\(UUID().uuidString)", isDirectory: true)
            defer { Self.remove(directory) }
            return try await Self.run(body, on: try SQLiteStore(path: directory.appendingPathComponent("twofold.sqlite").path))
        case .postgres:
            return try await PostgresTestDatabase.with { database in
                try await body(try await database.makeStore())
            }
        }
    }

    /// Migrates `store`, runs `body` on it, and closes it, whether `body` threw or not.
    private static func run<Value>(_ body: (any TwofoldStore) async throws -> Value, on store: any TwofoldStore) async throws -> Value {
        let result: Result<Value, any Error>
        do {
            try await store.migrate()
            result = .success(try await body(store))
        } catch {
            result = .failure(error)
        }
        try await store.close()
        return try result.get()
    }

    /// Removes a store's temporary directory (the database file, its WAL and shared memory).
    private static func remove(_ directory: URL) {
        guard FileManager.default.fileExists(atPath: directory.path) else { return }
        do {
            try FileManager.default.removeItem(at: directory)
        } catch {
            Issue.record(error, "removing \(directory.path)")
        }
    }
}
