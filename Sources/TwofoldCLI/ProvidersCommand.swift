import ArgumentParser
import Foundation
import Logging
import TwofoldCore
import TwofoldServer

extension ChallengeType: ExpressibleByArgument {}

/// `twofold providers`: the SMS and voice providers the configuration sets up.
struct ProvidersCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "providers",
        abstract: "Check the delivery providers, or send a test message through them.",
        subcommands: [ProvidersCheckCommand.self, ProvidersTestCommand.self]
    )
}

struct ProvidersCheckCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "check",
        abstract: "What `twofold serve` checks about delivery at start-up, without starting.",
        discussion: "Exit status 2, naming the setting, when a provider's settings are missing or malformed."
    )

    @OptionGroup var config: ConfigOptions
    @OptionGroup var output: OutputOptions

    func run() async throws {
        let configuration = try config.loadConfiguration()
        let report: ProviderCheck.Report
        do {
            report = try await ProviderCheck.check(configuration, logger: Logger(label: "twofold.cli"))
        } catch let error as TwofoldError {
            throw error.code == .configuration ? ConfigurationFailure(error.message) as any Error : CommandFailure(error.message)
        }
        if output.json {
            try Output.json(report)
            return
        }
        for chain in report.chains {
            let providers = chain.providers.isEmpty ? "none (challenges of this channel are refused)" : chain.providers.joined(separator: " → ")
            print("\(chain.channel): \(providers)\(chain.countries.map { "; countries \($0.joined(separator: ","))" } ?? "")")
        }
        print("callbacks: \(report.callbacks.isEmpty ? "none" : report.callbacks.joined(separator: ", ")) at \(report.publicURL)/v1/callbacks/…")
    }
}

struct ProvidersTestCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "test",
        abstract: "Send one real test message (or call) through every provider of a channel, and print what each answered.",
        discussion: "Exit status 1 when a provider failed."
    )

    @Option(help: "sms or voice.")
    var channel: ChallengeType

    @Option(help: "The number to send to, in E.164 form (+15551234567).")
    var to: String

    @OptionGroup var config: ConfigOptions
    @OptionGroup var output: OutputOptions

    func run() async throws {
        let configuration = try config.loadConfiguration()
        let answers: [ProviderCheck.Answer]
        do {
            answers = try await ProviderCheck.sendTest(configuration, channel: channel, to: to, logger: Logger(label: "twofold.cli"))
        } catch let error as TwofoldError {
            throw error.code == .configuration ? ConfigurationFailure(error.message) as any Error : ValidationError(error.message)
        }
        if output.json {
            try Output.json(answers)
        } else {
            Output.table(["PROVIDER", "OUTCOME", "REFERENCE", "MESSAGE"], answers.map {
                [$0.provider, $0.outcome, $0.reference ?? "-", Output.escaped($0.message ?? "-")]
            }, empty: "no \(channel.rawValue) provider is configured")
        }
        let failed = answers.filter { $0.reference == nil && $0.message != nil }
        if !failed.isEmpty { throw CommandFailure("\(Output.count(failed.count, "provider")) failed") }
    }
}
