/// The parsers behind the ceremonies, reachable with arbitrary bytes: the `webauthn` fuzz target
/// in `Tests/Fuzz` calls them.
///
/// They run the module's own code, not a copy, so what the fuzzer finds is in the ceremonies.
/// Import them with `@_spi(Fuzzing) import TwofoldWebAuthn`; they are not part of the public API.
@_spi(Fuzzing)
public enum FuzzEntryPoints {
    /// What decoding one CBOR data item gave.
    public struct CBOROutcome: Sendable {
        /// How many bytes the first item took, or why it could not be read.
        public let prefix: Result<Int, WebAuthnError>
        /// Whether the bytes are exactly one item.
        public let whole: Result<Void, WebAuthnError>
    }

    /// Decodes `bytes` as a CBOR item followed by anything, and as exactly one item.
    public static func decodeCBOR(_ bytes: [UInt8]) -> CBOROutcome {
        CBOROutcome(
            prefix: Result { () throws(WebAuthnError) in try CBORDecoder.decodePrefix(bytes).consumed },
            whole: Result { () throws(WebAuthnError) in _ = try CBORDecoder.decode(bytes) })
    }

    /// Parses an attestation object and verifies its statement against `clientDataHash`.
    public static func verifyAttestationObject(_ bytes: [UInt8], clientDataHash: [UInt8]) throws(WebAuthnError) -> AttestationType {
        try AttestationObject(bytes).verify(clientDataHash: clientDataHash)
    }

    /// What parsed authenticator data holds.
    public struct AuthenticatorDataSummary: Sendable {
        public let flags: UInt8
        public let signCount: UInt32
        public let credentialIDCount: Int?
        public let publicKeyCount: Int?
        public let hasExtensions: Bool
    }

    /// Parses authenticator data (§6.1).
    public static func parseAuthenticatorData(_ bytes: [UInt8]) throws(WebAuthnError) -> AuthenticatorDataSummary {
        let data = try AuthenticatorData(bytes)
        return AuthenticatorDataSummary(
            flags: data.flags.rawValue, signCount: data.signCount,
            credentialIDCount: data.attestedCredentialData?.credentialID.count,
            publicKeyCount: data.attestedCredentialData?.publicKeyBytes.count, hasExtensions: data.extensions != nil)
    }

    /// Reads a COSE key and checks `signature` over `data` with it.
    public static func verifyWithCOSEKey(_ key: [UInt8], signature: [UInt8], data: [UInt8]) throws(WebAuthnError) -> Bool {
        try VerifyingKey(coseKey: key).isValidSignature(signature, for: data)
    }
}
