import ArgumentParser
import Foundation
import TwofoldCore
import TwofoldServer

/// `twofold users`: who is enrolled, and data-subject requests (export, erasure).
struct UsersCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "users",
        abstract: "List and show users; export or erase a user's data.",
        subcommands: [UsersListCommand.self, UsersShowCommand.self, UsersExportCommand.self, UsersEraseCommand.self]
    )
}

struct UsersListCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "list", abstract: "List the users an application has anything stored for.")

    @OptionGroup var application: ApplicationOption
    @OptionGroup var config: ConfigOptions
    @OptionGroup var output: OutputOptions

    func run() async throws {
        let users = try await config.withApplication(application.app) { services, app in
            return try await services.administration.users(app.id)
        }
        if output.json {
            try Output.json(["users": users.map(\.rawValue)])
        } else {
            Output.table(["USER"], users.map { [$0.rawValue] }, empty: "no users")
        }
    }
}

struct UsersShowCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "show",
        abstract: "Show a user's factors, recovery codes and lock state.",
        discussion: "Exit status 1 when nothing is stored for the user (no factor, recovery code, failure or data key)."
    )

    @Argument(help: "The user id.")
    var user: String

    @OptionGroup var application: ApplicationOption
    @OptionGroup var config: ConfigOptions
    @OptionGroup var output: OutputOptions

    func run() async throws {
        let userID = try parseUserID(user)
        let (name, factors, codes, throttle) = try await config.withApplication(application.app) { services, app in
            guard try await services.administration.storesAnything(app.id, userID) else {
                throw CommandFailure.nothingStored(for: userID, in: app)
            }
            return (app.name,
                    try await services.enrollment.factors(app.id, userID),
                    try await services.administration.recoveryCodeSummary(app.id, userID),
                    try await services.administration.throttleState(app.id, userID))
        }
        if output.json {
            // The export's fields, as the API answers them.
            try Output.json(UserSummaryJSON(application: name, userID: userID, factors: factors, recoveryCodes: codes, throttle: throttle))
        } else {
            print("user             \(userID)")
            print("recovery codes   \(codes.unused) unused")
            print("failures         \(throttle?.failures ?? 0)")
            print("locked until     \(Output.date(throttle?.lockedUntil))")
            print("")
            FactorsListCommand.printTable(factors)
        }
    }
}

struct UsersExportCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "export",
        abstract: "Export everything held about a user as JSON (no secrets).",
        discussion: "Exit status 1 when nothing is stored for the user and no audit event names them."
    )

    @Argument(help: "The user id.")
    var user: String

    @Option(help: ArgumentHelp("Write to this file (mode 0600) instead of standard output.", valueName: "file"))
    var output: String?

    @Flag(help: "Print JSON: the export always is JSON, the shape GET /v1/users/{user_id}/export answers.")
    var json = false

    @OptionGroup var application: ApplicationOption
    @OptionGroup var config: ConfigOptions

    func run() async throws {
        let userID = try parseUserID(user)
        let export = try await config.withApplication(application.app) { services, app in
            guard let export = try await services.administration.export(app, userID, actor: CLIActor.current) else {
                throw CommandFailure.nothingStored(for: userID, in: app)
            }
            return export
        }
        // What `GET /v1/users/{user_id}/export` answers.
        let data = try Output.jsonLine(UserExportJSON(export))
        if let output {
            do {
                try PrivateFile.create(output, bytes: Array(data), replacing: true)
            } catch let error as POSIXError {
                throw CommandFailure("cannot write \(output): \(String(cString: strerror(error.code.rawValue)))")
            }
        } else {
            StandardOutput.write(Array(data))
        }
    }
}

struct UsersEraseCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "erase",
        abstract: "Erase a user: factors, recovery codes, lock state and data key; audit events keep only a pseudonym.",
        discussion: "Idempotent: when nothing was stored for the user it says so, changes nothing and exits 0."
    )

    @Argument(help: "The user id.")
    var user: String

    @OptionGroup var application: ApplicationOption
    @OptionGroup var confirmation: ConfirmationOption
    @OptionGroup var config: ConfigOptions
    @OptionGroup var output: OutputOptions

    func run() async throws {
        let userID = try parseUserID(user)
        try confirmation.confirm("Erase everything about user \(userID) in \(application.app)? This cannot be undone.")
        let erased = try await config.withApplication(application.app) { services, app in
            try await services.administration.erase(app.id, userID, actor: CLIActor.current)
        }
        try output.report(EraseJSON(userId: userID.rawValue, erased: erased),
                          text: erased ? "erased user \(userID)" : "nothing was stored for user \(userID) in application \(application.app); nothing to erase")
    }

    struct EraseJSON: Encodable {
        let userId: String
        /// False when nothing was stored for the user.
        let erased: Bool
    }
}

extension CommandFailure {
    /// The failure of a command about a user the application holds nothing for (a typo in the
    /// id, or the wrong `--app`).
    static func nothingStored(for userID: UserID, in application: Application) -> CommandFailure {
        CommandFailure("nothing is stored for user \(userID) in application \(application.name)")
    }
}
