import Logging
import Synchronization

/// Whether the PostgreSQL server looks down, shared by the store and its pool's logger (see
/// `PostgresStore.serverLooksDown`).
final class ServerLooksDown: Sendable {
    private struct State {
        /// A wait for a connection ran out: new calls wait briefly.
        var waitRanOut = false
        /// The pool failed to open a connection: new calls wait briefly, and waiting ones give up
        /// once nothing was handed out for a while.
        var connectFailed = false
        var lastHandOut = ContinuousClock.now
    }

    private let state = Mutex(State())

    /// Whether a new call waits briefly.
    var isSet: Bool { state.withLock { $0.waitRanOut || $0.connectFailed } }

    /// Whether a call already waiting gives up: the pool failed to connect and handed nothing
    /// out for `quiet` (a pool that still hands out connections is busy, not cut off).
    func endsWaits(quiet: Duration) -> Bool {
        state.withLock { $0.connectFailed && ContinuousClock.now - $0.lastHandOut >= quiet }
    }

    func connectFailed() { state.withLock { $0.connectFailed = true } }
    func waitRanOut() { state.withLock { $0.waitRanOut = true } }
    func handedOut() { state.withLock { $0 = State() } }
}

/// The handler of the loggers the store gives PostgresNIO: passes records on to the store's own
/// handler, none below `debug`, and (for the pool's logger) calls `connectFailed` for each failed
/// attempt to open a connection.
///
/// Why: at `trace`, PostgresNIO logs every message of the wire protocol, each login's whole
/// SCRAM exchange included (enough to test guesses of the password offline), and hex dumps of
/// rows. And it tells of a failed connection attempt only as a log record (its pool's
/// observability delegate is internal), without which the store cannot tell a server that
/// refuses connections from a busy pool until its whole wait is up. The level is kept here, not
/// set on the store's handler, which may be shared.
struct DriverLogHandler: LogHandler {
    /// The message PostgresNIO logs, at `info`, when the pool could not open a connection.
    static let connectFailedMessage = "Connection creation failed"

    private var base: any LogHandler
    /// The level asked for; the floor applies on top.
    private var level: Logger.Level
    private let connectFailed: (@Sendable () -> Void)?

    init(base: any LogHandler, connectFailed: (@Sendable () -> Void)? = nil) {
        self.base = base
        self.level = base.logLevel
        self.connectFailed = connectFailed
    }

    /// What reaches the store's handler.
    private var passed: Logger.Level { max(level, .debug) }

    func log(event: LogEvent) {
        if let connectFailed, event.message.description == Self.connectFailedMessage { connectFailed() }
        if event.level >= passed { base.log(event: event) }
    }

    /// Never below `debug`; at most `info` when watching, so that the record watched for arrives
    /// whatever the store logs.
    var logLevel: Logger.Level {
        get { connectFailed == nil ? passed : min(passed, .info) }
        set { level = newValue }
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
