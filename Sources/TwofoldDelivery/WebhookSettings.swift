import Foundation
import TwofoldCore

/// One channel's gateway for the webhook provider: where to post, and the shared secret that
/// signs the posts and the gateway's callbacks. The secret is never printed.
public struct WebhookSettings: Sendable, Equatable, CustomStringConvertible {
    /// The channel this gateway delivers; it names the URL setting in messages.
    public var channel: ChallengeType
    /// `TWOFOLD_SMS_WEBHOOK_URL` or `TWOFOLD_VOICE_WEBHOOK_URL`.
    public var url: String
    /// `TWOFOLD_WEBHOOK_SECRET`: at least 32 bytes.
    public var secret: String

    /// The shortest secret accepted: 256 bits if it is random, the HMAC-SHA-256 key size.
    public static let minimumSecretBytes = 32

    public init(channel: ChallengeType, url: String, secret: String) {
        self.channel = channel
        self.url = url
        self.secret = secret
    }

    /// The name of the URL's setting for this channel.
    public var urlSetting: String {
        switch channel {
        case .sms: "TWOFOLD_SMS_WEBHOOK_URL"
        case .voice: "TWOFOLD_VOICE_WEBHOOK_URL"
        case .push: "TWOFOLD_PUSH_WEBHOOK_URL"
        // Never built for security keys: the browser carries their ceremony, no webhook does.
        case .webauthn: "(no webhook for security keys)"
        }
    }

    /// - Throws: `configuration` naming the URL's setting for a URL that is not http(s) with a
    ///   host, or `TWOFOLD_WEBHOOK_SECRET` for a secret shorter than 32 bytes.
    public func validate() throws(TwofoldError) {
        guard let components = URLComponents(string: url),
              let scheme = components.scheme?.lowercased(), scheme == "http" || scheme == "https",
              let host = components.host, !host.isEmpty, components.fragment == nil,
              url.unicodeScalars.allSatisfy({ $0.isASCII && $0.value > 0x20 && $0.value < 0x7f })
        else {
            throw TwofoldError(.configuration, "\(urlSetting) must be an http:// or https:// URL with a host, such as https://sms-gateway.example.com/send")
        }
        try Self.validateSecret(secret)
    }

    /// - Throws: `configuration` naming `TWOFOLD_WEBHOOK_SECRET` when it is shorter than 32 bytes.
    public static func validateSecret(_ secret: String) throws(TwofoldError) {
        guard secret.utf8.count >= minimumSecretBytes else {
            throw TwofoldError(.configuration, "TWOFOLD_WEBHOOK_SECRET must be at least \(minimumSecretBytes) bytes (e.g. openssl rand -hex 32)")
        }
    }

    public var description: String { "\(channel.rawValue) webhook at \(url) (secret not shown)" }
}
