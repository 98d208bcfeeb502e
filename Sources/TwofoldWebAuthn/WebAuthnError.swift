/// Why a WebAuthn response was refused: a stable `code` for programs and a `message` for people.
///
/// Hostile input of every kind (truncated CBOR, nesting bombs, wrong key types, huge lengths)
/// ends here, never in a trap.
public struct WebAuthnError: Error, Sendable, Equatable, CustomStringConvertible {
    public struct Code: RawRepresentable, Hashable, Sendable, CustomStringConvertible {
        public let rawValue: String
        public init(rawValue: String) { self.rawValue = rawValue }
        public var description: String { rawValue }

        /// The bytes or JSON are not what WebAuthn sends (bad CBOR, base64url, JSON, lengths).
        public static let malformed = Code(rawValue: "malformed")
        /// A key type, curve or algorithm WebAuthn allows but Twofold does not verify.
        public static let unsupported = Code(rawValue: "unsupported")
        /// `clientDataJSON.type` is not the ceremony's (`webauthn.create` or `webauthn.get`).
        public static let typeMismatch = Code(rawValue: "type_mismatch")
        public static let challengeMismatch = Code(rawValue: "challenge_mismatch")
        public static let originMismatch = Code(rawValue: "origin_mismatch")
        public static let rpIDMismatch = Code(rawValue: "rp_id_mismatch")
        public static let userNotPresent = Code(rawValue: "user_not_present")
        public static let userNotVerified = Code(rawValue: "user_not_verified")
        public static let badSignature = Code(rawValue: "bad_signature")
        public static let badAttestation = Code(rawValue: "bad_attestation")
        /// The assertion is genuine but its signature counter did not move forward: the
        /// credential may have been cloned.
        public static let signCountNotIncreased = Code(rawValue: "sign_count_not_increased")
    }

    public let code: Code
    public let message: String

    public init(_ code: Code, _ message: String) {
        self.code = code
        self.message = message
    }

    public var description: String { "\(code): \(message)" }
}
