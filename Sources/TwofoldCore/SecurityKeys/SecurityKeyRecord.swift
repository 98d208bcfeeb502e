import Foundation

/// A security key as stored: the registered WebAuthn credential of one `webauthn` factor.
///
/// What identifies the key is kept in clear (the browser is sent the credential id, and the
/// listing shows the model and transports); the public key that verifies its signatures is
/// sealed in the factor's secret, bound to the factor, so that a write to the database cannot
/// swap in a key of the writer's own.
public struct SecurityKeyRecord: Sendable, Equatable {
    public var factorID: FactorID
    public var applicationID: ApplicationID
    public var userID: UserID
    /// The credential id the authenticator chose; unique within an application.
    public var credentialID: [UInt8]
    /// The authenticator model's AAGUID (16 bytes; all zero when the key does not say).
    public var aaguid: [UInt8]
    /// How the browser can reach it (`usb`, `nfc`, `ble`, `internal`, `hybrid`), as it reported.
    public var transports: [String]
    /// The attestation statement format it registered with (`none`, `packed`, `fido-u2f`).
    public var attestationFormat: String
    /// The signature counter of its last accepted use (0 for keys that keep none).
    public var signCount: UInt32
    public var createdAt: Date
    public var lastUsedAt: Date?
    /// When an assertion came with a counter that did not move forward: the key may have been
    /// cloned. A flagged key is refused until it is deleted and enrolled again.
    public var flaggedAt: Date?

    public init(factorID: FactorID, applicationID: ApplicationID, userID: UserID, credentialID: [UInt8], aaguid: [UInt8],
                transports: [String], attestationFormat: String, signCount: UInt32, createdAt: Date, lastUsedAt: Date? = nil,
                flaggedAt: Date? = nil) {
        self.factorID = factorID
        self.applicationID = applicationID
        self.userID = userID
        self.credentialID = credentialID
        self.aaguid = aaguid
        self.transports = transports
        self.attestationFormat = attestationFormat
        self.signCount = signCount
        self.createdAt = createdAt
        self.lastUsedAt = lastUsedAt
        self.flaggedAt = flaggedAt
    }
}
