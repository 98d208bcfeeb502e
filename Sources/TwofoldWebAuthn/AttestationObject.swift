/// What `navigator.credentials.create()` returns from the authenticator (WebAuthn §6.5.4): a
/// CBOR map of the statement's format, the statement, and the authenticator data.
struct AttestationObject: Sendable {
    let format: String
    let statement: [CBORValue.Key: CBORValue]
    let authenticatorData: AuthenticatorData
    /// The attested credential data, which an attestation object always has.
    let credential: AttestedCredentialData

    /// Parses an attestation object.
    /// - Throws: ``WebAuthnError`` `malformed` when the bytes are not one CBOR map with a text
    ///   `fmt`, a map `attStmt` and byte-string `authData` holding attested credential data;
    ///   `unsupported` for a credential key Twofold does not verify.
    init(_ bytes: [UInt8]) throws(WebAuthnError) {
        guard let map = try CBORDecoder.decode(bytes).map else {
            throw WebAuthnError(.malformed, "the attestation object is not a CBOR map")
        }
        guard let format = map[.text("fmt")]?.text else {
            throw WebAuthnError(.malformed, "the attestation object has no text fmt")
        }
        guard let statement = map[.text("attStmt")]?.map else {
            throw WebAuthnError(.malformed, "the attestation object has no attStmt map")
        }
        guard let authData = map[.text("authData")]?.bytes else {
            throw WebAuthnError(.malformed, "the attestation object has no authData byte string")
        }
        let authenticatorData = try AuthenticatorData(authData)
        // §7.1: the AT flag, and the credential it announces.
        guard let credential = authenticatorData.attestedCredentialData else {
            throw WebAuthnError(.malformed, "the attestation object's authenticator data has no attested credential data (AT flag)")
        }
        self.format = format
        self.statement = statement
        self.authenticatorData = authenticatorData
        self.credential = credential
    }

    /// Verifies the attestation statement (WebAuthn §7.1 and §8).
    /// - Parameter clientDataHash: SHA-256 of `clientDataJSON`, which the statement signs
    ///   after the authenticator data.
    /// - Returns: What the statement proves.
    /// - Throws: ``WebAuthnError`` `bad_attestation` when the statement does not verify,
    ///   `unsupported` for formats other than none, packed and fido-u2f.
    func verify(clientDataHash: [UInt8]) throws(WebAuthnError) -> AttestationType {
        switch format {
        case "none":
            // §8.7: the statement is empty.
            guard statement.isEmpty else {
                throw WebAuthnError(.badAttestation, "a \"none\" attestation statement must be empty")
            }
            return .none
        case "packed":
            return try verifyPacked(clientDataHash: clientDataHash)
        case "fido-u2f":
            return try verifyFIDOU2F(clientDataHash: clientDataHash)
        default:
            throw WebAuthnError(.unsupported, "attestation format \"\(format)\" is not supported: use none, packed or fido-u2f")
        }
    }
}
