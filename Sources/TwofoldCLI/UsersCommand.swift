import ArgumentParser
import Foundation
import TwofoldCore

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
            Output.table(["USER"], users.map { [$0.rawValue] })
        }
    }
}

struct UsersShowCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "show", abstract: "Show a user's factors, recovery codes and lock state.")

    @Argument(help: "The user id.")
    var user: String

    @OptionGroup var application: ApplicationOption
    @OptionGroup var config: ConfigOptions
    @OptionGroup var output: OutputOptions

    struct Summary: Encodable {
        let userID: String
        let factors: [Factor]
        let recoveryCodesUnused: Int
        let consecutiveFailures: Int
        let lockedUntil: Date?
    }

    func run() async throws {
        let userID = try parseUserID(user)
        let summary = try await config.withApplication(application.app) { services, app in
            let factors = try await services.enrollment.factors(app.id, userID)
            let codes = try await services.administration.recoveryCodeSummary(app.id, userID)
            let throttle = try await services.administration.throttleState(app.id, userID)
            return Summary(userID: userID.rawValue, factors: factors, recoveryCodesUnused: codes.unused,
                           consecutiveFailures: throttle?.failures ?? 0, lockedUntil: throttle?.lockedUntil)
        }
        if output.json {
            try Output.json(summary)
        } else {
            print("user             \(summary.userID)")
            print("recovery codes   \(summary.recoveryCodesUnused) unused")
            print("failures         \(summary.consecutiveFailures)")
            print("locked until     \(Output.date(summary.lockedUntil))")
            print("")
            FactorsListCommand.printTable(summary.factors)
        }
    }
}

struct UsersExportCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "export",
        abstract: "Export everything held about a user as JSON (no secrets).",
        discussion: "Exit status 1 when nothing is stored about the user."
    )

    @Argument(help: "The user id.")
    var user: String

    @Option(help: ArgumentHelp("Write to this file (mode 0600) instead of standard output.", valueName: "file"))
    var output: String?

    @OptionGroup var application: ApplicationOption
    @OptionGroup var config: ConfigOptions

    func run() async throws {
        let userID = try parseUserID(user)
        let export = try await config.withApplication(application.app) { services, app in
            return try await services.administration.export(app, userID, actor: CLIActor.current)
        }
        guard let export else { throw CommandFailure("nothing is stored about user \(userID) in \(application.app)") }
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        encoder.dateEncodingStrategy = .iso8601
        encoder.keyEncodingStrategy = .convertToSnakeCase
        let data = try encoder.encode(export) + Data("\n".utf8)
        if let output {
            guard FileManager.default.createFile(atPath: output, contents: data, attributes: [.posixPermissions: 0o600]) else {
                throw CommandFailure("cannot write \(output)")
            }
        } else {
            StandardOutput.write(Array(data))
        }
    }
}

struct UsersEraseCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "erase",
        abstract: "Erase a user: factors, recovery codes, lock state and data key; audit events keep only a pseudonym."
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
        try await config.withApplication(application.app) { services, app in
            try await services.administration.erase(app.id, userID, actor: CLIActor.current)
        }
        try output.report(["erased": userID.rawValue], text: "erased user \(userID)")
    }
}
