import Foundation

/// A push device as stored: one per push factor. It waits for activation (holding the keyed
/// hash of its one-time token) until the device scans the QR code and hands over its public key
/// and transport; from then on that key signs every request it makes.
public struct PushDeviceRecord: Sendable, Equatable {
    public var id: DeviceID
    public var applicationID: ApplicationID
    public var userID: UserID
    public var factorID: FactorID
    /// The keyed hash of the activation token while the device waits; `nil` once activated.
    public var activationHash: [UInt8]?
    /// When the activation token lapses.
    public var activationExpiresAt: Date?
    /// The device's P-256 public key (SPKI DER), once activated.
    public var publicKey: [UInt8]?
    /// How the device is woken, sealed under the user's data key: an endpoint or push token
    /// identifies a person's phone as well as a number does.
    public var sealedTransport: [UInt8]?
    /// The transport's kind, in clear: it chooses the provider without opening anything.
    public var transportKind: PushTransportKind?
    public var createdAt: Date
    public var activatedAt: Date?
    public var lastUsedAt: Date?
    /// After a fraud report, push challenges for this device are refused until then.
    public var suspendedUntil: Date?

    public init(id: DeviceID, applicationID: ApplicationID, userID: UserID, factorID: FactorID, activationHash: [UInt8]?,
                activationExpiresAt: Date?, publicKey: [UInt8]? = nil, sealedTransport: [UInt8]? = nil,
                transportKind: PushTransportKind? = nil, createdAt: Date, activatedAt: Date? = nil, lastUsedAt: Date? = nil,
                suspendedUntil: Date? = nil) {
        self.id = id
        self.applicationID = applicationID
        self.userID = userID
        self.factorID = factorID
        self.activationHash = activationHash
        self.activationExpiresAt = activationExpiresAt
        self.publicKey = publicKey
        self.sealedTransport = sealedTransport
        self.transportKind = transportKind
        self.createdAt = createdAt
        self.activatedAt = activatedAt
        self.lastUsedAt = lastUsedAt
        self.suspendedUntil = suspendedUntil
    }

    public var isActivated: Bool { publicKey != nil }
}
