import ArgumentParser
import Foundation
import Logging
import TwofoldCore
import TwofoldServer

/// `twofold serve`: the HTTP API.
struct ServeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "serve",
        abstract: "Run the HTTP API.",
        discussion: """
            Settings come from TWOFOLD_* environment variables and, with --config or \
            TWOFOLD_CONFIG, from a file of TWOFOLD_*=value lines; the environment wins. With \
            none, it serves on 127.0.0.1:8080 with a SQLite store and a generated development \
            master key in ./data. On first start with an empty store it creates an API key with \
            every scope for the application "default" and writes it to ./data/initial-api-key. \
            SIGTERM or SIGINT stop it gracefully: requests in flight finish, then the store closes. \
            With TWOFOLD_LOG_FORMAT=json, everything it writes, errors included, is one JSON \
            object per line. Exit status 2 when a setting must be fixed (the message names it), \
            1 when the server failed otherwise.

            Settings, each with its default in brackets:
            """ + TwofoldConfiguration.settings.map { "\n  \($0.name) [\($0.defaultValue)]: \($0.form)" }.joined()
    )

    @OptionGroup var options: ConfigOptions

    func run() async throws {
        let environment = ProcessInfo.processInfo.environment
        let settings: TwofoldConfiguration
        do {
            settings = try TwofoldConfiguration.load(file: options.config, environment: environment)
        } catch {
            let format = TwofoldConfiguration.requestedLogFormat(file: options.config, environment: environment)
            TwofoldLogging.bootstrap(format: format, level: .info)
            throw Self.stop(error, format: format, logger: Logger(label: "twofold"))
        }
        TwofoldLogging.bootstrap(settings)
        let logger = Logger(label: "twofold")
        settings.logWarnings(to: logger)
        let runtime: TwofoldRuntime
        do {
            // Before anything is created: a typo in TWOFOLD_LISTEN or a wrong TLS file costs nothing.
            try TwofoldRuntime.checkServing(settings)
            runtime = try await TwofoldRuntime.open(settings, logger: logger, serving: true, creating: true)
        } catch {
            throw Self.stop(error, format: settings.logFormat, logger: logger)
        }
        do {
            if let path = try await runtime.ensureInitialAPIKey() {
                Self.announceInitialAPIKey(path, format: settings.logFormat, logger: logger)
            }
            try await runtime.serve(logger: logger)
        } catch {
            try? await runtime.close()
            throw Self.stop(error, format: settings.logFormat, logger: logger)
        }
        try await runtime.close()
    }

    /// Tells whoever started the server where the first API key is: a few lines for a person
    /// in text mode, one JSON line in JSON mode (where every line is an object).
    static func announceInitialAPIKey(_ path: String, format: TwofoldConfiguration.LogFormat, logger: Logger) {
        let created = "Twofold created an API key with every scope (verify, enroll, admin) for the application \"default\"."
        let usage = "Use it as: Authorization: Bearer $(cat \(path))"
        switch format {
        case .text:
            StandardError.write("\(created)\nIt is in \(path), readable by you only. \(usage)")
        case .json:
            logger.notice("\(created) It is in the file, readable by you only. \(usage)", metadata: ["file": "\(path)"])
        }
    }

    /// The error that ends the server, as the error to exit with: in JSON mode it is logged as
    /// one JSON line and the process exits with its status alone; in text mode `Twofold.main`
    /// prints it. A setting to fix exits 2, anything else 1.
    static func stop(_ error: any Error, format: TwofoldConfiguration.LogFormat, logger: Logger) -> any Error {
        let (message, isConfiguration): (String, Bool) = switch error {
        case let error as TwofoldError: (error.message, error.code == .configuration)
        default: ("\(error)", false)
        }
        switch format {
        case .text:
            return isConfiguration ? ConfigurationFailure(message) as any Error : CommandFailure(message)
        case .json:
            logger.critical("\(message)", metadata: ["exit_status": .stringConvertible(isConfiguration ? ExitStatus.usage : ExitStatus.failure)])
            return ExitCode(isConfiguration ? ExitStatus.usage : ExitStatus.failure)
        }
    }
}
