import ArgumentParser
import Foundation

/// The `twofold` command.
///
/// Exit status, for every subcommand: 0 success, 1 a failed operation (an invalid code, an
/// unparsable URI), 2 bad usage (an unknown option, a malformed argument).
@main
struct Twofold: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "twofold",
        abstract: "Twofold: a self-hosted two-factor authentication service.",
        discussion: """
            Exit status: 0 on success, 1 when the operation failed (for example an invalid \
            code or an unparsable URI), 2 on bad usage (an unknown option or a malformed argument).
            """,
        version: TwofoldVersion.current,
        subcommands: [
            ServeCommand.self,
            OTPCommand.self,
            AppsCommand.self,
            APIKeyCommand.self,
            UsersCommand.self,
            FactorsCommand.self,
            EnrollCommand.self,
            UnlockCommand.self,
            RecoveryCodesCommand.self,
            KeysCommand.self,
            AuditCommand.self,
            MigrateCommand.self,
        ]
    )

    static func main() async {
        do {
            var command = try parseAsRoot()
            if var asyncCommand = command as? AsyncParsableCommand {
                try await asyncCommand.run()
            } else {
                try command.run()
            }
        } catch {
            // swift-argument-parser reports usage errors with EX_USAGE (64); Twofold's
            // convention is 2, as for most Unix tools.
            if exitCode(for: error) == .validationFailure {
                StandardError.write(fullMessage(for: error))
                Foundation.exit(ExitStatus.usage)
            }
            exit(withError: error)
        }
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
