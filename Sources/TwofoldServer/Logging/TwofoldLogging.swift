import Logging
import Synchronization

/// Process-wide logging, as configured: JSON lines or text, on standard error, at the
/// configured level.
public enum TwofoldLogging {
    private static let installed = Mutex(false)

    /// Installs the configured log handler for every logger of the process. Call first; only the
    /// first call of a process installs anything (swift-log allows one bootstrap per process).
    /// - Parameters:
    ///   - configuration: The format and the level.
    ///   - minimumLevel: A floor under the configured level: the admin commands pass `.warning`,
    ///     so that the info lines of the store and of the PostgreSQL client stay out of their
    ///     output, which is the command's answer.
    public static func bootstrap(_ configuration: TwofoldConfiguration, minimumLevel: Logger.Level = .trace) {
        bootstrap(format: configuration.logFormat, level: max(configuration.logLevel, minimumLevel))
    }

    /// Installs a handler of the given format and level (used when the configuration itself is
    /// refused, so that the refusal is written in the format asked for).
    public static func bootstrap(format: TwofoldConfiguration.LogFormat, level: Logger.Level) {
        let first = installed.withLock { installed in
            defer { installed = true }
            return !installed
        }
        guard first else { return }
        LoggingSystem.bootstrap { label in
            var handler = LineLogHandler(label: label, format: format)
            handler.logLevel = level
            return handler
        }
    }
}
