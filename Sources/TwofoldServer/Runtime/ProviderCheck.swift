import Foundation
import Logging
import TwofoldCore
import TwofoldDelivery

/// `twofold providers check` and `twofold providers test`: what `serve` checks about delivery at
/// start-up, and one real message through each channel's chain, without a server or a store.
public enum ProviderCheck {
    /// One channel's providers, in the order they are tried.
    public struct Chain: Sendable, Encodable {
        public let channel: String
        public let providers: [String]
        public let countries: [String]?
    }

    /// What the configuration sets up for delivery.
    public struct Report: Sendable, Encodable {
        public let publicURL: String
        public let chains: [Chain]
        public let callbacks: [String]
    }

    /// The answer of one provider to a test send.
    public struct Answer: Sendable, Encodable {
        public let provider: String
        public let outcome: String
        public let reference: String?
        public let message: String?
    }

    /// Builds every configured provider, as `serve` does.
    /// - Throws: `configuration` naming the setting.
    public static func check(_ configuration: TwofoldConfiguration, logger: Logger) async throws -> Report {
        let registry = try ProviderRegistry.build(configuration.delivery, logger: logger)
        try? await registry.http?.shutdown()
        let policy = configuration.challengePolicy
        return Report(
            publicURL: policy.publicURL.absoluteString,
            chains: [
                Chain(channel: "sms", providers: registry.providers.sms.map(\.name), countries: policy.smsCountries?.entries),
                Chain(channel: "voice", providers: registry.providers.voice.map(\.name), countries: policy.voiceCountries?.entries),
            ],
            callbacks: registry.providers.callbacks.keys.sorted())
    }

    /// Sends one test message (or call) to `to` through each provider of the channel in turn,
    /// recording what each answered: unlike a challenge, it does not stop at the first success,
    /// so that every provider is tried.
    public static func sendTest(_ configuration: TwofoldConfiguration, channel: ChallengeType, to number: String,
                                logger: Logger) async throws -> [Answer] {
        let phone = try PhoneNumber(number, field: "--to")
        let registry = try ProviderRegistry.build(configuration.delivery, logger: logger)
        defer { if let http = registry.http { Task { try? await http.shutdown() } } }
        let id = ChallengeID.random()
        var answers: [Answer] = []
        switch channel {
        case .sms:
            for provider in registry.providers.sms {
                answers.append(await answer(provider.name) { () async throws(DeliveryFailure) -> DeliveryReceipt in
                    try await provider.send(SMSMessage(challengeID: id, to: phone, body: "Twofold test message: this provider works.",
                                                       statusCallback: nil))
                })
            }
        case .voice:
            for provider in registry.providers.voice {
                answers.append(await answer(provider.name) { () async throws(DeliveryFailure) -> DeliveryReceipt in
                    try await provider.call(VoiceCall(challengeID: id, to: phone, script: .say(speech: "This is a Twofold test call. This provider works."),
                                                      statusCallback: nil))
                })
            }
        case .push:
            throw TwofoldError(.invalidRequest, "push providers wake enrolled devices and have no test message: use twofold device to try one")
        case .webauthn:
            throw TwofoldError(.invalidRequest, "security keys answer in the browser through no provider: there is nothing to test")
        }
        return answers
    }

    private static func answer(_ name: String, _ send: () async throws(DeliveryFailure) -> DeliveryReceipt) async -> Answer {
        do {
            let receipt = try await send()
            return Answer(provider: name, outcome: receipt.status, reference: receipt.reference, message: nil)
        } catch {
            return Answer(provider: name, outcome: error.kind.rawValue, reference: nil, message: error.message)
        }
    }
}
