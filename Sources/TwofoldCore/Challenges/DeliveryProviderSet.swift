import Foundation

/// The providers of a deployment: per channel, in the order they are tried, and the callback
/// authenticators by provider name. Built by the composition root from configuration.
public struct DeliveryProviderSet: Sendable {
    public var sms: [any SMSProvider]
    public var voice: [any VoiceProvider]
    public var callbacks: [String: any CallbackAuthenticator]

    public init(sms: [any SMSProvider], voice: [any VoiceProvider], callbacks: [any CallbackAuthenticator]) {
        self.sms = sms
        self.voice = voice
        self.callbacks = Dictionary(callbacks.map { ($0.provider, $0) }, uniquingKeysWith: { first, _ in first })
    }

    /// No provider: challenges cannot be created (`unavailable`), nothing pretends to send.
    public static let none = DeliveryProviderSet(sms: [], voice: [], callbacks: [])

    func names(for channel: ChallengeType) -> [String] {
        switch channel {
        case .sms: sms.map(\.name)
        case .voice: voice.map(\.name)
        case .push, .webauthn: []
        }
    }
}

/// How one provider of one channel is doing, for `/readyz` and metrics.
public struct ProviderHealth: Sendable, Equatable {
    public var channel: ChallengeType
    public var provider: String
    /// Skipped until this time after repeated failures; `nil` while it is healthy.
    public var degradedUntil: Date?
    public var consecutiveFailures: Int

    public var isDegraded: Bool { degradedUntil != nil }
}

/// Skips a provider that keeps failing: after `threshold` consecutive failures it is left out
/// for `cooldown`, then tried again (one success closes it).
struct CircuitBreakers: Sendable {
    struct State: Sendable {
        var consecutiveFailures = 0
        var openUntil: Date?
    }

    var threshold = 3
    var cooldown: TimeInterval = 60
    var states: [String: State] = [:]

    static func key(_ channel: ChallengeType, _ provider: String) -> String { "\(channel.rawValue):\(provider)" }

    func isOpen(_ key: String, at now: Date) -> Bool {
        states[key]?.openUntil.map { $0 > now } ?? false
    }

    mutating func succeeded(_ key: String) {
        states[key] = nil
    }

    mutating func failed(_ key: String, at now: Date) {
        var state = states[key] ?? State()
        state.consecutiveFailures += 1
        if state.consecutiveFailures >= threshold { state.openUntil = now.addingTimeInterval(cooldown) }
        states[key] = state
    }
}
