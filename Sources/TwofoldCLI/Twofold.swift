import ArgumentParser
import Foundation
import TwofoldCore

/// The `twofold` command.
///
/// Exit status, for every subcommand: 0 success, 1 a failed operation (an invalid code, an
/// unparsable URI, a key already revoked), 2 bad usage or configuration (an unknown option, a
/// malformed argument, a setting to fix, no store where one was expected).
@main
struct Twofold: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "twofold",
        abstract: "Twofold: a self-hosted two-factor authentication service.",
        discussion: """
            Exit status: 0 on success, 1 when the operation failed (for example an invalid \
            code or an unparsable URI), 2 on bad usage or configuration (an unknown option, a \
            malformed argument, a setting to fix, or no store where one was expected).
            """,
        version: TwofoldVersion.current,
        subcommands: [
            ServeCommand.self,
            OTPCommand.self,
            AppsCommand.self,
            APIKeyCommand.self,
            UsersCommand.self,
            FactorsCommand.self,
            TokensCommand.self,
            EnrollCommand.self,
            UnlockCommand.self,
            RecoveryCodesCommand.self,
            ChallengesCommand.self,
            DeviceCommand.self,
            ProvidersCommand.self,
            KeysCommand.self,
            AuditCommand.self,
            MigrateCommand.self,
        ]
    )

    static func main() async {
        var command: any ParsableCommand
        do {
            command = try parseAsRoot()
        } catch {
            // swift-argument-parser reports usage errors with EX_USAGE (64); Twofold's
            // convention is 2, as for most Unix tools.
            if exitCode(for: error) == .validationFailure {
                StandardError.write(fullMessage(for: error))
                Foundation.exit(ExitStatus.usage)
            }
            exit(withError: error)
        }
        do {
            if var asyncCommand = command as? AsyncParsableCommand {
                try await asyncCommand.run()
            } else {
                try command.run()
            }
        } catch {
            fail(error, in: type(of: command))
        }
    }

    /// Reports an error a command threw while it ran, and exits with its status.
    ///
    /// swift-argument-parser would print the root command's usage under a `ValidationError`
    /// thrown by `run()`, as it no longer knows which command failed; the failing command's
    /// usage is printed instead. Configuration errors name the setting to fix and print no
    /// usage: the command line was right.
    static func fail(_ error: any Error, in command: any ParsableCommand.Type) -> Never {
        switch error {
        case let error as ValidationError:
            StandardError.write("Error: \(error.message)\n" + usage(of: command))
            Foundation.exit(ExitStatus.usage)
        case let error as ConfigurationFailure:
            StandardError.write("Error: \(error.message)")
            Foundation.exit(ExitStatus.usage)
        case let error as CommandFailure:
            StandardError.write("Error: \(error.message)")
            Foundation.exit(ExitStatus.failure)
        case let error as TwofoldError where error.code == .configuration:
            fail(ConfigurationFailure(error.message), in: command)
        case let error as TwofoldError where error.code == .invalidRequest:
            fail(ValidationError(error.message), in: command)
        case let error as TwofoldError:
            fail(CommandFailure(error.message), in: command)
        default:
            // ExitCode, CleanExit, and anything else, as swift-argument-parser reports them.
            exit(withError: error)
        }
    }

    /// `Usage: twofold apikey revoke <id> …` and where to read more, for `command`.
    static func usage(of command: any ParsableCommand.Type) -> String {
        let path = commandPath(to: command).map { $0.configuration.commandName ?? $0._commandName }.joined(separator: " ")
        return "Usage: \(usageString(for: command))\n  See '\(path) --help' for more information."
    }

    /// The commands from the root to `command`, both included.
    static func commandPath(to command: any ParsableCommand.Type) -> [any ParsableCommand.Type] {
        func search(_ path: [any ParsableCommand.Type]) -> [any ParsableCommand.Type]? {
            guard let last = path.last else { return nil }
            if ObjectIdentifier(last) == ObjectIdentifier(command) { return path }
            for subcommand in last.configuration.subcommands {
                if let found = search(path + [subcommand]) { return found }
            }
            return nil
        }
        return search([Twofold.self]) ?? [Twofold.self]
    }
}

enum TwofoldVersion {
    static let current = "0.1.0"
}

/// The exit statuses shared by every command.
enum ExitStatus {
    static let failure: Int32 = 1
    static let usage: Int32 = 2
}

/// A failed operation: printed on standard error, exit status 1.
struct CommandFailure: Error, CustomStringConvertible {
    let message: String
    init(_ message: String) { self.message = message }
    var description: String { message }
}

/// A setting to fix (a store or key not found, a value refused): printed on standard error
/// without the command's usage, exit status 2.
struct ConfigurationFailure: Error, CustomStringConvertible {
    let message: String
    init(_ message: String) { self.message = message }
    var description: String { message }
}

enum StandardError {
    static func write(_ message: String) {
        let line = message.hasSuffix("\n") ? message : message + "\n"
        FileHandle.standardError.write(Data(line.utf8))
    }
}

enum StandardOutput {
    /// Writes raw bytes after anything `print` buffered, keeping the order.
    static func write(_ bytes: [UInt8]) {
        fflush(nil)
        FileHandle.standardOutput.write(Data(bytes))
    }
}
