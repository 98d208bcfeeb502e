import Foundation

/// What happened, in a stable dotted name.
public struct AuditAction: RawRepresentable, Hashable, Sendable, Codable, CustomStringConvertible {
    public let rawValue: String
    public init(rawValue: String) { self.rawValue = rawValue }
    public var description: String { rawValue }

    public static let applicationCreated = AuditAction(rawValue: "application.created")
    public static let applicationUpdated = AuditAction(rawValue: "application.updated")
    public static let factorEnrolled = AuditAction(rawValue: "factor.enrolled")
    public static let factorActivated = AuditAction(rawValue: "factor.activated")
    public static let factorDeleted = AuditAction(rawValue: "factor.deleted")
    public static let factorResynchronized = AuditAction(rawValue: "factor.resynchronized")
    public static let verification = AuditAction(rawValue: "verification")
    public static let recoveryCodesGenerated = AuditAction(rawValue: "recovery_codes.generated")
    public static let userReset = AuditAction(rawValue: "user.reset")
    public static let userUnlocked = AuditAction(rawValue: "user.unlocked")
    public static let userExported = AuditAction(rawValue: "user.exported")
    public static let userErased = AuditAction(rawValue: "user.erased")
    public static let keysRotated = AuditAction(rawValue: "keys.rotated")
    public static let auditPurged = AuditAction(rawValue: "audit.purged")
    public static let apiKeyCreated = AuditAction(rawValue: "api_key.created")
    public static let apiKeyRevoked = AuditAction(rawValue: "api_key.revoked")
    public static let challengeCreated = AuditAction(rawValue: "challenge.created")
    public static let challengeRefused = AuditAction(rawValue: "challenge.refused")
    public static let challengeSent = AuditAction(rawValue: "challenge.sent")
    public static let challengeDelivery = AuditAction(rawValue: "challenge.delivery")
    public static let challengeAnswered = AuditAction(rawValue: "challenge.answered")
    public static let challengeFinished = AuditAction(rawValue: "challenge.finished")
    /// A security key's credential, checked, registered to its pending factor.
    public static let securityKeyRegistered = AuditAction(rawValue: "security_key.registered")
    public static let hardwareTokensImported = AuditAction(rawValue: "hardware_tokens.imported")
    public static let hardwareTokenAssigned = AuditAction(rawValue: "hardware_token.assigned")
    public static let hardwareTokenUnassigned = AuditAction(rawValue: "hardware_token.unassigned")
    public static let hardwareTokenDeleted = AuditAction(rawValue: "hardware_token.deleted")
}

/// An event to record. Never holds a code or a secret.
public struct AuditDraft: Sendable, Equatable {
    public var time: Date
    public var applicationID: ApplicationID?
    public var userID: UserID?
    /// Who acted: `api:<key id>`, `cli:<os user>`, `system`.
    public var actor: String
    public var action: AuditAction
    /// `success`, `failure`, `allow` or `deny`.
    public var outcome: String
    public var reason: String?
    public var factorID: FactorID?
    public var details: [String: String]
    /// False for an erasure's own event: it keeps only the pseudonym.
    public var keepsUserID: Bool

    public init(
        time: Date, applicationID: ApplicationID?, userID: UserID?, actor: String, action: AuditAction,
        outcome: String, reason: String? = nil, factorID: FactorID? = nil, details: [String: String] = [:],
        keepsUserID: Bool = true
    ) {
        self.time = time
        self.applicationID = applicationID
        self.userID = userID
        self.actor = actor
        self.action = action
        self.outcome = outcome
        self.reason = reason
        self.factorID = factorID
        self.details = details
        self.keepsUserID = keepsUserID
    }
}

/// A recorded event, with its place in its shard's chain.
public struct AuditEvent: Sendable, Equatable {
    /// Store-wide insertion order, for paging.
    public var id: Int64
    public var shard: Int
    public var sequence: Int64
    /// Milliseconds since the Unix epoch (what the MAC covers).
    public var timeMilliseconds: Int64
    public var applicationID: String?
    /// The user's id, until the user is erased.
    public var userID: String?
    /// A keyed pseudonym of (application, user), which outlives erasure.
    public var userReference: String?
    public var actor: String
    public var action: String
    public var outcome: String
    public var reason: String?
    public var factorID: String?
    /// Sorted-key JSON object of extra fields.
    public var details: String
    public var previousMAC: [UInt8]
    public var mac: [UInt8]

    public init(
        id: Int64, shard: Int, sequence: Int64, timeMilliseconds: Int64, applicationID: String?, userID: String?,
        userReference: String?, actor: String, action: String, outcome: String, reason: String?, factorID: String?,
        details: String, previousMAC: [UInt8], mac: [UInt8]
    ) {
        self.id = id
        self.shard = shard
        self.sequence = sequence
        self.timeMilliseconds = timeMilliseconds
        self.applicationID = applicationID
        self.userID = userID
        self.userReference = userReference
        self.actor = actor
        self.action = action
        self.outcome = outcome
        self.reason = reason
        self.factorID = factorID
        self.details = details
        self.previousMAC = previousMAC
        self.mac = mac
    }

    public var time: Date { Date(timeIntervalSince1970: Double(timeMilliseconds) / 1000) }
}

/// The state of one shard's chain: its newest event, and where it starts after purges.
public struct AuditShardHead: Sendable, Equatable {
    public var shard: Int
    public var headSequence: Int64
    public var headMAC: [UInt8]
    /// The first sequence still stored (1 until a purge).
    public var firstSequence: Int64
    /// The MAC the first stored event must chain from.
    public var firstPreviousMAC: [UInt8]
    /// A MAC over all of the above, so the row cannot be rolled back or re-anchored without the key.
    public var tag: [UInt8]

    public init(shard: Int, headSequence: Int64, headMAC: [UInt8], firstSequence: Int64, firstPreviousMAC: [UInt8], tag: [UInt8]) {
        self.shard = shard
        self.headSequence = headSequence
        self.headMAC = headMAC
        self.firstSequence = firstSequence
        self.firstPreviousMAC = firstPreviousMAC
        self.tag = tag
    }
}

/// Which events to list, newest first.
public struct AuditQuery: Sendable, Equatable {
    public var applicationID: ApplicationID?
    public var userID: UserID?
    public var since: Date?
    /// Return events with `id` below this (the previous page's last id).
    public var beforeID: Int64?
    public var limit: Int

    public init(applicationID: ApplicationID? = nil, userID: UserID? = nil, since: Date? = nil, beforeID: Int64? = nil, limit: Int = 100) {
        self.applicationID = applicationID
        self.userID = userID
        self.since = since
        self.beforeID = beforeID
        self.limit = limit
    }
}
