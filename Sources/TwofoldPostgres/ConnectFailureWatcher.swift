import Logging
import Synchronization

/// Whether the PostgreSQL server looks down, shared by the store and its pool's logger (see
/// `PostgresStore.serverLooksDown`).
final class ServerLooksDown: Sendable {
    private let looksDown = Mutex(false)

    var isSet: Bool { looksDown.withLock { $0 } }
    func set() { looksDown.withLock { $0 = true } }
    func clear() { looksDown.withLock { $0 = false } }
}

/// The pool's background logger: passes every record on to the store's own handler at that
/// handler's level, and calls `connectFailed` for each failed attempt to open a connection.
///
/// Why a log handler: PostgresNIO tells of a failed connection attempt only as this log record
/// (its pool's observability delegate is internal), and without it the store cannot tell a
/// server that refuses connections from a pool that is merely busy until its whole wait is up.
struct ConnectFailureWatcher: LogHandler {
    /// The message PostgresNIO logs, at `info`, when the pool could not open a connection.
    static let connectFailedMessage = "Connection creation failed"

    private var base: any LogHandler
    private let connectFailed: @Sendable () -> Void

    init(base: any LogHandler, connectFailed: @escaping @Sendable () -> Void) {
        self.base = base
        self.connectFailed = connectFailed
    }

    func log(event: LogEvent) {
        if event.message.description == Self.connectFailedMessage { connectFailed() }
        if event.level >= base.logLevel { base.log(event: event) }
    }

    /// At most `info`, so that the record watched for arrives whatever the store logs.
    var logLevel: Logger.Level {
        get { min(base.logLevel, .info) }
        set { base.logLevel = newValue }
    }

    var metadata: Logger.Metadata {
        get { base.metadata }
        set { base.metadata = newValue }
    }

    var metadataProvider: Logger.MetadataProvider? {
        get { base.metadataProvider }
        set { base.metadataProvider = newValue }
    }

    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { base[metadataKey: key] }
        set { base[metadataKey: key] = newValue }
    }
}
