import Foundation
import TwofoldCore

/// Hands texts or calls to the operator's own gateway: a signed JSON POST per message.
///
/// One instance serves one channel (`TWOFOLD_SMS_WEBHOOK_URL` or `TWOFOLD_VOICE_WEBHOOK_URL`).
/// The `Idempotency-Key` is the challenge id, the same on every retry, so that a gateway can
/// deliver once when a retry follows an answer that got lost.
public struct WebhookProvider: SMSProvider, VoiceProvider {
    public var name: String { "webhook" }

    private let settings: WebhookSettings
    private let signature: WebhookSignature
    private let http: OutboundHTTP
    private let clock: any WallClock

    /// - Parameters:
    ///   - settings: the channel's URL and the shared secret; checked here.
    ///   - http: the shared outbound client.
    ///   - clock: the time signed into `Twofold-Signature`.
    /// - Throws: `configuration` naming the wrong setting.
    public init(settings: WebhookSettings, http: OutboundHTTP, clock: any WallClock = SystemWallClock()) throws(TwofoldError) {
        try settings.validate()
        self.settings = settings
        signature = WebhookSignature(secret: settings.secret)
        self.http = http
        self.clock = clock
    }

    public func send(_ message: SMSMessage) async throws(DeliveryFailure) -> DeliveryReceipt {
        guard settings.channel == .sms else {
            throw DeliveryFailure(.providerError, "this webhook is configured for \(settings.channel.rawValue), not SMS")
        }
        let body = Body(type: "sms", challengeID: message.challengeID.rawValue, to: message.to.e164, body: message.body,
                        callbackURL: message.statusCallback?.absoluteString)
        return try await post(body, challengeID: message.challengeID)
    }

    public func call(_ call: VoiceCall) async throws(DeliveryFailure) -> DeliveryReceipt {
        guard settings.channel == .voice else {
            throw DeliveryFailure(.providerError, "this webhook is configured for \(settings.channel.rawValue), not voice")
        }
        var body = Body(type: "voice", challengeID: call.challengeID.rawValue, to: call.to.e164,
                        callbackURL: call.statusCallback?.absoluteString)
        switch call.script {
        case .say(let speech):
            body.mode = "say"
            body.speech = speech
        case .pressKey(let prompt, let digitsCallback):
            body.mode = "press_key"
            body.prompt = prompt
            body.digitsCallbackURL = digitsCallback.absoluteString
        }
        return try await post(body, challengeID: call.challengeID)
    }

    private func post(_ body: Body, challengeID: ChallengeID) async throws(DeliveryFailure) -> DeliveryReceipt {
        let bytes: [UInt8]
        do {
            bytes = Array(try Self.encoder.encode(body))
        } catch {
            throw DeliveryFailure(.providerError, "the webhook body could not be encoded")
        }
        return try await SignedWebhookPost(url: settings.url, signature: signature, http: http, clock: clock, provider: name,
                                           peer: "webhook gateway").send(bytes, idempotencyKey: challengeID)
    }

    private static let encoder: JSONEncoder = {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return encoder
    }()

    /// The posted JSON: `callback_url` always (null when there is none), the voice fields only
    /// for calls.
    struct Body: Encodable {
        var type: String
        var challengeID: String
        var to: String
        var body: String?
        var mode: String?
        var speech: String?
        var prompt: String?
        var callbackURL: String?
        var digitsCallbackURL: String?

        enum CodingKeys: String, CodingKey {
            case type, to, body, mode, speech, prompt
            case challengeID = "challenge_id"
            case callbackURL = "callback_url"
            case digitsCallbackURL = "digits_callback_url"
        }

        func encode(to encoder: any Encoder) throws {
            var container = encoder.container(keyedBy: CodingKeys.self)
            try container.encode(type, forKey: .type)
            try container.encode(challengeID, forKey: .challengeID)
            try container.encode(to, forKey: .to)
            try container.encodeIfPresent(body, forKey: .body)
            try container.encodeIfPresent(mode, forKey: .mode)
            try container.encodeIfPresent(speech, forKey: .speech)
            try container.encodeIfPresent(prompt, forKey: .prompt)
            try container.encode(callbackURL, forKey: .callbackURL)
            try container.encodeIfPresent(digitsCallbackURL, forKey: .digitsCallbackURL)
        }
    }
}
