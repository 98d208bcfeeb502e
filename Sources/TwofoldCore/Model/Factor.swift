import Foundation
import TwofoldOTP

/// The kinds of second factor: codes from an authenticator app (TOTP, HOTP), codes or calls
/// Twofold delivers to a phone number (SMS, voice), prompts on an enrolled device (push), and
/// security keys answering a WebAuthn ceremony in the user's browser.
public enum FactorType: String, Sendable, Codable, CaseIterable {
    case totp
    case hotp
    case sms
    case voice
    case push
    case webauthn

    /// Whether the factor holds a phone number (sealed where the others hold their secret).
    public var isPhone: Bool { self == .sms || self == .voice }

    /// Whether presenting a code can verify it (TOTP and HOTP; SMS and voice codes answer their
    /// challenge). A push factor is answered by its device only.
    public var hasSecretForCodes: Bool { self == .totp || self == .hotp }

    /// The channel its challenges use, for every factor but the authenticator apps'.
    public var challengeType: ChallengeType? {
        switch self {
        case .sms: .sms
        case .voice: .voice
        case .push: .push
        case .webauthn: .webauthn
        case .totp, .hotp: nil
        }
    }
}

/// A factor is `pending` from enrollment until a valid code proves the user's device holds
/// the secret; only `active` factors verify logins.
public enum FactorStatus: String, Sendable, Codable {
    case pending
    case active
}

/// A factor as stored: the public description plus the sealed secret and replay state.
public struct FactorRecord: Sendable, Equatable {
    public var id: FactorID
    public var applicationID: ApplicationID
    public var userID: UserID
    public var type: FactorType
    public var status: FactorStatus
    public var createdAt: Date
    public var activatedAt: Date?
    /// When a pending enrollment lapses; `nil` once active.
    public var expiresAt: Date?
    /// The account name the authenticator app shows.
    public var label: String
    public var issuer: String?
    public var algorithm: OTPAlgorithm
    public var digits: Int
    /// The TOTP period in seconds; 0 for HOTP.
    public var period: Int
    /// The secret, sealed under the user's data key with this record's identity as associated data.
    public var sealedSecret: [UInt8]
    /// The last accepted TOTP step or HOTP counter. It and everything before it are refused.
    public var lastAcceptedStep: UInt64?
    /// TOTP: how many steps the device's clock was off at the last accepted code.
    public var drift: Int

    public init(
        id: FactorID, applicationID: ApplicationID, userID: UserID, type: FactorType, status: FactorStatus,
        createdAt: Date, activatedAt: Date? = nil, expiresAt: Date? = nil, label: String, issuer: String?,
        algorithm: OTPAlgorithm, digits: Int, period: Int, sealedSecret: [UInt8],
        lastAcceptedStep: UInt64? = nil, drift: Int = 0
    ) {
        self.id = id
        self.applicationID = applicationID
        self.userID = userID
        self.type = type
        self.status = status
        self.createdAt = createdAt
        self.activatedAt = activatedAt
        self.expiresAt = expiresAt
        self.label = label
        self.issuer = issuer
        self.algorithm = algorithm
        self.digits = digits
        self.period = period
        self.sealedSecret = sealedSecret
        self.lastAcceptedStep = lastAcceptedStep
        self.drift = drift
    }

    /// The description safe to show: everything but the secret.
    public var summary: Factor {
        Factor(id: id, type: type, status: status, createdAt: createdAt, activatedAt: activatedAt,
               expiresAt: expiresAt, label: label, issuer: issuer, algorithm: algorithm, digits: digits,
               period: type == .totp ? period : nil, phone: type.isPhone ? label : nil)
    }
}

/// A factor as shown to callers. It never carries the secret.
public struct Factor: Sendable, Equatable, Codable {
    public let id: FactorID
    public let type: FactorType
    public let status: FactorStatus
    public let createdAt: Date
    public let activatedAt: Date?
    public let expiresAt: Date?
    public let label: String
    public let issuer: String?
    public let algorithm: OTPAlgorithm
    public let digits: Int
    public let period: Int?
    /// Phone factors: the number, masked (`+1•••••4567`) everywhere but the user's own export.
    public var phone: String?
    /// Push factors: the device that answers it.
    public var deviceID: DeviceID?
    /// Push factors: when its device last answered a challenge; security keys: when the key
    /// last signed in.
    public var lastUsedAt: Date?
    /// Security keys: what identifies the registered key (never its public key).
    public var securityKey: SecurityKeyDescription?

    init(id: FactorID, type: FactorType, status: FactorStatus, createdAt: Date, activatedAt: Date?, expiresAt: Date?, label: String,
         issuer: String?, algorithm: OTPAlgorithm, digits: Int, period: Int?, phone: String?, deviceID: DeviceID? = nil,
         lastUsedAt: Date? = nil) {
        self.id = id
        self.type = type
        self.status = status
        self.createdAt = createdAt
        self.activatedAt = activatedAt
        self.expiresAt = expiresAt
        self.label = label
        self.issuer = issuer
        self.algorithm = algorithm
        self.digits = digits
        self.period = period
        self.phone = phone
        self.deviceID = deviceID
        self.lastUsedAt = lastUsedAt
    }

    /// The same factor showing `phone` (the user's export).
    func showingPhone(_ phone: String) -> Factor {
        var shown = self
        shown.phone = phone
        return shown
    }

    /// The same factor with its security key's description and last use.
    func showingSecurityKey(_ key: SecurityKeyRecord?) -> Factor {
        var shown = self
        shown.securityKey = key.map(SecurityKeyDescription.init)
        shown.lastUsedAt = key?.lastUsedAt
        return shown
    }

    /// The same factor with its push device's id and last use.
    func showingDevice(_ device: PushDeviceRecord?) -> Factor {
        var shown = self
        shown.deviceID = device?.id
        shown.lastUsedAt = device?.lastUsedAt
        return shown
    }
}

extension OTPAlgorithm: Codable {}

/// A registered security key as listings show it.
public struct SecurityKeyDescription: Sendable, Equatable, Codable {
    /// The authenticator model (AAGUID) as a UUID; all zeros when the key does not say.
    public let aaguid: String
    public let transports: [String]
    public let attestationFormat: String
    /// When a use came with a counter that did not move forward: the key may be cloned and is
    /// refused until enrolled again.
    public let flaggedAt: Date?

    init(_ key: SecurityKeyRecord) {
        aaguid = SecurityKeyService.uuid(key.aaguid)
        transports = key.transports
        attestationFormat = key.attestationFormat
        flaggedAt = key.flaggedAt
    }
}

/// A factor just enrolled: the only moment its secret leaves the service.
public struct Enrollment: Sendable {
    public let factor: Factor
    public let secret: OTPSecret
    public let uri: OTPAuthURI
}
