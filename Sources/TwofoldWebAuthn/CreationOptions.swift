/// The options of `navigator.credentials.create()` for registering a security key, in the JSON
/// form (`PublicKeyCredentialCreationOptionsJSON`, WebAuthn Level 3 §5.1.8) that the browser's
/// `PublicKeyCredential.parseCreationOptionsFromJSON` reads: binary fields as Base64URL.
///
/// It offers ES256, EdDSA and RS256 in that order, asks for `direct` attestation (so that
/// packed and fido-u2f statements arrive instead of "none") and discourages discoverable
/// credentials: a second factor needs no username-less sign-in.
public struct CreationOptions: Sendable, Encodable {
    public let relyingParty: RelyingParty
    public let rpName: String
    public let userHandle: [UInt8]
    public let userName: String
    public let userDisplayName: String
    public let challenge: [UInt8]
    public let excludeCredentials: [CredentialDescriptor]
    public let userVerification: UserVerification
    public let timeoutMilliseconds: Int

    /// The algorithms offered, most preferred first.
    public static let algorithms: [COSEAlgorithm] = [.es256, .eddsa, .rs256]

    public init(relyingParty: RelyingParty, rpName: String, userHandle: [UInt8], userName: String, userDisplayName: String,
                challenge: [UInt8], excludeCredentials: [CredentialDescriptor], userVerification: UserVerification,
                timeoutMilliseconds: Int) {
        self.relyingParty = relyingParty
        self.rpName = rpName
        self.userHandle = userHandle
        self.userName = userName
        self.userDisplayName = userDisplayName
        self.challenge = challenge
        self.excludeCredentials = excludeCredentials
        self.userVerification = userVerification
        self.timeoutMilliseconds = timeoutMilliseconds
    }

    private enum CodingKeys: String, CodingKey {
        case rp, user, challenge, pubKeyCredParams, timeout, excludeCredentials, authenticatorSelection, attestation
    }

    private struct Entity: Encodable {
        var id: String
        var name: String
        var displayName: String?
    }

    private struct Parameter: Encodable {
        var type = "public-key"
        var alg: Int
    }

    private struct Selection: Encodable {
        var residentKey = "discouraged"
        var requireResidentKey = false
        var userVerification: UserVerification
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(Entity(id: relyingParty.id, name: rpName), forKey: .rp)
        try container.encode(Entity(id: Base64URL.encode(userHandle), name: userName, displayName: userDisplayName), forKey: .user)
        try container.encode(Base64URL.encode(challenge), forKey: .challenge)
        try container.encode(Self.algorithms.map { Parameter(alg: $0.rawValue) }, forKey: .pubKeyCredParams)
        try container.encode(timeoutMilliseconds, forKey: .timeout)
        try container.encode(excludeCredentials, forKey: .excludeCredentials)
        try container.encode(Selection(userVerification: userVerification), forKey: .authenticatorSelection)
        try container.encode("direct", forKey: .attestation)
    }
}
