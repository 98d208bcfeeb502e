/// An error from Web Push encryption or VAPID: a stable machine `code` and a `message` naming
/// the offending value (never a key or a secret).
///
/// A struct rather than an enum so that new codes can be added without breaking callers.
public struct WebPushError: Error, Sendable, Equatable, CustomStringConvertible {
    /// A stable, machine-readable reason.
    public struct Code: RawRepresentable, Hashable, Sendable, CustomStringConvertible {
        public let rawValue: String
        public init(rawValue: String) { self.rawValue = rawValue }
        public var description: String { rawValue }

        /// Text that is not unpadded (or correctly padded) Base64URL.
        public static let invalidBase64URL = Code(rawValue: "invalid_base64url")
        /// A subscription's `p256dh` that is not a 65-byte uncompressed P-256 point on the curve.
        public static let invalidPublicKey = Code(rawValue: "invalid_public_key")
        /// A subscription's `auth` that is not 16 bytes (RFC 8291 §3.2).
        public static let invalidAuthSecret = Code(rawValue: "invalid_auth_secret")
        /// A salt that is not 16 bytes (RFC 8188 §2.1).
        public static let invalidSalt = Code(rawValue: "invalid_salt")
        /// A record size below 18 or above 2³²−1 (RFC 8188 §2.1).
        public static let invalidRecordSize = Code(rawValue: "invalid_record_size")
        /// More plaintext than one record and a 4096-byte push message hold (RFC 8291 §4).
        public static let plaintextTooLarge = Code(rawValue: "plaintext_too_large")
        /// A body shorter than its header, or than one tag and a padding delimiter.
        public static let truncatedBody = Code(rawValue: "truncated_body")
        /// A body whose header cannot be RFC 8291's: a `keyid` that is not 65 bytes, or more
        /// than one record.
        public static let malformedBody = Code(rawValue: "malformed_body")
        /// A body whose `keyid` is not an uncompressed P-256 point on the curve.
        public static let invalidSenderKey = Code(rawValue: "invalid_sender_key")
        /// The record's tag does not verify: wrong keys, wrong auth secret, or altered bytes.
        public static let authenticationFailed = Code(rawValue: "authentication_failed")
        /// A decrypted record that does not end in the 0x02 delimiter and zero padding (RFC 8188 §2).
        public static let invalidPadding = Code(rawValue: "invalid_padding")
        /// A VAPID key that is not a P-256 private key in PEM (PKCS#8 or SEC1).
        public static let invalidVAPIDKey = Code(rawValue: "invalid_vapid_key")
        /// A VAPID subject that is neither a `mailto:` address nor an `https:` URL (RFC 8292 §2.1).
        public static let invalidVAPIDSubject = Code(rawValue: "invalid_vapid_subject")
        /// A token lifetime that is not positive or exceeds 24 hours (RFC 8292 §2).
        public static let invalidLifetime = Code(rawValue: "invalid_lifetime")
        /// A push endpoint that is not an http(s) URL with a host.
        public static let invalidEndpoint = Code(rawValue: "invalid_endpoint")
    }

    public let code: Code
    public let message: String

    public init(_ code: Code, _ message: String) {
        self.code = code
        self.message = message
    }

    public var description: String { "\(code.rawValue): \(message)" }
}
