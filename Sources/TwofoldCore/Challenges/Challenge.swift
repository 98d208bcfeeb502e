import Foundation

/// A challenge: `chl_…`.
public struct ChallengeID: PrefixedIdentifier {
    public static let prefix = "chl_"
    public let rawValue: String
    public init(uncheckedRawValue: String) { rawValue = uncheckedRawValue }
}

/// The channels a challenge is delivered through.
public enum ChallengeType: String, Sendable, Codable, CaseIterable {
    case sms
    case voice
    /// A prompt on an enrolled device, answered with a signed approval or denial.
    case push
    /// A WebAuthn ceremony: the browser asks a security key to sign the challenge.
    case webauthn

    /// The factor type a challenge of this type is sent to.
    public var factorType: FactorType {
        switch self {
        case .sms: .sms
        case .voice: .voice
        case .push: .push
        case .webauthn: .webauthn
        }
    }

    /// Whether it goes to a phone number through an SMS or voice provider.
    public var isPhone: Bool { self == .sms || self == .voice }
}

/// How the user answers: by typing the code they were sent, or by approving (a key pressed on
/// a call, a push answered on a device).
public enum ChallengeMode: String, Sendable, Codable, CaseIterable {
    case code
    case approve
}

/// What a challenge is for: a login, or confirming the number of a pending factor.
public enum ChallengePurpose: String, Sendable, Codable {
    case login
    case enrollment
}

/// Where a challenge stands. Only `pending` moves; the others are final.
public enum ChallengeStatus: String, Sendable, Codable, CaseIterable {
    case pending
    case approved
    case denied
    case expired
    case failed
    case canceled

    public var isFinal: Bool { self != .pending }
}

/// Why a challenge ended as it did, when that is not plain (`denied`, `failed`, `canceled`).
public struct ChallengeReason: RawRepresentable, Hashable, Sendable, Codable, CustomStringConvertible {
    public let rawValue: String
    public init(rawValue: String) { self.rawValue = rawValue }
    public var description: String { rawValue }

    /// Five wrong codes were presented for it.
    public static let tooManyAttempts = ChallengeReason(rawValue: "too_many_attempts")
    /// The user pressed the key that reports a call they did not start.
    public static let fraud = ChallengeReason(rawValue: "fraud")
    /// The user pressed a key that is neither approve nor deny, or hung up without pressing one.
    public static let noAnswer = ChallengeReason(rawValue: "no_answer")
    /// Every provider refused or failed.
    public static let invalidNumber = ChallengeReason(rawValue: "invalid_number")
    public static let unreachable = ChallengeReason(rawValue: "unreachable")
    public static let blocked = ChallengeReason(rawValue: "blocked")
    public static let rateLimited = ChallengeReason(rawValue: "rate_limited")
    public static let providerError = ChallengeReason(rawValue: "provider_error")
    public static let busy = ChallengeReason(rawValue: "busy")
    public static let hungUp = ChallengeReason(rawValue: "hung_up")
    /// The factor it was sent for was deleted.
    public static let factorDeleted = ChallengeReason(rawValue: "factor_deleted")
    /// A newer push to the same device replaced it.
    public static let superseded = ChallengeReason(rawValue: "superseded")
    /// The device approved with a number other than the one the login page showed.
    public static let wrongNumber = ChallengeReason(rawValue: "wrong_number")
    /// The user declined the push.
    public static let declined = ChallengeReason(rawValue: "declined")
}

/// What the login page knows of the attempt, shown to the user (the call reads it) and audited.
public struct ChallengeContext: Sendable, Equatable, Codable {
    public var ip: String?
    public var userAgent: String?
    public var location: String?
    public var appName: String?

    public init(ip: String? = nil, userAgent: String? = nil, location: String? = nil, appName: String? = nil) {
        self.ip = ip
        self.userAgent = userAgent
        self.location = location
        self.appName = appName
    }

    enum CodingKeys: String, CodingKey {
        case ip
        case userAgent = "user_agent"
        case location
        case appName = "app_name"
    }

    /// Each field at most 256 bytes, without control characters: it is read out on calls and shown in logs.
    public func validate() throws(TwofoldError) {
        for (name, value) in [("ip", ip), ("user_agent", userAgent), ("location", location), ("app_name", appName)] {
            guard let value else { continue }
            guard value.utf8.count <= 256 else {
                throw TwofoldError(.invalidRequest, "context.\(name) is longer than 256 bytes")
            }
            guard !value.unicodeScalars.contains(where: { $0.properties.generalCategory == .control }) else {
                throw TwofoldError(.invalidRequest, "context.\(name) contains a control character")
            }
        }
    }
}

/// How delivery of a challenge went, as far as Twofold knows.
public struct ChallengeDelivery: Sendable, Equatable, Codable {
    /// The provider now responsible for it (the last one tried).
    public var provider: String
    /// `queued`, `sent`, `delivered`, `answered`, `failed`, … as the provider reported it.
    public var status: String
    /// The provider's id for the message or call, to match its callbacks.
    public var providerReference: String?
    /// Which provider of the channel's chain this is (0 for the first).
    public var attempt: Int

    public init(provider: String, status: String, providerReference: String? = nil, attempt: Int) {
        self.provider = provider
        self.status = status
        self.providerReference = providerReference
        self.attempt = attempt
    }
}

/// A challenge as stored.
public struct ChallengeRecord: Sendable, Equatable {
    public var id: ChallengeID
    public var applicationID: ApplicationID
    public var userID: UserID
    public var factorID: FactorID
    public var type: ChallengeType
    public var mode: ChallengeMode
    public var purpose: ChallengePurpose
    /// As stored: a `pending` challenge past `expiresAt` shows as `expired` (``status(at:)``).
    public var status: ChallengeStatus
    public var reason: ChallengeReason?
    public var createdAt: Date
    public var expiresAt: Date
    public var finishedAt: Date?
    /// The keyed hash of the code (code mode); never the code.
    public var codeHash: [UInt8]?
    /// Wrong codes presented so far.
    public var failedAttempts: Int
    public var maxAttempts: Int
    public var context: ChallengeContext
    public var delivery: ChallengeDelivery?

    public init(id: ChallengeID, applicationID: ApplicationID, userID: UserID, factorID: FactorID, type: ChallengeType,
                mode: ChallengeMode, purpose: ChallengePurpose, status: ChallengeStatus = .pending, reason: ChallengeReason? = nil,
                createdAt: Date, expiresAt: Date, finishedAt: Date? = nil, codeHash: [UInt8]?, failedAttempts: Int = 0,
                maxAttempts: Int, context: ChallengeContext = ChallengeContext(), delivery: ChallengeDelivery? = nil) {
        self.id = id
        self.applicationID = applicationID
        self.userID = userID
        self.factorID = factorID
        self.type = type
        self.mode = mode
        self.purpose = purpose
        self.status = status
        self.reason = reason
        self.createdAt = createdAt
        self.expiresAt = expiresAt
        self.finishedAt = finishedAt
        self.codeHash = codeHash
        self.failedAttempts = failedAttempts
        self.maxAttempts = maxAttempts
        self.context = context
        self.delivery = delivery
    }

    /// The status a caller sees at `now`: a pending challenge past its expiry is `expired`.
    public func status(at now: Date) -> ChallengeStatus {
        status == .pending && now >= expiresAt ? .expired : status
    }

    /// Whether a code presented at `now` may still match it.
    public func acceptsCodes(at now: Date) -> Bool {
        status == .pending && now < expiresAt && mode == .code && codeHash != nil
    }
}
