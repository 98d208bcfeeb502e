import ArgumentParser
import Foundation
import Logging
import TwofoldCore
import TwofoldServer

/// `--config FILE`: the same configuration as `twofold serve` (file and TWOFOLD_* environment).
struct ConfigOptions: ParsableArguments {
    @Option(help: ArgumentHelp("Configuration file (default: TWOFOLD_CONFIG; environment variables win).", valueName: "file"))
    var config: String?

    /// Opens the store and keys the configuration names.
    ///
    /// Logging is set up in the configured format, at warning and above: what an admin command
    /// prints on standard output is its answer, and the info lines of the store and of the
    /// PostgreSQL client would only be noise around it.
    /// - Parameter creating: True for `twofold migrate` only, which may create the SQLite store
    ///   and the development key. Every other admin command needs both to exist, and exits 2
    ///   saying where it looked when they do not.
    func openRuntime(creating: Bool = false) async throws -> TwofoldRuntime {
        try await openRuntime(try loadConfiguration(), creating: creating)
    }

    /// Opens the store and keys of a configuration already read with ``loadConfiguration()``,
    /// for a command that checks a setting before it touches the store.
    func openRuntime(_ configuration: TwofoldConfiguration, creating: Bool = false) async throws -> TwofoldRuntime {
        let logger = Logger(label: "twofold.cli")
        do {
            return try await TwofoldRuntime.open(configuration, logger: logger, creating: creating)
        } catch let error as TwofoldError {
            throw error.code == .configuration ? ConfigurationFailure(error.message) : CommandFailure(error.message) as any Error
        }
    }
}

extension ConfigOptions {
    /// Reads the configuration and sets up logging as it asks, at warning and above.
    /// - Throws: ``ConfigurationFailure`` (exit 2) naming the setting.
    func loadConfiguration() throws -> TwofoldConfiguration {
        let configuration: TwofoldConfiguration
        do {
            configuration = try TwofoldConfiguration.load(file: config, environment: ProcessInfo.processInfo.environment)
        } catch {
            throw ConfigurationFailure(error.message)
        }
        TwofoldLogging.bootstrap(configuration, minimumLevel: .warning)
        configuration.logWarnings(to: Logger(label: "twofold.cli"))
        return configuration
    }

    /// Opens the runtime, finds the application named `name`, runs `body`, and closes the runtime.
    func withApplication<T>(_ name: String, _ body: (TwofoldServices, Application) async throws -> T) async throws -> T {
        try await openRuntime().use { runtime in
            try await body(runtime.services, try await runtime.services.applications.application(named: name))
        }
    }
}

/// `--app NAME`: which application a command is about.
struct ApplicationOption: ParsableArguments {
    @Option(help: "Application name.")
    var app: String = "default"
}

/// `--json`: one JSON document instead of aligned text.
struct OutputOptions: ParsableArguments {
    @Flag(help: "Print JSON instead of aligned text.")
    var json = false
}

extension OutputOptions {
    /// Prints the outcome of a command: `value` as JSON with `--json`, else `text`.
    func report(_ value: some Encodable, text: @autoclosure () -> String) throws {
        if json {
            try Output.json(value)
        } else {
            print(text())
        }
    }
}

/// `--yes`: confirmation for destructive commands.
struct ConfirmationOption: ParsableArguments {
    @Flag(help: "Do not ask for confirmation (required when not on a terminal).")
    var yes = false

    /// Asks on a terminal; without one, refuses unless `--yes` was given.
    /// - Parameter question: What is about to happen, as a question: "Revoke API key key_…?".
    ///   A refusal restates it: "refusing to revoke API key key_… without --yes: standard input
    ///   is not a terminal".
    func confirm(_ question: String) throws {
        if yes { return }
        guard isatty(STDIN_FILENO) != 0 else {
            throw ValidationError("refusing to \(Self.action(question)) without --yes: standard input is not a terminal")
        }
        FileHandle.standardError.write(Data("\(question) [y/N] ".utf8))
        let answer = readLine()?.trimmingCharacters(in: .whitespaces).lowercased()
        guard answer == "y" || answer == "yes" else {
            throw CommandFailure("cancelled")
        }
    }
}

extension ConfirmationOption {
    /// The action a confirmation question asks about, as it reads after "refusing to": the
    /// question up to its question mark, its first letter in lower case ("Delete factor fac_…
    /// of user alice? This cannot be undone." → "delete factor fac_… of user alice").
    static func action(_ question: String) -> String {
        let asked = question.prefix { $0 != "?" }.trimmingCharacters(in: .whitespaces)
        guard let first = asked.first else { return "go on" }
        return first.lowercased() + asked.dropFirst()
    }
}

/// Who is acting, for the audit log: `cli:<os user>`.
enum CLIActor {
    static var current: String {
        // Under sudo the effective user is root; the person is the one sudo names.
        if geteuid() == 0, let person = ProcessInfo.processInfo.environment["SUDO_USER"], !person.isEmpty, person != "root" {
            return "cli:\(person)(sudo)"
        }
        if let entry = getpwuid(geteuid()), let name = entry.pointee.pw_name {
            return "cli:" + String(cString: name)
        }
        return "cli:" + (ProcessInfo.processInfo.environment["USER"] ?? "uid\(geteuid())")
    }
}

extension TwofoldRuntime {
    /// Runs `body` with the runtime open, closing it afterwards whatever happens, and turns
    /// domain errors into failed operations (exit status 1) or usage and configuration errors (2).
    func use<T>(_ body: (TwofoldRuntime) async throws -> T) async throws -> T {
        do {
            let result = try await body(self)
            try await close()
            return result
        } catch {
            try? await close()
            if let error = error as? TwofoldError {
                switch error.code {
                case .invalidRequest: throw ValidationError(error.message)
                case .configuration: throw ConfigurationFailure(error.message)
                default: throw CommandFailure(error.message)
                }
            }
            throw error
        }
    }
}

/// Parses a user id argument; a malformed one is bad usage.
func parseUserID(_ text: String) throws -> UserID {
    do {
        return try UserID(text)
    } catch {
        throw ValidationError(error.message)
    }
}
