import Foundation
import Logging
import PostgresNIO
import Synchronization
import TwofoldCore

/// The ``TwofoldStore`` on PostgreSQL, for deployments of several nodes sharing one database.
///
/// Built on PostgresNIO's `PostgresClient`, a connection pool that only works while its `run()`
/// method runs. Two ways to own that:
/// - ``connect(url:maximumConnections:keepsConnectionsOpen:connectionWait:drainLinger:logger:)`` checks that the server takes the
///   URL's credentials, starts the pool in a task the store owns, and ``close()`` stops it. The
///   simple choice, for the CLI and tests.
/// - ``init(url:maximumConnections:keepsConnectionsOpen:connectionWait:drainLinger:logger:)`` then ``run()`` in a long-running task
///   of your own (a service group), which returns when ``close()`` is called or the task is cancelled.
///
/// Every method takes a pooled connection for one statement or one transaction (the batching of
/// attempts keeps one across batches while they keep coming), waiting at most
/// `connectionWait` for one: the pool itself would retry a server that does not answer for a
/// minute before failing, and a verification must fail closed, and soon. State that must change
/// once changes in one conditional statement; a method that takes an `AuditAppend` writes its
/// change and the event in the same transaction, locking only the event's shard head (one of
/// 64). Writes to one user's rows hold a transaction-scoped advisory lock on that user. Attempts
/// that arrive together are read in one statement, decided here, and written in one call that
/// checks nothing changed since the read and commits them all at once (group commit, see
/// `PostgresStore+AttemptBatch.swift`); attempts of different users wait for each other only on
/// the head of a shard they share, for the length of that call.
///
/// To run the pool under swift-service-lifecycle, declare `extension PostgresStore: Service {}`
/// where ServiceLifecycle is a dependency (``run()`` has the signature `Service` asks for), and
/// add the store to the service group; its graceful shutdown cancels ``run()``.
public final class PostgresStore: TwofoldStore {
    let client: PostgresClient
    let logger: Logger
    /// What the store connects to, without the password.
    public let url: PostgresURL
    /// How long a call waits for a pooled connection before failing with `unavailable`.
    public let connectionWait: Duration
    /// Where the timers of ``connectionWait`` and of ``drainLinger`` run.
    let timerLoop: any EventLoop = PostgresClient.defaultEventLoopGroup.any()
    private let lifecycle = Mutex(Lifecycle())
    /// The keys without a MAC when this instance applied ``PostgresMigration/apiKeyMACs``.
    let migratedAPIKeys = Mutex<[String]>([])
    /// Attempts waiting for a batch (see ``queueAttempt(_:closures:)``).
    let attemptQueue = Mutex(AttemptQueue())
    /// How many batches of attempts may run at once (drains, see ``queueAttempt(_:closures:)``):
    /// two, the second only while many attempts wait, so that under load one batch's statements
    /// run while the other's commit waits, and otherwise batches stay as large as they come.
    /// Every batch costs its round trips whatever its size: more drains make smaller batches,
    /// which cost more per attempt on a busy server, and a second drain that ran all the time
    /// would raise the latency of a steady load.
    let attemptDrains: Int
    /// How long a drain keeps its connection after its last batch (see ``defaultDrainLinger``);
    /// nil where the pool has no connection to spare for that, and each batch takes one.
    let drainLinger: TimeAmount?
    /// How many attempts must be waiting for a second drain to start.
    static let attemptsWaitingForSecondDrain = 16
    static let largestAttemptBatch = 64
    private let stopSignal: AsyncStream<Void>
    private let stopContinuation: AsyncStream<Void>.Continuation
    /// Whether the last wait for a connection ended without one (the server down, most likely),
    /// and no connection was handed out since. Meanwhile calls wait ``waitWhileUnreachable``
    /// instead of ``connectionWait``: during an outage each request then fails in about a second,
    /// not ten (and not ten for each batch of verifications queued behind another). The pool
    /// keeps reconnecting in the background; its first connection clears this.
    private let lastWaitFailed = Mutex(false)
    static let waitWhileUnreachable: Duration = .seconds(1)
    /// Whether calls wait ``waitWhileUnreachable`` now (see ``lastWaitFailed``).
    var waitsBriefly: Bool { lastWaitFailed.withLock { $0 } }

    private struct Lifecycle {
        var running = false
        var closed = false
        /// The task running the pool, when ``connect(url:maximumConnections:keepsConnectionsOpen:connectionWait:drainLinger:logger:)`` started it.
        var runner: Task<Void, Never>?
        /// Set just before the pool's `run()` is entered.
        var poolStarted = false
        var startWaiters: [CheckedContinuation<Void, Never>] = []
    }

