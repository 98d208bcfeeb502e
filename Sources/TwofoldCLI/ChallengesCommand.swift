import ArgumentParser
import Foundation
import TwofoldCore

/// `twofold challenges`: the SMS and voice challenges sent to a user.
struct ChallengesCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "challenges",
        abstract: "List a user's challenges, or show one.",
        subcommands: [ChallengesListCommand.self, ChallengesShowCommand.self]
    )
}

struct ChallengesListCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "list",
        abstract: "A user's challenges, newest first (never a code or a full number)."
    )

    @Argument(help: "The user id.")
    var user: String

    @OptionGroup var application: ApplicationOption
    @OptionGroup var config: ConfigOptions
    @OptionGroup var output: OutputOptions

    func run() async throws {
        let userID = try parseUserID(user)
        let challenges = try await config.withApplication(application.app) { services, app in
            try await services.challenges.challenges(app.id, userID)
        }
        if output.json {
            try Output.json(ChallengeListJSON(challenges))
        } else {
            Output.table(["ID", "TYPE", "MODE", "PURPOSE", "STATUS", "REASON", "PROVIDER", "CREATED"], challenges.map {
                [$0.id.rawValue, $0.type.rawValue, $0.mode.rawValue, $0.purpose.rawValue, $0.status.rawValue, $0.reason?.rawValue ?? "-",
                 $0.delivery.map { "\($0.provider) (\($0.status))" } ?? "-", Output.date($0.createdAt)]
            }, empty: "no challenges")
        }
    }
}

struct ChallengesShowCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "show",
        abstract: "One challenge, of any application.",
        discussion: "Exit status 1 when there is no such challenge."
    )

    @Argument(help: "The challenge id (chl_…).")
    var id: String

    @OptionGroup var config: ConfigOptions
    @OptionGroup var output: OutputOptions

    func run() async throws {
        guard let challengeID = ChallengeID(rawValue: id) else {
            throw ValidationError("\"\(Output.escaped(id))\" is not a challenge id: chl_ and 26 characters a-z, 2-7")
        }
        let challenge = try await config.openRuntime().use { runtime in
            do {
                return try await runtime.services.challenges.show(challengeID)
            } catch let error as TwofoldError where error.code == .notFound {
                throw CommandFailure("no challenge \(challengeID)")
            }
        }
        if output.json {
            try Output.json(ChallengeJSON(challenge))
        } else {
            let rows: [(String, String)] = [
                ("id", challenge.id.rawValue), ("user", challenge.userID.rawValue), ("factor", challenge.factorID.rawValue),
                ("type", challenge.type.rawValue), ("mode", challenge.mode.rawValue), ("purpose", challenge.purpose.rawValue),
                ("status", challenge.status.rawValue), ("reason", challenge.reason?.rawValue ?? "-"),
                ("provider", challenge.delivery.map { "\($0.provider) (\($0.status))" } ?? "-"),
                ("wrong codes", String(challenge.failedAttempts)),
                ("created", Output.date(challenge.createdAt)), ("expires", Output.date(challenge.expiresAt)),
                ("finished", Output.date(challenge.finishedAt)),
            ]
            for (name, value) in rows { print("\(name.padding(toLength: 12, withPad: " ", startingAt: 0)) \(Output.escaped(value))") }
        }
    }
}
