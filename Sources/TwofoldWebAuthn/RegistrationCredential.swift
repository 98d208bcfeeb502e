/// The browser's answer to `navigator.credentials.create()`, as the JSON of
/// `PublicKeyCredential.toJSON()` that the application relays (WebAuthn Level 3 §5.1,
/// `RegistrationResponseJSON`):
/// `{"id", "rawId", "type": "public-key", "response": {"clientDataJSON", "attestationObject",
/// "transports"?, …}, "authenticatorAttachment"?, "clientExtensionResults"?}`.
///
/// Parsing checks the structure (JSON, Base64URL, CBOR, authenticator data, the credential key);
/// ``WebAuthn/verifyRegistration(_:challenge:relyingParty:requireUserVerification:)`` checks the
/// ceremony.
public struct RegistrationCredential: Sendable {
    /// The credential id (`rawId`).
    public let id: [UInt8]
    /// The exact bytes the client data hash was computed over.
    public let clientDataJSON: [UInt8]
    public let attestationObject: [UInt8]
    /// `response.transports` as the browser sent it (ceremonies keep only known values).
    public let transports: [String]
    /// "platform" or "cross-platform", when the browser said.
    public let authenticatorAttachment: String?

    let clientData: ClientData
    /// Client data's challenge, decoded (``challenge``).
    let decodedChallenge: [UInt8]
    let attestation: AttestationObject

    private struct Response: Decodable {
        var clientDataJSON: String
        var attestationObject: String
        var transports: [String]?
    }

    /// Parses the credential's JSON.
    /// - Throws: ``WebAuthnError`` `malformed` for JSON, Base64URL, client data, CBOR or
    ///   authenticator data that is not what WebAuthn sends; `unsupported` for a credential key
    ///   Twofold does not verify.
    public init(json: [UInt8]) throws(WebAuthnError) {
        let (envelope, rawID) = try CredentialJSON.decode(json, response: Response.self, ceremony: "registration")
        id = rawID
        clientDataJSON = try CredentialJSON.field(envelope.response.clientDataJSON, "clientDataJSON")
        attestationObject = try CredentialJSON.field(envelope.response.attestationObject, "attestationObject")
        transports = envelope.response.transports ?? []
        authenticatorAttachment = envelope.authenticatorAttachment
        clientData = try ClientData(json: clientDataJSON)
        decodedChallenge = try clientData.decodedChallenge()
        attestation = try AttestationObject(attestationObject)
    }
}
