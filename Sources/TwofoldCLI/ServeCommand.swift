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
            SIGTERM or SIGINT stop it gracefully: requests in flight finish, then the store closes.
            """
    )

    @OptionGroup var options: ConfigOptions

    func run() async throws {
        let settings: TwofoldConfiguration
        do {
            settings = try TwofoldConfiguration.load(file: options.config, environment: ProcessInfo.processInfo.environment)
        } catch {
            throw ValidationError("configuration: \(error.message)")
        }
        TwofoldLogging.bootstrap(settings)
        let logger = Logger(label: "twofold")
        let runtime: TwofoldRuntime
        do {
            runtime = try await TwofoldRuntime.open(settings, logger: logger, serving: true)
        } catch let error as TwofoldError {
            throw CommandFailure(error.message)
        }
        do {
            if let path = try await runtime.ensureInitialAPIKey() {
                StandardError.write("""
                    Twofold created an API key with every scope (verify, enroll, admin) for the application "default".
                    It is in \(path), readable by you only. Use it as: Authorization: Bearer $(cat \(path))
                    """)
            }
            try await runtime.serve(logger: logger)
        } catch {
            try? await runtime.close()
            if let error = error as? TwofoldError { throw CommandFailure(error.message) }
            throw error
        }
        try await runtime.close()
    }
}
