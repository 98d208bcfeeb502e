import Foundation

/// A challenge as the API answers it and `twofold challenges … --json` prints it: never its
/// code, its hash or the full number. Absent values are `null`.
public struct ChallengeJSON: Encodable, Sendable {
    public let challenge: Challenge

    public init(_ challenge: Challenge) {
        self.challenge = challenge
    }

    enum CodingKeys: String, CodingKey {
        case type, mode, purpose, status, reason, delivery, context
        case challengeID = "challenge_id"
        case factorID = "factor_id"
        case userID = "user_id"
        case createdAt = "created_at"
        case expiresAt = "expires_at"
        case finishedAt = "finished_at"
        case failedAttempts = "failed_attempts"
    }

    enum DeliveryKeys: String, CodingKey {
        case provider, status
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(challenge.id.rawValue, forKey: .challengeID)
        try container.encode(challenge.type.rawValue, forKey: .type)
        try container.encode(challenge.mode.rawValue, forKey: .mode)
        try container.encode(challenge.purpose.rawValue, forKey: .purpose)
        try container.encode(challenge.status.rawValue, forKey: .status)
        try container.encodeNullable(challenge.reason?.rawValue, forKey: .reason)
        try container.encode(challenge.factorID.rawValue, forKey: .factorID)
        try container.encode(challenge.userID.rawValue, forKey: .userID)
        try container.encode(challenge.createdAt, forKey: .createdAt)
        try container.encode(challenge.expiresAt, forKey: .expiresAt)
        try container.encodeNullable(challenge.finishedAt, forKey: .finishedAt)
        try container.encode(challenge.failedAttempts, forKey: .failedAttempts)
        if let delivery = challenge.delivery {
            var nested = container.nestedContainer(keyedBy: DeliveryKeys.self, forKey: .delivery)
            try nested.encode(delivery.provider, forKey: .provider)
            try nested.encode(delivery.status, forKey: .status)
        } else {
            try container.encodeNil(forKey: .delivery)
        }
        try container.encode(challenge.context, forKey: .context)
    }
}

/// `{"challenges": […]}`.
public struct ChallengeListJSON: Encodable, Sendable {
    public let challenges: [ChallengeJSON]

    public init(_ challenges: [Challenge]) {
        self.challenges = challenges.map(ChallengeJSON.init)
    }
}
