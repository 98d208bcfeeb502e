import Logging

/// Writes each log event as one JSON object on one line, for log collectors:
/// `{"time":"…","level":"info","label":"twofold.http","message":"request","request_id":"…",…}`.
/// Metadata keys become top-level fields (nested metadata stays nested); the fixed fields win
/// over metadata of the same name.
public struct JSONLogHandler: LogHandler {
    public var logLevel: Logger.Level = .info
    public var metadata: Logger.Metadata = [:]
    public var metadataProvider: Logger.MetadataProvider?
    private let label: String
    private let write: @Sendable (String) -> Void

    /// - Parameters:
    ///   - label: The logger's label.
    ///   - write: Receives each line, newline included; by default standard error.
    public init(label: String, metadataProvider: Logger.MetadataProvider? = nil,
                write: @escaping @Sendable (String) -> Void = LogOutput.standardError) {
        self.label = label
        self.metadataProvider = metadataProvider
        self.write = write
    }

    public subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    public func log(event: LogEvent) {
        write(LogLine.json(time: .now(), level: event.level, label: label, message: event.message.description,
                           fields: LogLine.fields(metadata, metadataProvider, event.metadata),
                           errorType: event.error.map { String(reflecting: type(of: $0)) }))
    }
}
