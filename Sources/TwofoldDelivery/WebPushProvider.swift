import Crypto
import Foundation
import Synchronization
import TwofoldCore
import TwofoldWebPush

/// Wakes a device through its Web Push subscription (RFC 8030): an encrypted POST to the push
/// service's endpoint (RFC 8291), signed with the VAPID key (RFC 8292).
///
/// The message carries only `{"challenge_id","type":"twofold.push"}`: the device fetches the
/// rest with a signed request, so the push service, which sees timing and size, learns nothing
/// of the login. The endpoint is a capability (whoever knows it can push), so it never appears
/// in errors or logs.
public struct WebPushProvider: PushProvider {
    public var name: String { "webpush" }
    public var transport: PushTransportKind { .webPush }

    /// The longest endpoint accepted; real ones are a few hundred bytes.
    public static let maximumEndpointBytes = 2048

    private let settings: WebPushSettings
    private let authorization: VAPIDAuthorization
    private let tokens = VAPIDTokenCache()
    private let http: OutboundHTTP
    private let clock: any WallClock

    /// - Parameters:
    ///   - settings: the subject and whether loopback `http://` endpoints are allowed; checked here.
    ///   - key: the VAPID key (``WebPushSettings/loadKey()`` reads it from its file).
    ///   - http: the shared outbound client.
    ///   - clock: the time the `TTL` and the VAPID token's expiry count from.
    /// - Throws: `configuration` naming the wrong setting.
    public init(settings: WebPushSettings, key: VAPIDKey, http: OutboundHTTP, clock: any WallClock = SystemWallClock()) throws(TwofoldError) {
        try settings.validate()
        self.settings = settings
        do {
            authorization = try VAPIDAuthorization(key: key, subject: settings.subject)
        } catch {
            throw TwofoldError(.configuration, "TWOFOLD_VAPID_SUBJECT must be a mailto: address or an https: URL, such as mailto:ops@example.com")
        }
        self.http = http
        self.clock = clock
    }

    /// The provider with the key read from `TWOFOLD_VAPID_KEY_FILE`.
    ///
    /// - Throws: `configuration` naming the wrong setting, or the unreadable key file.
    public init(settings: WebPushSettings, http: OutboundHTTP, clock: any WallClock = SystemWallClock()) throws(TwofoldError) {
        try self.init(settings: settings, key: try settings.loadKey(), http: http, clock: clock)
    }

    /// The VAPID public key in Base64URL: the `applicationServerKey` a device subscribes with,
    /// which push services bind its subscription to.
    public var applicationServerKey: String { authorization.key.applicationServerKey }

    /// Refuses, at activation, a subscription that could never be pushed to.
    ///
    /// - Throws: `invalid_request` naming `transport.endpoint` (not https, or http off loopback
    ///   outside development; credentials, a fragment, or an address on this machine or a private
    ///   network), `transport.keys.p256dh` or `transport.keys.auth`.
    public func validate(_ transport: PushTransport) throws(TwofoldError) {
        guard case .webPush(let subscription) = transport else {
            throw TwofoldError(.invalidRequest, "transport.type must be webpush for the webpush provider, not \(transport.kind.rawValue)")
        }
        try validateEndpoint(subscription.endpoint)
        do {
            try WebPushEncryption.validateSubscription(p256dh: subscription.p256dh, authSecret: subscription.auth)
        } catch where error.code == .invalidAuthSecret {
            throw TwofoldError(.invalidRequest, "transport.keys.auth must be the subscription's 16-byte auth secret in Base64URL, not \(subscription.auth.count) bytes")
        } catch {
            throw TwofoldError(.invalidRequest, "transport.keys.p256dh must be the subscription's P-256 public key: 65 bytes, uncompressed, in Base64URL")
        }
    }

    public func notify(_ notification: PushNotification) async throws(DeliveryFailure) -> DeliveryReceipt {
        guard case .webPush(let subscription) = notification.transport else {
            throw DeliveryFailure(.providerError, "the webpush provider was given a \(notification.transport.kind.rawValue) device")
        }
        do {
            try validate(notification.transport)
        } catch {
            throw DeliveryFailure(.providerError, "the device's push subscription is not usable: \(error.message)")
        }
        let now = clock.now()
        let message: [UInt8]
        let body: [UInt8]
        let vapid: String
        do {
            message = Array(try Self.encoder.encode(Message(challengeID: notification.challengeID.rawValue)))
            body = try WebPushEncryption.encrypt(message, p256dh: subscription.p256dh, authSecret: subscription.auth)
            vapid = try tokens.header(for: subscription.endpoint, at: now, authorization: authorization)
        } catch {
            throw DeliveryFailure(.providerError, "the push message could not be built")
        }
        // RFC 8030 §5.2: kept no longer than the challenge can be answered.
        let ttl = max(0, Int(notification.expiresAt.timeIntervalSince(now).rounded(.down)))
        let request = OutboundRequest(
            url: subscription.endpoint,
            headers: [
                ("Content-Type", "application/octet-stream"),
                ("Content-Encoding", "aes128gcm"),
                ("TTL", String(ttl)),
                // RFC 8030 §5.3: someone is waiting at a login page.
                ("Urgency", "high"),
                ("Topic", Self.topic(for: notification.deviceID)),
                ("Authorization", vapid),
            ],
            body: body
        )
        let response = try await http.send(request, provider: name)
        switch response.status {
        case 200..<300:
            return DeliveryReceipt(reference: response.headers["location"], status: "sent")
        case 300..<400:
            throw DeliveryFailure(.providerError, "the push service answered with a redirect (HTTP \(response.status)), which is not followed")
        case 404, 410:
            // RFC 8030 §7.3: the subscription expired or was unsubscribed.
            throw DeliveryFailure(.unreachable, "the push subscription is gone (HTTP \(response.status))")
        case 429:
            throw DeliveryFailure(.rateLimited, "the push service answered HTTP 429")
        case 413:
            throw DeliveryFailure(.providerError, "the push service refused the message as too large (HTTP 413)")
        case 401, 403:
            throw DeliveryFailure(.providerError, "the push service refused the VAPID authorization (HTTP \(response.status)): the subscription may belong to another TWOFOLD_VAPID_KEY_FILE")
        case 400..<500:
            throw DeliveryFailure(.providerError, "the push service refused the request (HTTP \(response.status))")
        default:
            throw DeliveryFailure(.providerError, "the push service answered HTTP \(response.status)")
        }
    }

