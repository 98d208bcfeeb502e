import Foundation
import TwofoldCore

/// Wakes a device through the operator's own relay (`TWOFOLD_PUSH_WEBHOOK_URL`): a signed JSON
/// POST with the device's push token, which the relay hands to APNs, FCM or whatever the app
/// uses. Signed exactly as the SMS and voice webhooks are (`Twofold-Signature`), with the
/// challenge id as `Idempotency-Key`, so that a retry after a lost answer wakes the device once.
///
/// The relay gets the text to show (the application and the login's context); the push token
/// is a credential of the device's, so it appears in the body only, never in errors or logs.
public struct WebhookPushProvider: PushProvider {
    public var name: String { "webhook" }
    public var transport: PushTransportKind { .webhook }

    /// The longest push token accepted: APNs tokens are 64 hex digits, FCM's about 160 characters.
    public static let maximumPushTokenBytes = 4096

    private let settings: WebhookSettings
    private let signature: WebhookSignature
    private let http: OutboundHTTP
    private let clock: any WallClock

    /// - Parameters:
    ///   - settings: the relay's URL (channel `push`) and the shared secret; checked here.
    ///   - http: the shared outbound client.
    ///   - clock: the time signed into `Twofold-Signature`.
    /// - Throws: `configuration` naming the wrong setting.
    public init(settings: WebhookSettings, http: OutboundHTTP, clock: any WallClock = SystemWallClock()) throws(TwofoldError) {
        guard settings.channel == .push else {
            throw TwofoldError(.configuration, "the push webhook needs TWOFOLD_PUSH_WEBHOOK_URL, not \(settings.urlSetting)")
        }
        try settings.validate()
        self.settings = settings
        signature = WebhookSignature(secret: settings.secret)
        self.http = http
        self.clock = clock
    }

    /// - Throws: `invalid_request` naming `transport.push_token` when it is empty, longer than
    ///   4096 bytes, or has characters other than printable ASCII.
    public func validate(_ transport: PushTransport) throws(TwofoldError) {
        guard case .webhook(let token) = transport else {
            throw TwofoldError(.invalidRequest, "transport.type must be webhook for the webhook push provider, not \(transport.kind.rawValue)")
        }
        guard !token.isEmpty, token.utf8.count <= Self.maximumPushTokenBytes,
              token.unicodeScalars.allSatisfy({ $0.isASCII && $0.value > 0x20 && $0.value < 0x7f }) else {
            throw TwofoldError(.invalidRequest, "transport.push_token must be 1 to \(Self.maximumPushTokenBytes) printable ASCII characters, without spaces")
        }
    }

    public func notify(_ notification: PushNotification) async throws(DeliveryFailure) -> DeliveryReceipt {
        guard case .webhook(let token) = notification.transport else {
            throw DeliveryFailure(.providerError, "the webhook push provider was given a \(notification.transport.kind.rawValue) device")
        }
        let body = Body(challengeID: notification.challengeID.rawValue, deviceID: notification.deviceID.rawValue, pushToken: token,
                        appName: notification.applicationName, context: notification.context, expiresAt: notification.expiresAt)
        let bytes: [UInt8]
        do {
            bytes = Array(try TwofoldJSON.encoder.encode(body))
        } catch {
            throw DeliveryFailure(.providerError, "the push webhook body could not be encoded")
        }
        return try await SignedWebhookPost(url: settings.url, signature: signature, http: http, clock: clock, provider: name,
                                           peer: "push relay").send(bytes, idempotencyKey: notification.challengeID)
    }

    /// The posted JSON; `context` holds the fields the login page gave (absent ones left out, as
    /// the API shows them).
    struct Body: Encodable {
        var type = "push"
        var challengeID: String
        var deviceID: String
        var pushToken: String
        var appName: String
        var context: ChallengeContext
        var expiresAt: Date

        enum CodingKeys: String, CodingKey {
            case type, context
            case challengeID = "challenge_id"
            case deviceID = "device_id"
            case pushToken = "push_token"
            case appName = "app_name"
            case expiresAt = "expires_at"
        }
    }
}
