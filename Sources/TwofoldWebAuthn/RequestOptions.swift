/// The options of `navigator.credentials.get()` for signing in with a security key, in the JSON
/// form (`PublicKeyCredentialRequestOptionsJSON`, WebAuthn Level 3 §5.1.10) that the browser's
/// `PublicKeyCredential.parseRequestOptionsFromJSON` reads.
public struct RequestOptions: Sendable, Encodable {
    public let relyingParty: RelyingParty
    public let challenge: [UInt8]
    /// The user's credentials: a second factor always names them (no discoverable credentials).
    public let allowCredentials: [CredentialDescriptor]
    public let userVerification: UserVerification
    public let timeoutMilliseconds: Int

    public init(relyingParty: RelyingParty, challenge: [UInt8], allowCredentials: [CredentialDescriptor],
                userVerification: UserVerification, timeoutMilliseconds: Int) {
        self.relyingParty = relyingParty
        self.challenge = challenge
        self.allowCredentials = allowCredentials
        self.userVerification = userVerification
        self.timeoutMilliseconds = timeoutMilliseconds
    }

    private enum CodingKeys: String, CodingKey {
        case challenge, timeout, rpId, allowCredentials, userVerification
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(Base64URL.encode(challenge), forKey: .challenge)
        try container.encode(timeoutMilliseconds, forKey: .timeout)
        try container.encode(relyingParty.id, forKey: .rpId)
        try container.encode(allowCredentials, forKey: .allowCredentials)
        try container.encode(userVerification, forKey: .userVerification)
    }
}
