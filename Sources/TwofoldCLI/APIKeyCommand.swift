import ArgumentParser
import Foundation
import TwofoldCore

/// `twofold apikey`: the bearer keys applications call the API with.
struct APIKeyCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "apikey",
        abstract: "Create, list and revoke API keys.",
        subcommands: [APIKeyCreateCommand.self, APIKeyListCommand.self, APIKeyRevokeCommand.self]
    )
}

struct APIKeyCreateCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "create",
        abstract: "Create an API key; the key is shown once and stored only hashed.",
        discussion: "Scopes are independent: admin does not imply verify or enroll."
    )

    @OptionGroup var application: ApplicationOption

    @Option(help: "Comma-separated scopes among verify, enroll, admin.")
    var scopes: String

    @OptionGroup var config: ConfigOptions
    @OptionGroup var output: OutputOptions

    func validate() throws {
        do {
            _ = try APIKeyRecord.parseScopes(scopes)
        } catch {
            throw ValidationError(error.message)
        }
    }

    func run() async throws {
        let parsed = try APIKeyRecord.parseScopes(scopes)
        let created = try await config.withApplication(application.app) { services, app in
            return try await services.apiKeys.createAPIKey(app.id, scopes: parsed, actor: CLIActor.current)
        }
        if output.json {
            try Output.json(["id": created.record.id, "application": application.app, "scopes": created.record.scopesText, "key": created.token])
        } else {
            print("created API key \(created.record.id) for \(application.app) with scopes \(created.record.scopesText)")
            print("key (shown once, store it now): \(created.token)")
        }
    }
}

struct APIKeyListCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "list", abstract: "List API keys (never the keys themselves).")

    @Option(help: "Only this application's keys.")
    var app: String?

    @OptionGroup var config: ConfigOptions
    @OptionGroup var output: OutputOptions

    struct Row: Encodable {
        let id: String
        let application: String
        let scopes: String
        let createdAt: Date
        let revokedAt: Date?
    }

    func run() async throws {
        let rows: [Row] = try await config.openRuntime().use { runtime in
            let services = runtime.services
            let applications = try await services.applications.applications()
            let names = Dictionary(uniqueKeysWithValues: applications.map { ($0.id, $0.name) })
            var filter: ApplicationID?
            if let app { filter = try await services.applications.application(named: app).id }
            return try await services.apiKeys.apiKeys(filter).map {
                Row(id: $0.id, application: names[$0.applicationID] ?? $0.applicationID.rawValue, scopes: $0.scopesText,
                    createdAt: $0.createdAt, revokedAt: $0.revokedAt)
            }
        }
        if output.json {
            try Output.json(["api_keys": rows])
        } else {
            Output.table(["ID", "APPLICATION", "SCOPES", "CREATED", "REVOKED"],
                         rows.map { [$0.id, $0.application, $0.scopes, Output.date($0.createdAt), Output.date($0.revokedAt)] })
        }
    }
}

struct APIKeyRevokeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "revoke", abstract: "Revoke an API key; it stops working at once on every node.")

    @Argument(help: "The key id (key_…).")
    var id: String

    @OptionGroup var confirmation: ConfirmationOption
    @OptionGroup var config: ConfigOptions
    @OptionGroup var output: OutputOptions

    func run() async throws {
        try confirmation.confirm("Revoke API key \(id)?")
        try await config.openRuntime().use { try await $0.services.apiKeys.revokeAPIKey(id: id, actor: CLIActor.current) }
        try output.report(["revoked": id], text: "revoked API key \(id)")
    }
}