    /// A store for `url` whose pool does not run yet: call ``run()``.
    /// - Parameters:
    ///   - url: `postgres://USER:PASSWORD@HOST:PORT/DATABASE?sslmode=…` (see ``PostgresURL``).
    ///   - maximumConnections: The most connections the pool opens (at least 1).
    ///   - keepsConnectionsOpen: Whether the pool opens all `maximumConnections` at once and keeps
    ///     them (a server), rather than opening them on demand and closing idle ones (a command
    ///     or a test). See ``poolOptions(maximumConnections:keepsConnectionsOpen:)``.
    ///   - connectionWait: How long a call waits for a connection (the server unreachable, or
    ///     every connection busy) before failing with `unavailable`.
    ///   - drainLinger: How long the verification attempts' batching keeps a connection after
    ///     its last batch, for the next attempt (see ``defaultDrainLinger``).
    /// - Throws: `configuration` for a URL that does not parse or a pool size below 1.
    public init(
        url: String, maximumConnections: Int = 20, keepsConnectionsOpen: Bool = false, connectionWait: Duration = .seconds(10),
        drainLinger: Duration = PostgresStore.defaultDrainLinger, logger: Logger = Logger(label: "twofold.postgres")
    ) throws(TwofoldError) {
        guard maximumConnections >= 1 else {
            throw TwofoldError(.configuration, "the PostgreSQL pool needs at least 1 connection, not \(maximumConnections)")
        }
        guard connectionWait > .zero else {
            throw TwofoldError(.configuration, "the wait for a PostgreSQL connection must be positive")
        }
        let url = try PostgresURL(url)
        var configuration = url.clientConfiguration()
        configuration.options = Self.poolOptions(maximumConnections: maximumConnections, keepsConnectionsOpen: keepsConnectionsOpen)
        self.url = url
        self.connectionWait = connectionWait
        self.attemptDrains = min(2, maximumConnections)
        self.drainLinger = maximumConnections > attemptDrains ? TimeAmount(drainLinger) : nil
        // What PostgresNIO logs stops at `debug` (see DriverLogHandler).
        var driverLogger = logger
        driverLogger.handler = DriverLogHandler(base: logger.handler)
        self.logger = driverLogger
        self.client = PostgresClient(configuration: configuration, backgroundLogger: driverLogger)
        (stopSignal, stopContinuation) = AsyncStream<Void>.makeStream()
    }

    /// The pool's settings.
    ///
    /// Why they differ from PostgresNIO's defaults: every time a connection goes back to the
    /// pool, the pool starts timers for it (an idle timeout, 60 s, for connections above the
    /// minimum, and a keep-alive, 30 s) as `Task.sleep`s, and cancels them when the connection is
    /// leased again. A cancelled sleep keeps its allocation until its deadline, so under load
    /// (hundreds of leases a second) tens of thousands of dead timers pile up in the server's
    /// memory. So a server keeps its whole pool open (no idle timeouts: the minimum is the
    /// maximum), and the keep-alive runs after 10 s of idleness instead of 30 s, which bounds
    /// what lingers to a tenth of those timers and still finds a connection that died while
    /// idle before a verification needs it (with no keep-alive at all, such a connection would
    /// fail the next query).
    static func poolOptions(maximumConnections: Int, keepsConnectionsOpen: Bool) -> PostgresClient.Configuration.Options {
        var options = PostgresClient.Configuration.Options()
        options.maximumConnections = maximumConnections
        options.minimumConnections = keepsConnectionsOpen ? maximumConnections : 0
        options.keepAliveBehavior = .init(frequency: keepAliveFrequency)
        return options
    }

    static let keepAliveFrequency: Duration = .seconds(10)

