import Foundation
import Logging
import TwofoldCore
import TwofoldDelivery
import TwofoldHTTP
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
    /// The service's metrics, which the challenge machinery reports to and `/metrics` serves.
    public let metrics: TwofoldMetrics
    /// The outbound client of the delivery providers, if any makes outbound calls.
    let outbound: OutboundHTTP?
    let logger: Logger
    /// The versions of the migrations ``open(_:logger:serving:creating:clock:random:)`` applied.
    private(set) var migrationsAppliedAtOpen: [Int] = []

    /// Opens the store, loads the master keys, starts the services (migrating the store) and
    /// ensures the application `default` exists.
    ///
    /// In development with no `TWOFOLD_MASTER_KEY_FILE`, the key is `<data dir>/master.key`,
    /// and a warning says it is a development key. Only when `creating` is one generated there
    /// (mode 0600), and only for a store that holds nothing sealed yet.
    /// - Parameters:
    ///   - configuration: Which store, which keys, which policy.
    ///   - logger: Where the runtime and the PostgreSQL pool log.
    ///   - serving: True for a long-running server (`twofold serve`): a PostgreSQL pool then
    ///     opens all its connections at once and keeps them. An admin command opens what it uses.
    ///   - creating: True for `twofold serve` and `twofold migrate`, which may create the SQLite
    ///     store and the development key. Otherwise (the admin commands) both must exist: a
    ///     command run without the server's configuration is refused instead of creating a
    ///     second, empty store.
    ///   - clock: The services' clock; tests pass a fixed one.
    ///   - random: The services' random source.
    /// - Throws: `configuration`, before anything is created, naming the setting to fix: no
    ///   store or no key found (when not `creating`), a key file that cannot be read or that
    ///   other users can read in production, an unusable data folder, a store whose
    ///   development key is missing; `unavailable` for a store that cannot be opened; anything
    ///   the services' start throws.
    public static func open(
        _ configuration: TwofoldConfiguration,
        logger: Logger,
        serving: Bool = false,
        creating: Bool = false,
        clock: any WallClock = SystemWallClock(),
        random: any RandomSource = SystemRandomSource(),
        metrics: TwofoldMetrics = TwofoldMetrics()
    ) async throws -> TwofoldRuntime {
        if !creating { try requireExistingStore(configuration) }
        var loadedKeys = try loadMasterKeys(configuration, creating: creating, logger: logger)
        if creating, needsDataDirectory(configuration, generatingKey: loadedKeys == nil) {
            try prepareDataDirectory(configuration)
        }
        var storeIsNew = false
        if loadedKeys == nil, case .sqlite(let path) = configuration.store, !FileManager.default.fileExists(atPath: path) {
            // A store this start creates holds nothing sealed: the key comes first, as a start
            // that fails between the two must not leave a store without its key.
            loadedKeys = try await generateDevelopmentKey(configuration, checking: nil, logger: logger, random: random)
            storeIsNew = true
        }
        let store: any TwofoldStore
        switch configuration.store {
        case .sqlite(let path):
            store = try SQLiteStore(path: path, durability: configuration.sqliteDurability)
        case .postgres(let url):
            if let warning = configuration.storeTransportWarning {
                logger.warning("\(warning)", metadata: ["store": "\(configuration.store)"])
            }
            // The store runs its connection pool in a task of its own until close().
            store = try await PostgresStore.connect(url: url, maximumConnections: configuration.postgresPoolSize,
                                                   keepsConnectionsOpen: serving, logger: logger)
        }
        var registry: ProviderRegistry?
        do {
            registry = try ProviderRegistry.build(configuration.delivery, logger: logger)
            let migrated = try await store.migrate()
            let keyring: Keyring
            if let loadedKeys {
                keyring = loadedKeys
            } else {
                keyring = try await generateDevelopmentKey(configuration, checking: storeIsNew ? nil : store, logger: logger, random: random)
            }
            let services = try await TwofoldServices.start(store: store, keyring: keyring, policy: configuration.policy,
                                                       challengePolicy: configuration.challengePolicy,
                                                       providers: registry?.providers ?? .none,
                                                       pushPolicy: configuration.pushPolicy(providers: registry?.push ?? []), observer: metrics,
                                                       clock: clock, random: random)
            let application = try await services.applications.ensureApplication(named: defaultApplicationName, actor: "system")
            logger.info("store open", metadata: [
                "store": "\(configuration.store)",
                "sealing_key": "\(keyring.sealing.id)",
                "master_keys": .stringConvertible(keyring.keyIDs.count),
            ])
            var runtime = TwofoldRuntime(configuration: configuration, services: services, store: store, clock: clock,
                                         defaultApplication: application, metrics: metrics, outbound: registry?.http, logger: logger)
            runtime.migrationsAppliedAtOpen = migrated
            return runtime
        } catch {
            try? await registry?.http?.shutdown()
            try? await store.close()
            throw error
        }
    }

    /// Runs the store's migrations again (``open(_:logger:serving:creating:clock:random:)`` already did).
    /// - Returns: The versions of the migrations this runtime applied, at open and now, in
    ///   order; empty when the store was already up to date.
    @discardableResult
    public func migrate() async throws -> [Int] {
        migrationsAppliedAtOpen + (try await store.migrate())
    }

    /// Closes the store: a SQLite store lets queued writes commit; a PostgreSQL store stops its pool.
    public func close() async throws {
        // Deliveries in flight get a few seconds to finish; one stuck on a provider that hangs
        // is cancelled then, and its challenge ends failed.
        async let challenges: Void = services.challenges.drain(grace: .seconds(5))
        async let pushes: Void = services.push.drain(grace: .seconds(5))
        _ = await (challenges, pushes)
        try? await outbound?.shutdown()
        try await store.close()
    }

    /// On a store with no API key at all, creates one for `default` with every scope, writes the
    /// token to `<data dir>/initial-api-key` (mode 0600) and returns that path. The token itself
    /// is never logged.
    /// - Returns: The file's path, or `nil` when the store already had a key.
    public func ensureInitialAPIKey() async throws -> String? {
        guard try await services.apiKeys.apiKeys(nil).isEmpty else { return nil }
        // The folder first: a key whose token could not be written would be lost.
        try Self.prepareDataDirectory(configuration)
        let created = try await services.apiKeys.createAPIKey(defaultApplication.id, scopes: Set(APIKeyScope.allCases), actor: "system")
        let path = configuration.initialAPIKeyFile
        try PrivateFile.create(path, contents: created.token + "\n", replacing: true)
        logger.notice("created the initial API key", metadata: ["key_id": "\(created.record.id)", "file": "\(path)"])
        return path
    }
}
