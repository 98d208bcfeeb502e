import Foundation
import Logging
import PostgresNIO
import Synchronization
import Testing
import TwofoldCore
import TwofoldPostgres
import TwofoldTesting

/// A database of its own for one test, on the server `TWOFOLD_TEST_POSTGRES_URL` names (whose
/// role may CREATEDB, as provisioning/postgres/start-throwaway.sh sets it up). Tests run in
/// parallel without seeing each other's rows, and the database is dropped afterwards.
public final class PostgresTestDatabase: Sendable {
    static let serverVariable = "TWOFOLD_TEST_POSTGRES_URL"

    /// The test server: skips the test locally when it is not configured, fails it on CI.
    static let server = ExternalTool(name: "PostgreSQL (\(serverVariable))", installHint: "provisioning/postgres/start-throwaway.sh") {
        !(ProcessInfo.processInfo.environment[serverVariable] ?? "").isEmpty
    }

    public let name: String
    /// The URL of this database, with the server's credentials.
    public let url: String
    private let stores = Mutex<[PostgresStore]>([])

    private init(name: String, url: String) {
        self.name = name
        self.url = url
    }

    /// Runs `body` with a new, empty database, then closes the stores it made and drops it.
    public static func with<Result: Sendable>(_ body: (PostgresTestDatabase) async throws -> Result) async throws -> Result {
        try server.require()
        let serverURL = ProcessInfo.processInfo.environment[serverVariable] ?? ""
        let name = "twofold_test_" + UUID().uuidString.lowercased().replacingOccurrences(of: "-", with: "")
        guard var components = URLComponents(string: serverURL) else {
            throw TwofoldError(.configuration, "\(serverVariable) is not a URL")
        }
        components.path = "/" + name
        guard let url = components.string else { throw TwofoldError(.configuration, "cannot build a URL for database \(name)") }
        // The name is ours, made of [a-z0-9_]: safe to splice into DDL, which takes no parameters.
        // template0 takes no connections, so parallel tests never find the template "in use".
        try await admin(serverURL) { client in
            try await client.query(PostgresQuery(unsafeSQL: "CREATE DATABASE \(name) TEMPLATE template0")).collect()
        }
        let database = PostgresTestDatabase(name: name, url: url)
        let result: Result
        do {
            result = try await body(database)
        } catch {
            try await database.drop(serverURL)
            throw error
        }
        try await database.drop(serverURL)
        return result
    }

    /// A store on this database, its pool running, migrated unless told otherwise. Closed when the test ends.
    public func makeStore(maximumConnections: Int = 10, keepsConnectionsOpen: Bool = false, migrated: Bool = true,
                   drainLinger: Duration = PostgresStore.defaultDrainLinger) async throws -> PostgresStore {
        let store = try await PostgresStore.connect(url: url, maximumConnections: maximumConnections,
                                                    keepsConnectionsOpen: keepsConnectionsOpen, drainLinger: drainLinger)
        stores.withLock { $0.append(store) }
        if migrated {
            try await store.migrate()
        }
        return store
    }

    /// Runs SQL on this database outside any store, for checks a store does not offer.
    public func query<Row: Sendable>(_ query: PostgresQuery, _ decode: @Sendable (PostgresRow) throws -> Row) async throws -> [Row] {
        try await Self.admin(url) { client in
            try await client.query(query).collect().map(decode)
        }
    }

    private func drop(_ serverURL: String) async throws {
        for store in stores.withLock({ $0 }) {
            try await store.close()
        }
        // FORCE ends our own leftover connections, but a test role may not end an autovacuum
        // worker that happens to be busy on the database (42501): wait for it and try again.
        var attempt = 0
        while true {
            attempt += 1
            do {
                try await Self.admin(serverURL) { client in
                    try await client.query(PostgresQuery(unsafeSQL: "DROP DATABASE IF EXISTS \(name) WITH (FORCE)")).collect()
                }
                return
            } catch let error as TwofoldError where error.message.contains("sqlState: 42501") && attempt < 20 {
                try await Task.sleep(for: .milliseconds(250))
            }
        }
    }

    /// A one-connection client on `url` for the length of `body`.
    @discardableResult
    private static func admin<Result: Sendable>(_ url: String, _ body: @Sendable (PostgresClient) async throws -> Result) async throws -> Result {
        let parsed = try PostgresURL(url)
        var configuration = PostgresClient.Configuration(
            host: parsed.host, port: parsed.port, username: parsed.username, password: parsed.password,
            database: parsed.database, tls: .disable)
        configuration.options.maximumConnections = 1
        let client = PostgresClient(configuration: configuration)
        return try await withThrowingTaskGroup(of: Result?.self) { group in
            group.addTask {
                await client.run()
                return nil
            }
            defer { group.cancelAll() }
            do {
                return try await body(client)
            } catch let error as PSQLError {
                // PSQLError's own description hides the server's message; a test's failure needs it.
                throw TwofoldError(.unavailable, "test database \(parsed.database): \(String(reflecting: error))")
            }
        }
    }
}
