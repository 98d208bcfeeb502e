import ArgumentParser
import Foundation
import TwofoldCore

/// `twofold apps`: the applications (tenants) whose users Twofold protects.
struct AppsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "apps",
        abstract: "Create and list applications.",
        subcommands: [AppsCreateCommand.self, AppsListCommand.self]
    )
}

struct AppsCreateCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "create", abstract: "Create an application.")

    @Argument(help: "Name: 1–64 characters a-z, 0-9, '-', '_', '.'.")
    var name: String

    @OptionGroup var config: ConfigOptions
    @OptionGroup var output: OutputOptions

    func validate() throws {
        do {
            try Application.validateName(name)
        } catch {
            throw ValidationError(error.message)
        }
    }

    func run() async throws {
        let application = try await config.openRuntime().use { runtime in
            try await runtime.services.applications.createApplication(named: name, actor: CLIActor.current)
        }
        try output.report(ApplicationJSON(application), text: "created application \(application.name) (\(application.id))")
    }
}

struct AppsListCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "list", abstract: "List applications.")

    @OptionGroup var config: ConfigOptions
    @OptionGroup var output: OutputOptions

    func run() async throws {
        let applications = try await config.openRuntime().use { try await $0.services.applications.applications() }
        if output.json {
            try Output.json(["applications": applications.map(ApplicationJSON.init)])
        } else {
            Output.table(["NAME", "ID", "CREATED"], applications.map { [$0.name, $0.id.rawValue, Output.date($0.createdAt)] },
                         empty: "no applications")
        }
    }
}

struct ApplicationJSON: Encodable {
    let id: String
    let name: String
    let createdAt: Date

    init(_ application: Application) {
        id = application.id.rawValue
        name = application.name
        createdAt = application.createdAt
    }
}
