/// A registration that passed every check: what to store for the credential.
public struct VerifiedRegistration: Sendable, Equatable {
    public var credentialID: [UInt8]
    /// The COSE_Key bytes exactly as in the authenticator data; pass them back to
    /// ``WebAuthn/verifyAssertion(_:challenge:relyingParty:publicKey:storedSignCount:requireUserVerification:)``.
    public var publicKey: [UInt8]
    public var algorithm: COSEAlgorithm
    /// The counter to store, for the clone check at each assertion.
    public var signCount: UInt32
    /// The authenticator model (16 bytes; zeros when it does not say).
    public var aaguid: [UInt8]
    /// "none", "packed" or "fido-u2f".
    public var attestationFormat: String
    public var attestationType: AttestationType
    /// `response.transports`, only the values WebAuthn defines, each once, in the browser's order.
    public var transports: [String]
    public var userVerified: Bool
    /// The credential may be synced to other devices (a passkey), so it is not bound to one key.
    public var backupEligible: Bool
    public var backedUp: Bool

    public init(credentialID: [UInt8], publicKey: [UInt8], algorithm: COSEAlgorithm, signCount: UInt32, aaguid: [UInt8],
                attestationFormat: String, attestationType: AttestationType, transports: [String], userVerified: Bool,
                backupEligible: Bool, backedUp: Bool) {
        self.credentialID = credentialID
        self.publicKey = publicKey
        self.algorithm = algorithm
        self.signCount = signCount
        self.aaguid = aaguid
        self.attestationFormat = attestationFormat
        self.attestationType = attestationType
        self.transports = transports
        self.userVerified = userVerified
        self.backupEligible = backupEligible
        self.backedUp = backedUp
    }
}
