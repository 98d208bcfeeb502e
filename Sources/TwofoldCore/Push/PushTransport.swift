import Foundation

/// How a push device is woken when a challenge waits for it. Chosen by the device when it
/// activates; a device can always list its open challenges itself (polling).
public enum PushTransport: Sendable, Equatable {
    /// A Web Push subscription (RFC 8030): the push service's endpoint and the keys the
    /// message is encrypted to (RFC 8291).
    case webPush(WebPushSubscription)
    /// The operator's own relay (`TWOFOLD_PUSH_WEBHOOK_URL`), given the device's push token.
    case webhook(pushToken: String)
    /// No wake-up: the device polls with signed requests.
    case polling

    public var kind: PushTransportKind {
        switch self {
        case .webPush: .webPush
        case .webhook: .webhook
        case .polling: .polling
        }
    }
}

/// The kinds of ``PushTransport``, as named in `TWOFOLD_PUSH_PROVIDERS` and in the device's
/// activation (`transport.type`).
public enum PushTransportKind: String, Sendable, Codable, CaseIterable {
    case webPush = "webpush"
    case webhook
    case polling
}

/// A browser's or UnifiedPush distributor's push subscription, as `PushSubscription.toJSON()`
/// gives it: the endpoint to POST to, the user agent's P-256 public key (`p256dh`, 65 bytes,
/// uncompressed) and the 16-byte authentication secret (`auth`).
public struct WebPushSubscription: Sendable, Equatable, Codable {
    public var endpoint: String
    public var p256dh: [UInt8]
    public var auth: [UInt8]

    public init(endpoint: String, p256dh: [UInt8], auth: [UInt8]) {
        self.endpoint = endpoint
        self.p256dh = p256dh
        self.auth = auth
    }
}

/// A wake-up for one device: which challenge waits. Web Push carries only the challenge id;
/// the webhook relay also gets the text to show (the application and the login's context).
public struct PushNotification: Sendable, Equatable {
    public var challengeID: ChallengeID
    public var deviceID: DeviceID
    public var transport: PushTransport
    public var applicationName: String
    public var context: ChallengeContext
    public var expiresAt: Date

    public init(challengeID: ChallengeID, deviceID: DeviceID, transport: PushTransport, applicationName: String,
                context: ChallengeContext, expiresAt: Date) {
        self.challengeID = challengeID
        self.deviceID = deviceID
        self.transport = transport
        self.applicationName = applicationName
        self.context = context
        self.expiresAt = expiresAt
    }
}

/// Delivers wake-ups of one transport. Implementations live in `TwofoldDelivery`.
public protocol PushProvider: Sendable {
    /// The name in configuration and metrics (`webpush`, `webhook`).
    var name: String { get }
    /// The transport it serves.
    var transport: PushTransportKind { get }
    /// Checks a subscription or token at activation (an endpoint that is not https, say), so
    /// that a device that can never be reached is refused then, not at its first login.
    /// - Throws: `invalid_request` naming the field.
    func validate(_ transport: PushTransport) throws(TwofoldError)
    /// - Throws: ``DeliveryFailure``: `unreachable` for a subscription the push service says
    ///   is gone (404, 410), `rate_limited`, `provider_error`, `timeout`.
    func notify(_ notification: PushNotification) async throws(DeliveryFailure) -> DeliveryReceipt
}
