import Crypto
import Foundation

/// Builds the `Authorization: vapid t=…, k=…` header of a push request (RFC 8292): a JWT, signed
/// with the VAPID key, that tells the push service who sends and how to reach them.
///
/// The token names the push service's origin (`aud`), so it is good for that service only, and
/// expires within a day (`exp`), so a leaked one is soon useless.
public struct VAPIDAuthorization: Sendable {
    /// RFC 8292 §2: `exp` must not be more than 24 hours after the request.
    public static let maximumLifetime: TimeInterval = 24 * 3600
    /// How long a token is good for unless told otherwise: half the maximum, so that a clock a
    /// little ahead of the push service's never makes it too long.
    public static let defaultLifetime: TimeInterval = 12 * 3600

    /// The JWT header, always the same.
    static let jwtHeader = #"{"typ":"JWT","alg":"ES256"}"#

    public let key: VAPIDKey
    /// A `mailto:` address or an `https:` URL at which the push service can reach the operator.
    public let subject: String

    /// - Throws: ``WebPushError`` `invalid_vapid_subject` unless `subject` is a `mailto:`
    ///   address or an `https:` URL.
    public init(key: VAPIDKey, subject: String) throws(WebPushError) {
        try Self.checkSubject(subject)
        self.key = key
        self.subject = subject
    }

    /// The `Authorization` header value for a request to `endpoint` made at `now`.
    ///
    /// - Parameters:
    ///   - endpoint: the subscription's endpoint; only its origin is signed.
    ///   - now: the time of the request; the token expires `lifetime` later (whole seconds,
    ///     rounded down).
    ///   - lifetime: more than 0, at most ``maximumLifetime``.
    /// - Throws: ``WebPushError`` `invalid_endpoint` or `invalid_lifetime`.
    public func header(for endpoint: String, at now: Date, lifetime: TimeInterval = defaultLifetime) throws(WebPushError) -> String {
        guard lifetime > 0, lifetime <= Self.maximumLifetime else {
            throw WebPushError(.invalidLifetime, "a VAPID token's lifetime must be more than 0 and at most 24 hours, not \(lifetime) seconds")
        }
        let claims = Claims(audience: try Self.audience(for: endpoint),
                            expiresAt: Int64((now.timeIntervalSince1970 + lifetime).rounded(.down)), subject: subject)
        return "vapid t=\(try token(claims)), k=\(key.applicationServerKey)"
    }

    /// The claims of a token (RFC 8292 §2).
    public struct Claims: Sendable, Equatable, Codable {
        /// The push service's origin.
        public var audience: String
        /// When the token expires, in seconds since 1970.
        public var expiresAt: Int64
        /// Who to contact about the pushes.
        public var subject: String

        public init(audience: String, expiresAt: Int64, subject: String) {
            self.audience = audience
            self.expiresAt = expiresAt
            self.subject = subject
        }

        enum CodingKeys: String, CodingKey {
            case audience = "aud"
            case expiresAt = "exp"
            case subject = "sub"
        }
    }

    /// The compact JWS: Base64URL(header) . Base64URL(claims) . Base64URL(r ‖ s).
    func token(_ claims: Claims) throws(WebPushError) -> String {
        let encoder = JSONEncoder()
        // Sorted keys: some push services have been seen to refuse other orders.
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        let signingInput: String
        let signature: P256.Signing.ECDSASignature
        do {
            signingInput = Base64URL.encode(Array(Self.jwtHeader.utf8)) + "." + Base64URL.encode(Array(try encoder.encode(claims)))
            signature = try key.signingKey.signature(for: Array(signingInput.utf8))
        } catch {
            throw WebPushError(.invalidVAPIDKey, "the VAPID token could not be signed")
        }
        // JWS ES256 (RFC 7518 §3.4): the raw 32-byte r and s, not DER.
        return signingInput + "." + Base64URL.encode(Array(signature.rawRepresentation))
    }

    /// The origin of a push endpoint (RFC 6454 §6.2): `scheme://host[:port]`, lower case, the
    /// port left out when it is the scheme's default; the `aud` of its tokens.
    ///
    /// - Throws: ``WebPushError`` `invalid_endpoint` for anything but an http(s) URL with a host.
    public static func audience(for endpoint: String) throws(WebPushError) -> String {
        guard endpoint.unicodeScalars.allSatisfy({ $0.isASCII && $0.value > 0x20 && $0.value < 0x7f }),
              let components = URLComponents(string: endpoint),
              let scheme = components.scheme?.lowercased(), scheme == "https" || scheme == "http",
              let host = components.host?.lowercased(), !host.isEmpty
        else {
            throw WebPushError(.invalidEndpoint, "the push endpoint must be an http(s) URL with a host")
        }
        let bracketed = host.contains(":") && !host.hasPrefix("[") ? "[\(host)]" : host
        let defaultPort = scheme == "https" ? 443 : 80
        if let port = components.port, port != defaultPort {
            return "\(scheme)://\(bracketed):\(port)"
        }
        return "\(scheme)://\(bracketed)"
    }

    /// RFC 8292 §2.1: the subject is a `mailto:` URI or an `https:` URL.
    ///
    /// - Throws: ``WebPushError`` `invalid_vapid_subject`.
    public static func checkSubject(_ subject: String) throws(WebPushError) {
        let printable = subject.unicodeScalars.allSatisfy { $0.isASCII && $0.value > 0x20 && $0.value < 0x7f }
        let lowered = subject.lowercased()
        var valid = false
        if printable, subject.utf8.count <= 256 {
            if lowered.hasPrefix("mailto:") {
                let address = subject.dropFirst("mailto:".count).split(separator: "@", omittingEmptySubsequences: false)
                valid = address.count == 2 && !address[0].isEmpty && !address[1].isEmpty
            } else if lowered.hasPrefix("https://"), let components = URLComponents(string: subject) {
                valid = !(components.host ?? "").isEmpty
            }
        }
        guard valid else {
            throw WebPushError(.invalidVAPIDSubject, "the VAPID subject must be a mailto: address or an https: URL, such as mailto:ops@example.com")
        }
    }
}
