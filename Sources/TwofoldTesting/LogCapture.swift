import Logging
import Synchronization

/// Keeps every log line written, to check what is (and is not) logged.
public final class LogCapture: Sendable {
    public init() {}

    public struct Line: Sendable {
        public let level: Logger.Level
        public let label: String
        public let message: String
        public let metadata: [String: String]

        /// Everything in the line, for searching.
        public var text: String { "\(label) \(level) \(message) " + metadata.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: " ") }
    }

    private let storage = Mutex<[Line]>([])

    public var lines: [Line] { storage.withLock { $0 } }

    func append(_ line: Line) {
        storage.withLock { $0.append(line) }
    }

    public func logger(label: String) -> Logger {
        var logger = Logger(label: label) { label in CapturingHandler(label: label, capture: self) }
        logger.logLevel = .trace
        return logger
    }

    struct CapturingHandler: LogHandler {
        let label: String
        let capture: LogCapture
        var logLevel: Logger.Level = .trace
        var metadata: Logger.Metadata = [:]

        subscript(metadataKey key: String) -> Logger.Metadata.Value? {
            get { metadata[key] }
            set { metadata[key] = newValue }
        }

        func log(event: LogEvent) {
            let merged = metadata.merging(event.metadata ?? [:]) { $1 }
            capture.append(Line(level: event.level, label: label, message: event.message.description,
                                metadata: merged.mapValues { "\($0)" }))
        }
    }
}
