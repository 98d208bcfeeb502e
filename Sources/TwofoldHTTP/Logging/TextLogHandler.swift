import Logging

/// Writes each log event as one line of text, for people reading a terminal or a journal:
/// `2026-12-06T02:40:01.123Z info twofold.http: request duration_ms=0.512 method=POST …`.
/// Times are UTC; metadata follows the message as sorted `key=value` pairs, quoted when needed.
public struct TextLogHandler: LogHandler {
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
        write(LogLine.text(time: .now(), level: event.level, label: label, message: event.message.description,
                           fields: LogLine.fields(metadata, metadataProvider, event.metadata),
                           errorType: event.error.map { String(reflecting: type(of: $0)) }))
    }
}