    /// A store whose pool runs in a task the store owns, after one connection proved that the
    /// server answers and takes the credentials.
    /// - Throws: `configuration` for a bad URL or unusable TLS settings; `unavailable` with the
    ///   server's reason (unreachable, authentication failed, no such database).
    public static func connect(
        url: String, maximumConnections: Int = 20, keepsConnectionsOpen: Bool = false, connectionWait: Duration = .seconds(10),
        drainLinger: Duration = PostgresStore.defaultDrainLinger, logger: Logger = Logger(label: "twofold.postgres")
    ) async throws -> PostgresStore {
        let store = try PostgresStore(url: url, maximumConnections: maximumConnections, keepsConnectionsOpen: keepsConnectionsOpen,
                                      connectionWait: connectionWait, drainLinger: drainLinger, logger: logger)
        try await store.probe()
        store.lifecycle.withLock { state in
            state.runner = Task { await store.run() }
        }
        // Queries leased before the pool runs work, but PostgresNIO warns about each; the first
        // ones follow at once (migrations), so return only when the pool is about to run.
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            let started = store.lifecycle.withLock { state in
                if !state.poolStarted { state.startWaiters.append(continuation) }
                return state.poolStarted
            }
            if started { continuation.resume() }
        }
        return store
    }

    /// Opens and closes one connection outside the pool, which reports why it cannot connect
    /// (where the pool would only retry).
    private func probe() async throws {
        let configuration = try url.connectionConfiguration()
        do {
            let connection = try await PostgresConnection.connect(configuration: configuration, id: 0, logger: logger)
            try await connection.close()
        } catch {
            throw TwofoldError(.unavailable, "cannot connect to PostgreSQL at \(url): \(Self.describe(error))")
        }
    }

    /// Runs the connection pool until ``close()`` is called, the calling task is cancelled, or a
    /// service group shuts down gracefully.
    /// Calls wait for a connection (up to `connectionWait`) until it runs. Call it once.
    public func run() async {
        let first = lifecycle.withLock { state in
            defer { state.running = true }
            return !state.running
        }
        precondition(first, "PostgresStore.run() must be called only once")
        await withDiscardingTaskGroup { group in
            group.addTask {
                let waiters = self.lifecycle.withLock { state in
                    state.poolStarted = true
                    defer { state.startWaiters = [] }
                    return state.startWaiters
                }
                for waiter in waiters { waiter.resume() }
                await self.client.run()
                // The pool stopped on its own (a service group's graceful shutdown): stop too.
                self.stopContinuation.finish()
            }
            // Ends when close() finishes the stream, or when this task is cancelled.
            for await _ in stopSignal {}
            group.cancelAll()
        }
    }

    /// Stops the pool, closing its connections; later calls fail with `unavailable`. When the
    /// store runs its own pool, returns once the pool has stopped.
    public func close() async throws {
        let runner = lifecycle.withLock { state in
            state.closed = true
            return state.runner
        }
        stopContinuation.finish()
        await runner?.value
    }

    public func ping() async throws {
        try await withConnection("answer a ping") { connection in
            try await connection.run("SELECT 1", logger: self.logger)
        }
    }

    // MARK: Connections and transactions

    /// Runs `body` on a pooled connection, mapping failures to ``TwofoldError``. Fails with
    /// `unavailable` when no connection is handed out within `connectionWait`; `body` then never runs.
    func withConnection<Result: Sendable>(
        _ what: String, _ body: @escaping @Sendable (PostgresConnection) async throws -> Result
    ) async throws -> Result {
        if lifecycle.withLock({ $0.closed }) {
            throw TwofoldError(.unavailable, "the PostgreSQL store is closed")
        }
        let wait = lastWaitFailed.withLock { $0 } ? min(connectionWait, Self.waitWhileUnreachable) : connectionWait
        do {
            // The call runs in a child task, so that the wait for a connection can be cancelled
            // when the wait ends (the pool would retry an unreachable server for a minute).
            // A timer on an event loop rather than a sleeping task keeps this to one extra task.
            return try await withThrowingTaskGroup(of: Void.self) { group in
                do {
                    return try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Result, any Error>) in
                        let lease = Lease(continuation)
                        let timer = timerLoop.scheduleTask(in: TimeAmount(wait)) {
                            lease.expire(after: wait)
                        }
                        group.addTask {
                            do {
                                let value = try await self.client.withConnection { connection in
                                    timer.cancel()
                                    self.lastWaitFailed.withLock { $0 = false }
                                    try lease.enter()
                                    return try await body(connection)
                                }
                                lease.finish(.success(value))
                            } catch {
                                lease.finish(.failure(error))
                            }
                        }
                    }
                } catch {
                    // Stop waiting for a connection that came too late, if it has not come at all.
                    group.cancelAll()
                    if error is LeaseTimeout { lastWaitFailed.withLock { $0 = true } }
                    throw error
                }
            }
        } catch {
            throw storeError(error, while: what)
        }
    }

    /// Runs `body` in a READ COMMITTED transaction: committed when it returns, rolled back when it throws.
    func transaction<Result: Sendable>(
        _ what: String, _ body: @escaping @Sendable (PostgresConnection) async throws -> Result
    ) async throws -> Result {
        try await withConnection(what) { connection in
            try await self.inTransaction(on: connection, body)
        }
    }

    /// Runs `body` in a READ COMMITTED transaction on `connection`: committed when it returns,
    /// rolled back when it throws (and the connection closed if even that fails).
    func inTransaction<Result: Sendable>(
        on connection: PostgresConnection, _ body: @Sendable (PostgresConnection) async throws -> Result
    ) async throws -> Result {
        try await connection.run("BEGIN", logger: logger)
        let result: Result
        do {
            result = try await body(connection)
        } catch {
            do {
                try await connection.run("ROLLBACK", logger: logger)
            } catch let rollbackError {
                // The connection's state is unknown: never hand it out again.
                logger.error("ROLLBACK failed; closing the connection", metadata: ["error": "\(Self.describe(rollbackError))"])
                do {
                    try await connection.close()
                } catch let closeError {
                    logger.error("closing the connection failed", metadata: ["error": "\(Self.describe(closeError))"])
                }
            }
            throw error
        }
        try await connection.run("COMMIT", logger: logger)
        return result
    }

    /// One call's wait for a connection and its result: resumes the caller once, with the
    /// result, the error, or ``LeaseTimeout`` when the wait ended before a connection came. A
    /// connection that comes after that is handed back unused.
    private final class Lease<Result: Sendable>: Sendable {
        private enum State {
            case waiting(CheckedContinuation<Result, any Error>)
            case leased(CheckedContinuation<Result, any Error>)
            case done
        }

        private let state: Mutex<State>

        init(_ continuation: CheckedContinuation<Result, any Error>) {
            state = Mutex(.waiting(continuation))
        }

        /// Called with the connection; throws if the wait already ended.
        func enter() throws {
            try state.withLock { state in
                guard case .waiting(let continuation) = state else { throw LeaseTimeout(wait: .zero) }
                state = .leased(continuation)
            }
        }

        /// Called when the wait ends: resumes the caller with ``LeaseTimeout`` unless a connection came.
        func expire(after wait: Duration) {
            let continuation = state.withLock { state -> CheckedContinuation<Result, any Error>? in
                guard case .waiting(let continuation) = state else { return nil }
                state = .done
                return continuation
            }
            continuation?.resume(throwing: LeaseTimeout(wait: wait))
        }

        /// Called with the call's outcome; resumes the caller unless the wait ended first.
        func finish(_ result: Swift.Result<Result, any Error>) {
            let continuation = state.withLock { state -> CheckedContinuation<Result, any Error>? in
                switch state {
                case .waiting(let continuation), .leased(let continuation):
                    state = .done
                    return continuation
                case .done:
                    return nil
                }
            }
            continuation?.resume(with: result)
        }
    }

    /// No connection within `wait`.
    struct LeaseTimeout: Error {
        let wait: Duration
    }

    /// An error thrown by `decide`, carried through the transaction to be rethrown unchanged.
    struct DecisionError: Error {
        let underlying: any Error
    }

    /// The ``TwofoldError`` for a failure: `conflict` for a unique violation, `unavailable` for
    /// anything else from the driver or the server. The message names the SQLSTATE and the
    /// server's message, never a bound value.
    func storeError(_ error: any Error, while what: String) -> any Error {
        switch error {
        case let error as TwofoldError:
            return error
        case let error as DecisionError:
            return error.underlying
        case let error as PSQLError where error.serverInfo?[.sqlState] == "23505":
            let constraint = error.serverInfo?[.constraintName] ?? "a unique constraint"
            return TwofoldError(.conflict, "could not \(what): it already exists (\(constraint))")
        case let timeout as LeaseTimeout:
            return TwofoldError(.unavailable, "PostgreSQL could not \(what): no connection within \(timeout.wait): the server does not answer, or every connection is busy")
        case is CancellationError:
            return error
        default:
            return TwofoldError(.unavailable, "PostgreSQL could not \(what): \(Self.describe(error))")
        }
    }

    /// What went wrong, without the query's bound values.
    static func describe(_ error: any Error) -> String {
        switch error {
        case let error as PSQLError:
            if let info = error.serverInfo {
                return "\(info[.message] ?? "server error") (SQLSTATE \(info[.sqlState] ?? "?"))"
            }
            if error.code == .sslUnsupported {
                return "the server does not offer TLS, which the URL's sslmode requires"
            }
            if let underlying = error.underlying {
                return "\(error.code): \(underlying)"
            }
            return "\(error.code)"
        case let error as PostgresDecodingError:
            return "column \(error.columnName) holds an unexpected \(error.postgresType) value"
        default:
            return "\(type(of: error))"
        }
    }
}
