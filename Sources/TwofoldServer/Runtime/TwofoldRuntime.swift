import Foundation
import Logging
import TwofoldCore
import TwofoldPostgres
import TwofoldSQLite

/// An open Twofold node without any server: the store named by the configuration, the keyring,
/// and the started services. `twofold serve` builds its HTTP application on one; the admin commands
/// use one directly, so both run the same rules on the same store.
public struct TwofoldRuntime: Sendable {
    /// The name of the application every node ensures exists, and the first API key serves.
    public static let defaultApplicationName = "default"

    public let configuration: TwofoldConfiguration
    public let services: TwofoldServices
    /// The store, which only the runtime opens, migrates and closes.
    let store: any TwofoldStore
    /// The clock the services read, which the HTTP layer also uses for `Retry-After`.
    public let clock: any WallClock
    /// The application named `default`.
    public let defaultApplication: Application
    let logger: Logger

    /// Opens the store, loads the master keys, starts the services (migrating the store) and
    /// ensures the application `default` exists.
    ///
    /// In development with no `TWOFOLD_MASTER_KEY_FILE`, a key is generated into
    /// `<data dir>/master.key` (mode 0600) on first start and a warning says it is a development key.
    /// - Parameters:
    ///   - configuration: Which store, which keys, which policy.
    ///   - logger: Where the runtime and the PostgreSQL pool log.
    ///   - serving: True for a long-running server (`twofold serve`): a PostgreSQL pool then
    ///     opens all its connections at once and keeps them. An admin command opens what it uses.
    ///   - clock: The services' clock; tests pass a fixed one.
    ///   - random: The services' random source.
    /// - Throws: `configuration` for keys that cannot be read; `unavailable` for a store that
    ///   cannot be opened; anything the services' start throws.
    public static func open(
        _ configuration: TwofoldConfiguration,
        logger: Logger,
        serving: Bool = false,
        clock: any WallClock = SystemWallClock(),
        random: any RandomSource = SystemRandomSource()
    ) async throws -> TwofoldRuntime {
        let keyring = try loadKeyring(configuration, logger: logger, random: random)
        let store: any TwofoldStore
        switch configuration.store {
        case .sqlite(let path):
            store = try SQLiteStore(path: path, durability: configuration.sqliteDurability)
        case .postgres(let url):
            // The store runs its connection pool in a task of its own until close().
            store = try await PostgresStore.connect(url: url, maximumConnections: configuration.postgresPoolSize,
                                                   keepsConnectionsOpen: serving, logger: logger)
        }
        do {
            let services = try await TwofoldServices.start(store: store, keyring: keyring, policy: configuration.policy,
                                                       clock: clock, random: random)
            let application = try await services.applications.ensureApplication(named: defaultApplicationName, actor: "system")
            logger.info("store open", metadata: [
                "store": "\(configuration.store)",
                "sealing_key": "\(keyring.sealing.id)",
                "master_keys": "\(keyring.keyIDs.count)",
            ])
            return TwofoldRuntime(configuration: configuration, services: services, store: store, clock: clock,
                                  defaultApplication: application, logger: logger)
        } catch {
            try? await store.close()
            throw error
        }
    }

    /// Runs the store's migrations again (``open(_:logger:serving:clock:random:)`` already did).
    public func migrate() async throws {
        try await store.migrate()
    }

    /// Closes the store: a SQLite store lets queued writes commit; a PostgreSQL store stops its pool.
    public func close() async throws {
        try await store.close()
    }

    /// On a store with no API key at all, creates one for `default` with every scope, writes the
    /// token to `<data dir>/initial-api-key` (mode 0600) and returns that path. The token itself
    /// is never logged.
    /// - Returns: The file's path, or `nil` when the store already had a key.
    public func ensureInitialAPIKey() async throws -> String? {
        guard try await services.apiKeys.apiKeys(nil).isEmpty else { return nil }
        let created = try await services.apiKeys.createAPIKey(defaultApplication.id, scopes: Set(APIKeyScope.allCases), actor: "system")
        let path = configuration.initialAPIKeyFile
        try FileManager.default.createDirectory(atPath: configuration.dataDirectory, withIntermediateDirectories: true,
                                                attributes: [.posixPermissions: 0o700])
        try PrivateFile.create(path, contents: created.token + "\n", replacing: true)
        logger.notice("created the initial API key", metadata: ["key_id": "\(created.record.id)", "file": "\(path)"])
        return path
    }

    // MARK: - Master keys

    static func loadKeyring(_ configuration: TwofoldConfiguration, logger: Logger, random: any RandomSource) throws -> Keyring {
        if !configuration.masterKeyFiles.isEmpty {
            return try Keyring.load(paths: configuration.masterKeyFiles)
        }
        guard configuration.deployment == .development else {
            throw TwofoldError(.configuration, "TWOFOLD_MASTER_KEY_FILE is required when TWOFOLD_ENV=production")
        }
        let path = configuration.developmentMasterKeyFile
        var generated = false
        if !FileManager.default.fileExists(atPath: path) {
            try FileManager.default.createDirectory(atPath: configuration.dataDirectory, withIntermediateDirectories: true,
                                                    attributes: [.posixPermissions: 0o700])
            do {
                try PrivateFile.create(path, contents: MasterKey.generate(using: random).fileContents, replacing: false)
                generated = true
            } catch let error as POSIXError where error.code == .EEXIST {
                // Another process made it first: use theirs.
            }
        }
        logger.warning(
            "\(generated ? "generated and using" : "using") a DEVELOPMENT master key: anyone who can read the file can open every secret; for production set TWOFOLD_ENV=production and TWOFOLD_MASTER_KEY_FILE",
            metadata: ["file": "\(path)"])
        return try Keyring.load(paths: [path])
    }
}