    /// The `Topic` of a device's pushes (RFC 8030 §5.4): a newer challenge's wake-up replaces
    /// one still waiting at the push service. A hash of the device id, so that the push service
    /// does not learn the id: 24 bytes of SHA-256, 32 Base64URL characters.
    static func topic(for device: DeviceID) -> String {
        let digest = SHA256.hash(data: Array("twofold-push-topic:\(device.rawValue)".utf8))
        return Base64URL.encode(Array(digest).prefix(24))
    }

    private func validateEndpoint(_ endpoint: String) throws(TwofoldError) {
        let refusal = TwofoldError(.invalidRequest, settings.allowLoopbackHTTP
            ? "transport.endpoint must be the push service's https:// URL (or http:// on 127.0.0.1, ::1 or localhost), without credentials or a fragment"
            : "transport.endpoint must be the push service's https:// URL, without credentials or a fragment, on a public host")
        guard endpoint.utf8.count <= Self.maximumEndpointBytes,
              endpoint.unicodeScalars.allSatisfy({ $0.isASCII && $0.value > 0x20 && $0.value < 0x7f }),
              let components = URLComponents(string: endpoint),
              let scheme = components.scheme?.lowercased(),
              let host = components.host?.lowercased(), !host.isEmpty,
              components.user == nil, components.password == nil, components.fragment == nil
        else { throw refusal }
        let loopback = Self.isLoopback(host)
        switch scheme {
        case "https":
            // A subscription names where Twofold will POST: not this machine or a private
            // network, where it could reach services that trust their neighbours.
            guard loopback ? settings.allowLoopbackHTTP : !Self.isPrivateAddress(host) else { throw refusal }
        case "http":
            guard loopback, settings.allowLoopbackHTTP else { throw refusal }
        default:
            throw refusal
        }
    }

    /// 127.0.0.0/8, ::1 and localhost: this machine.
    static func isLoopback(_ host: String) -> Bool {
        let bare = host.trimmingCharacters(in: CharacterSet(charactersIn: "[]"))
        if bare == "localhost" || bare.hasSuffix(".localhost") || bare == "::1" { return true }
        let octets = bare.split(separator: ".", omittingEmptySubsequences: false)
        return octets.count == 4 && octets.allSatisfy { UInt8($0) != nil } && octets[0] == "127"
    }

    /// IP literals that name no public host: unspecified, link-local, private (RFC 1918, RFC 4193)
    /// and shared (RFC 6598) ranges. Names are left to DNS.
    static func isPrivateAddress(_ host: String) -> Bool {
        let bare = host.trimmingCharacters(in: CharacterSet(charactersIn: "[]"))
        let octets = bare.split(separator: ".", omittingEmptySubsequences: false).compactMap { UInt8($0) }
        if octets.count == 4, bare.split(separator: ".", omittingEmptySubsequences: false).count == 4 {
            switch (octets[0], octets[1]) {
            case (0, _), (10, _), (127, _), (169, 254), (192, 168): return true
            case (172, 16...31), (100, 64...127): return true
            default: return false
            }
        }
        guard bare.contains(":") else { return false }
        return bare == "::" || bare == "::1" || bare.hasPrefix("fe8") || bare.hasPrefix("fe9") || bare.hasPrefix("fea")
            || bare.hasPrefix("feb") || bare.hasPrefix("fc") || bare.hasPrefix("fd") || bare.hasPrefix("::ffff:")
    }

    private static let encoder: JSONEncoder = {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return encoder
    }()

    /// The encrypted payload: the challenge to fetch, and what kind of message this is.
    struct Message: Encodable {
        var challengeID: String
        var type = "twofold.push"

        enum CodingKeys: String, CodingKey {
            case type
            case challengeID = "challenge_id"
        }
    }
}

/// VAPID headers by push service (audience): a token is signed once and reused while more than
/// an hour of its 12 h remains (RFC 8292 §2 allows reuse), rather than one ECDSA signature per
/// push. Bounded: past ``capacity`` audiences the cache starts over.
final class VAPIDTokenCache: Sendable {
    static let capacity = 1_024
    static let renewBefore: TimeInterval = 3_600

    private struct Entry {
        var header: String
        var expires: Date
    }

    private let entries = Mutex([String: Entry]())

    func header(for endpoint: String, at now: Date, authorization: VAPIDAuthorization) throws(WebPushError) -> String {
        let audience = try VAPIDAuthorization.audience(for: endpoint)
        if let entry = entries.withLock({ $0[audience] }), entry.expires.timeIntervalSince(now) > Self.renewBefore {
            return entry.header
        }
        let header = try authorization.header(for: endpoint, at: now)
        entries.withLock { entries in
            if entries.count >= Self.capacity { entries.removeAll() }
            entries[audience] = Entry(header: header, expires: now.addingTimeInterval(VAPIDAuthorization.defaultLifetime))
        }
        return header
    }
}
