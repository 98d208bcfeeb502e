import Logging

/// The handler of the logger the store gives PostgresNIO: passes records on to the store's own
/// handler, none below `debug`.
///
/// Why: at `trace`, PostgresNIO logs every message of the wire protocol, each login's whole
/// SCRAM exchange included (enough to test guesses of the password offline), and hex dumps of
/// rows. The level is kept here, not set on the store's handler, which may be shared (a
/// multiplexing handler would pass a new level on to every handler it holds).
struct DriverLogHandler: LogHandler {
    private var base: any LogHandler
    /// The level asked for; the floor applies on top.
    private var level: Logger.Level

    init(base: any LogHandler) {
        self.base = base
        self.level = base.logLevel
    }

    func log(event: LogEvent) {
        if event.level >= logLevel { base.log(event: event) }
    }

    /// Never below `debug`.
    var logLevel: Logger.Level {
        get { max(level, .debug) }
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
