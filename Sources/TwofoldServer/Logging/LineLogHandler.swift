import Logging

/// Writes each log event as one line, in the configured format:
/// - `text`, for people reading a terminal or a journal:
///   `2026-12-06T02:40:01.123Z info twofold.http: request duration_ms=0.512 method=POST …`
///   (UTC times; metadata after the message as sorted `key=value` pairs, quoted when needed);
/// - `json`, for log collectors: `{"label":"twofold.http","level":"info","message":"request",
///   "method":"POST",…,"status":200,"time":"…"}` (metadata keys as top-level fields, nested
///   metadata nested, keys sorted; numbers and Bools given as `.stringConvertible` as JSON
///   numbers and booleans; the fixed fields win over metadata of the same name).
///
/// See ``LogLine`` for why lines are formatted by hand.
public struct LineLogHandler: LogHandler {
    public var logLevel: Logger.Level = .info
    public var metadata: Logger.Metadata = [:]
    public var metadataProvider: Logger.MetadataProvider?
    private let label: String
    private let format: TwofoldConfiguration.LogFormat
    private let write: @Sendable (String) -> Void

    /// - Parameters:
    ///   - label: The logger's label.
    ///   - format: Text or JSON lines.
    ///   - write: Receives each line, newline included; by default standard error.
    public init(label: String, format: TwofoldConfiguration.LogFormat, metadataProvider: Logger.MetadataProvider? = nil,
                write: @escaping @Sendable (String) -> Void = LogOutput.standardError) {
        self.label = label
        self.format = format
        self.metadataProvider = metadataProvider
        self.write = write
    }

    public subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    public func log(event: LogEvent) {
        let render = switch format {
        case .text: LogLine.text
        case .json: LogLine.json
        }
        write(render(.now(), event.level, label, event.message.description,
                     LogLine.fields(metadata, metadataProvider, event.metadata),
                     event.error.map { String(reflecting: type(of: $0)) }))
    }
}
