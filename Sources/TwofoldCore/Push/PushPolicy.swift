import Foundation

/// How push factors are enrolled and their challenges answered.
public struct PushPolicy: Sendable {
    /// How long an activation token (the enrollment's QR code) works.
    public var activationLifetime: TimeInterval = 600
    /// How long a push waits for the device's answer.
    public var answerWindow: TimeInterval = 120
    /// After a fraud report, push challenges to the device are refused this long
    /// (`TWOFOLD_PUSH_FRAUD_SUSPENSION`), so that a flood of prompts cannot wear the user down.
    public var fraudSuspension: TimeInterval = 1_200
    /// The transports this deployment wakes devices through (`TWOFOLD_PUSH_PROVIDERS`); polling
    /// always works.
    public var providers: [any PushProvider] = []
    /// The VAPID public key in base64url, when Web Push is enabled: a browser subscribes with it
    /// (`applicationServerKey`) before it activates, so the enrollment hands it over.
    public var webPushApplicationServerKey: String?

    public init() {}

    /// - Throws: `configuration` naming the setting out of range.
    public func validate() throws(TwofoldError) {
        guard (60...86_400).contains(activationLifetime) else {
            throw TwofoldError(.configuration, "TWOFOLD_PUSH_ACTIVATION_LIFETIME must be 60 s to 24 h")
        }
        guard (15...600).contains(answerWindow) else {
            throw TwofoldError(.configuration, "TWOFOLD_PUSH_ANSWER_WINDOW must be 15 s to 10 min")
        }
        guard (0...604_800).contains(fraudSuspension) else {
            throw TwofoldError(.configuration, "TWOFOLD_PUSH_FRAUD_SUSPENSION must be 0 s to 7 days")
        }
    }

    func provider(for kind: PushTransportKind) -> (any PushProvider)? {
        providers.first { $0.transport == kind }
    }
}
