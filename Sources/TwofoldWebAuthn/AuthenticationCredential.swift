/// The browser's answer to `navigator.credentials.get()`, as the JSON of
/// `PublicKeyCredential.toJSON()` (WebAuthn Level 3 §5.1, `AuthenticationResponseJSON`):
/// `{"id", "rawId", "type": "public-key", "response": {"clientDataJSON", "authenticatorData",
/// "signature", "userHandle"?}, …}`.
public struct AuthenticationCredential: Sendable {
    /// The credential id (`rawId`): which stored public key to verify with.
    public let id: [UInt8]
    public let clientDataJSON: [UInt8]
    public let authenticatorData: [UInt8]
    public let signature: [UInt8]
    /// The user handle the credential was created for; `nil` when absent, null or empty (as
    /// authenticators answer for credentials that are not discoverable).
    public let userHandle: [UInt8]?

    let clientData: ClientData
    /// Client data's challenge, decoded (``challenge``).
    let decodedChallenge: [UInt8]
    let parsedAuthenticatorData: AuthenticatorData

    private struct Response: Decodable {
        var clientDataJSON: String
        var authenticatorData: String
        var signature: String
        var userHandle: String?
    }

    /// Parses the credential's JSON.
    /// - Throws: ``WebAuthnError`` `malformed` for JSON, Base64URL, client data or authenticator
    ///   data that is not what WebAuthn sends, including authenticator data that carries a new
    ///   credential (the AT flag belongs to registration).
    public init(json: [UInt8]) throws(WebAuthnError) {
        let (envelope, rawID) = try CredentialJSON.decode(json, response: Response.self, ceremony: "authentication")
        id = rawID
        clientDataJSON = try CredentialJSON.field(envelope.response.clientDataJSON, "clientDataJSON")
        authenticatorData = try CredentialJSON.field(envelope.response.authenticatorData, "authenticatorData")
        signature = try CredentialJSON.field(envelope.response.signature, "signature")
        let handle = try envelope.response.userHandle.map { (text) throws(WebAuthnError) in try CredentialJSON.field(text, "userHandle") }
        userHandle = handle?.isEmpty == false ? handle : nil
        clientData = try ClientData(json: clientDataJSON)
        decodedChallenge = try clientData.decodedChallenge()
        parsedAuthenticatorData = try AuthenticatorData(authenticatorData)
        guard parsedAuthenticatorData.attestedCredentialData == nil else {
            throw WebAuthnError(.malformed, "an assertion's authenticator data must not carry attested credential data (AT flag)")
        }
    }
}
