import ArgumentParser
import Foundation
import TwofoldCore

/// `twofold apps`: the applications (tenants) whose users Twofold protects.
struct AppsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "apps",
        abstract: "Create, list and update applications.",
        subcommands: [AppsCreateCommand.self, AppsListCommand.self, AppsUpdateCommand.self]
    )
}

struct AppsCreateCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "create", abstract: "Create an application.")

    @Argument(help: "Name: 1–64 characters a-z, 0-9, '-', '_', '.'.")
    var name: String

    @OptionGroup var relyingParty: RelyingPartyOptions
    @OptionGroup var config: ConfigOptions
    @OptionGroup var output: OutputOptions

    func validate() throws {
        do {
            try Application.validateName(name)
            if relyingParty.rpID != nil || !relyingParty.origin.isEmpty {
                try Application.validateRelyingParty(id: relyingParty.rpID, origins: relyingParty.origin, field: "--rp-id/--origin")
            }
        } catch {
            throw ValidationError(error.message)
        }
    }

    func run() async throws {
        let application = try await config.openRuntime().use { runtime in
            let created = try await runtime.services.applications.createApplication(named: name, actor: CLIActor.current)
            guard let id = relyingParty.rpID else { return created }
            return try await runtime.services.applications.updateSettings(
                named: name, smsTemplate: .keep, domain: .keep, relyingParty: .set(id: id, origins: relyingParty.origin),
                actor: CLIActor.current)
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
            Output.table(["NAME", "ID", "CREATED", "DOMAIN", "SMS TEMPLATE", "RP ID"], applications.map {
                [$0.name, $0.id.rawValue, Output.date($0.createdAt), $0.domain ?? "-", $0.smsTemplate.map(Output.escaped) ?? "default",
                 $0.relyingPartyID ?? "-"]
            }, empty: "no applications")
        }
    }
}

struct AppsUpdateCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "update",
        abstract: "Change an application's SMS template, domain, push number matching and security key settings.",
        discussion: """
            The template replaces TWOFOLD_SMS_TEMPLATE for this application: it must contain {code}; {app} \
            and {minutes} are replaced too. With a domain, every SMS ends with the origin-bound line \
            "@DOMAIN #CODE", which phones and browsers read to offer the code on that site only. \
            Security keys need a relying party id and the origins sign-in pages are served from: \
            --rp-id example.com --origin https://login.example.com (--origin replaces the list).
            """
    )

    @Argument(help: "The application's name.")
    var name: String

    @Option(help: ArgumentHelp("The SMS text, with {code}.", valueName: "text"))
    var smsTemplate: String?

    @Flag(help: "Go back to the deployment's template (TWOFOLD_SMS_TEMPLATE).")
    var clearSmsTemplate = false

    @Option(help: ArgumentHelp("The site users sign in to, such as example.com.", valueName: "domain"))
    var domain: String?

    @Flag(help: "Remove the domain.")
    var clearDomain = false

    @Option(help: ArgumentHelp("Whether a push shows a two-digit number the device must send back: on (the default) or off.",
                               valueName: "on|off"))
    var pushNumberMatching: Switch?

    enum Switch: String, ExpressibleByArgument, CaseIterable {
        case on, off
    }

    @OptionGroup var relyingParty: RelyingPartyOptions

    @Flag(help: "Remove the relying party id and origins: security keys can no longer enroll or sign in.")
    var clearRp = false

    @OptionGroup var config: ConfigOptions
    @OptionGroup var output: OutputOptions

    var relyingPartyChange: ApplicationService.RelyingPartyChange {
        if clearRp { return .clear }
        if relyingParty.rpID == nil && relyingParty.origin.isEmpty { return .keep }
        return .set(id: relyingParty.rpID, origins: relyingParty.origin.isEmpty ? nil : relyingParty.origin)
    }

    func validate() throws {
        guard smsTemplate != nil || clearSmsTemplate || domain != nil || clearDomain || pushNumberMatching != nil
                || relyingPartyChange != .keep else {
            throw ValidationError("nothing to change: give --sms-template, --clear-sms-template, --domain, --clear-domain, --push-number-matching, --rp-id, --origin or --clear-rp")
        }
        guard !(smsTemplate != nil && clearSmsTemplate), !(domain != nil && clearDomain),
              !(clearRp && (relyingParty.rpID != nil || !relyingParty.origin.isEmpty)) else {
            throw ValidationError("give a value or its --clear- flag, not both")
        }
        do {
            if let smsTemplate { try Application.validateSMSTemplate(smsTemplate, field: "--sms-template") }
            if let domain { try Application.validateDomain(domain, field: "--domain") }
        } catch {
            throw ValidationError(error.message)
        }
    }

    func run() async throws {
        let template: ApplicationService.SettingChange = smsTemplate.map { .set($0) } ?? (clearSmsTemplate ? .clear : .keep)
        let site: ApplicationService.SettingChange = domain.map { .set($0) } ?? (clearDomain ? .clear : .keep)
        let application = try await config.openRuntime().use { runtime in
            do {
                return try await runtime.services.applications.updateSettings(
                    named: name, smsTemplate: template, domain: site, pushNumberMatching: pushNumberMatching.map { $0 == .on },
                    relyingParty: relyingPartyChange, actor: CLIActor.current)
            } catch let error as TwofoldError where error.code == .notFound {
                throw CommandFailure("no application named \"\(Output.escaped(name))\"")
            }
        }
        try output.report(ApplicationJSON(application), text: "updated application \(application.name)")
    }
}

/// The WebAuthn relying party of an application, for `apps create` and `apps update`.
struct RelyingPartyOptions: ParsableArguments {
    @Option(name: .customLong("rp-id"), help: ArgumentHelp("The WebAuthn relying party id security keys register to, such as example.com.",
                                                           valueName: "domain"))
    var rpID: String?

    @Option(help: ArgumentHelp("An origin sign-in pages are served from, on the rp id or under it (repeat for several).",
                               valueName: "https://host[:port]"))
    var origin: [String] = []
}
