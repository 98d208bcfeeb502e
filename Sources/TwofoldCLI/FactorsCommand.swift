import ArgumentParser
import Foundation
import TwofoldCore

/// `twofold factors`: a user's second factors.
struct FactorsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "factors",
        abstract: "List, delete or reset a user's factors.",
        subcommands: [FactorsListCommand.self, FactorsDeleteCommand.self, FactorsResetCommand.self]
    )
}

struct FactorsListCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "list",
        abstract: "List a user's factors (never a secret).",
        discussion: "Exit status 1 when nothing is stored for the user (no factor, recovery code, failure or data key)."
    )

    @Argument(help: "The user id.")
    var user: String

    @OptionGroup var application: ApplicationOption
    @OptionGroup var config: ConfigOptions
    @OptionGroup var output: OutputOptions

    func run() async throws {
        let userID = try parseUserID(user)
        let factors = try await config.withApplication(application.app) { services, app in
            let factors = try await services.enrollment.factors(app.id, userID)
            // No factor may still be someone: a user whose factors were deleted keeps a data key.
            if factors.isEmpty, try await !services.administration.storesAnything(app.id, userID) {
                throw CommandFailure.nothingStored(for: userID, in: app)
            }
            return factors
        }
        if output.json {
            // What `GET /v1/users/{user_id}/factors` answers.
            try Output.json(FactorListJSON(factors))
        } else {
            Self.printTable(factors)
        }
    }

    static func printTable(_ factors: [Factor]) {
        Output.table(["ID", "TYPE", "STATUS", "LABEL", "ALGORITHM", "DIGITS", "CREATED", "ACTIVATED", "LAST USED"], factors.map {
            [$0.id.rawValue, $0.type.rawValue, $0.status.rawValue, $0.phone ?? $0.label,
             $0.type.hasSecretForCodes ? $0.algorithm.rawValue : "-", $0.type.hasSecretForCodes || $0.type.isPhone ? String($0.digits) : "-",
             Output.date($0.createdAt), Output.date($0.activatedAt), $0.type == .push || $0.type == .webauthn ? Output.date($0.lastUsedAt) : "-"]
        }, empty: "no factors")
    }
}

struct FactorsDeleteCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "delete", abstract: "Delete one factor of a user.")

    @Argument(help: "The user id.")
    var user: String

    @Argument(help: "The factor id (fac_…).")
    var factor: String

    @OptionGroup var application: ApplicationOption
    @OptionGroup var confirmation: ConfirmationOption
    @OptionGroup var config: ConfigOptions
    @OptionGroup var output: OutputOptions

    func run() async throws {
        let userID = try parseUserID(user)
        guard let factorID = FactorID(rawValue: factor) else {
            throw ValidationError("\"\(factor)\" is not a factor id (fac_ followed by 26 characters)")
        }
        try confirmation.confirm("Delete factor \(factorID) of user \(userID)?")
        try await config.withApplication(application.app) { services, app in
            try await services.enrollment.deleteFactor(app.id, userID, factorID, actor: CLIActor.current)
        }
        try output.report(["deleted": factorID.rawValue], text: "deleted factor \(factorID)")
    }
}

struct FactorsResetCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "reset",
        abstract: "Delete all of a user's factors and recovery codes (a lost phone).",
        discussion: "Exit status 1, and nothing written, when nothing is stored for the user."
    )

    @Argument(help: "The user id.")
    var user: String

    @OptionGroup var application: ApplicationOption
    @OptionGroup var confirmation: ConfirmationOption
    @OptionGroup var config: ConfigOptions
    @OptionGroup var output: OutputOptions

    func run() async throws {
        let userID = try parseUserID(user)
        try confirmation.confirm("Delete all factors and recovery codes of user \(userID)?")
        let counts = try await config.withApplication(application.app) { services, app in
            guard let counts = try await services.administration.reset(app.id, userID, actor: CLIActor.current) else {
                throw CommandFailure.nothingStored(for: userID, in: app)
            }
            return counts
        }
        try output.report(ResetJSON(userId: userID.rawValue, factorsDeleted: counts.factors, recoveryCodesDeleted: counts.recoveryCodes),
                          text: "deleted \(Output.count(counts.factors, "factor")) and \(Output.count(counts.recoveryCodes, "recovery code")) of user \(userID)")
    }

    struct ResetJSON: Encodable {
        let userId: String
        let factorsDeleted: Int
        let recoveryCodesDeleted: Int
    }
}
