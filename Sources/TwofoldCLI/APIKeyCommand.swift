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
            try Output.json(APIKeyJSON(created.record, application: application.app, token: created.token))
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

    func run() async throws {
        let keys: [APIKeyJSON] = try await config.openRuntime().use { runtime in
            let services = runtime.services
            let applications = try await services.applications.applications()
            let names = Dictionary(uniqueKeysWithValues: applications.map { ($0.id, $0.name) })
            var filter: ApplicationID?
            if let app { filter = try await services.applications.application(named: app).id }
            return try await services.apiKeys.apiKeys(filter).map {
                APIKeyJSON($0, application: names[$0.applicationID] ?? $0.applicationID.rawValue)
            }
        }
        if output.json {
            try Output.json(["api_keys": keys])
        } else {
            Output.table(["ID", "APPLICATION", "SCOPES", "CREATED", "REVOKED"],
                         keys.map { [$0.record.id, $0.application, $0.record.scopesText, Output.date($0.record.createdAt),
                                     Output.date($0.record.revokedAt)] }, empty: "no API keys")
        }
    }
}

struct APIKeyRevokeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "revoke",
        abstract: "Revoke an API key, named by its id or by the key itself; it stops working at once on every node.",
        discussion: "Exit status 1 when there is no such key or it was already revoked (the message says when)."
    )

    @Argument(help: ArgumentHelp("The key id (key_…), or the whole key (tf_key_…) as it was handed out.", valueName: "key"))
    var key: String

    @OptionGroup var confirmation: ConfirmationOption
    @OptionGroup var config: ConfigOptions
    @OptionGroup var output: OutputOptions

    /// What the argument names: a key by its id, or a key by its token (whose secret must then
    /// be the key's).
    enum Target {
        case id(String)
        case token(APIKeyToken)

        var keyID: String {
            switch self {
            case .id(let id): id
            case .token(let token): token.keyID
            }
        }
    }

    /// The argument as a key id or a token.
    /// - Throws: `ValidationError` for anything else; a malformed token is not repeated, as it
    ///   may be most of a secret.
    static func target(_ text: String) throws -> Target {
        let text = text.trimmingCharacters(in: .whitespaces)
        if let token = APIKeyToken(text[...]) { return .token(token) }
        if text.hasPrefix("key_"), text.count == 20, text.dropFirst(4).allSatisfy({ $0.isASCII && ($0.isLowercase || $0.isNumber) }) {
            return .id(text)
        }
        let shown = text.hasPrefix("tf_") ? "the key given" : "\"\(text)\""
        throw ValidationError("\(shown) is neither an API key id (key_ and 16 characters, as `twofold apikey list` shows) nor a whole API key (tf_key_…)")
    }

    func validate() throws {
        _ = try Self.target(key)
    }

    func run() async throws {
        let target = try Self.target(key)
        let id = target.keyID
        try confirmation.confirm("Revoke API key \(id)?")
        try await config.openRuntime().use { runtime in
            let apiKeys = runtime.services.apiKeys
            func record() async throws -> APIKeyRecord {
                guard let record = try await apiKeys.apiKeys(nil).first(where: { $0.id == id }) else {
                    throw CommandFailure("there is no API key \(id): `twofold apikey list` shows the keys")
                }
                return record
            }
            func alreadyRevoked(_ date: Date) -> CommandFailure {
                CommandFailure("API key \(id) was already revoked, at \(Output.date(date))")
            }
            let found = try await record()
            if case .token(let token) = target, !token.matches(found) {
                throw CommandFailure("the key given names API key \(id) but is not that key: check it, or pass the id \(id) to revoke that key")
            }
            if let revokedAt = found.revokedAt { throw alreadyRevoked(revokedAt) }
            do {
                try await apiKeys.revokeAPIKey(id: id, actor: CLIActor.current)
            } catch let error as TwofoldError where error.code == .notFound {
                // Revoked by someone else since it was read.
                if let revokedAt = try await record().revokedAt { throw alreadyRevoked(revokedAt) }
                throw error
            }
        }
        try output.report(["revoked": id], text: "revoked API key \(id)")
    }
}
