import Foundation

/// A ``UserExport`` as `GET /v1/users/{user_id}/export` answers it and `twofold users export`
/// writes it: everything held about the user, no secret, no code, no hash.
public struct UserExportJSON: Encodable, Sendable {
    public let export: UserExport

    public init(_ export: UserExport) {
        self.export = export
    }

    enum CodingKeys: String, CodingKey {
        case application, factors, throttle, challenges
        case userID = "user_id"
        case exportedAt = "exported_at"
        case recoveryCodes = "recovery_codes"
        case hardwareTokens = "hardware_tokens"
        case auditEvents = "audit_events"
    }

    /// The user's events, newest first, without the chain's fields: what happened, when, by whom.
    enum EventKeys: String, CodingKey {
        case time, action, outcome, reason, actor
        case factorID = "factor_id"
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(export.application, forKey: .application)
        try container.encode(export.userID, forKey: .userID)
        try container.encode(export.exportedAt, forKey: .exportedAt)
        try container.encode(export.factors.map(FactorJSON.init), forKey: .factors)
        try container.encode(export.hardwareTokens, forKey: .hardwareTokens)
        try container.encode(RecoveryCodeSummaryJSON(export.recoveryCodes), forKey: .recoveryCodes)
        try container.encode(ThrottleJSON(export.throttle), forKey: .throttle)
        try container.encode(export.challenges.map(ChallengeJSON.init), forKey: .challenges)
        var events = container.nestedUnkeyedContainer(forKey: .auditEvents)
        for event in export.auditEvents {
            var item = events.nestedContainer(keyedBy: EventKeys.self)
            try item.encode(event.time, forKey: .time)
            try item.encode(event.action, forKey: .action)
            try item.encode(event.outcome, forKey: .outcome)
            try item.encodeNullable(event.reason, forKey: .reason)
            try item.encode(event.actor, forKey: .actor)
            try item.encodeNullable(event.factorID, forKey: .factorID)
        }
    }
}
