import Logging

/// Process-wide logging, as configured: JSON lines or text, on standard error, at the
/// configured level.
public enum TwofoldLogging {
    /// Installs the configured log handler for every logger of the process. Call once, first.
    public static func bootstrap(_ configuration: TwofoldConfiguration) {
        let level = configuration.logLevel
        let format = configuration.logFormat
        LoggingSystem.bootstrap { label in
            var handler = LineLogHandler(label: label, format: format)
            handler.logLevel = level
            return handler
        }
    }
}
