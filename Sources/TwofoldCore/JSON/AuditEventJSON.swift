import Foundation

/// An audit event as `GET /v1/audit` answers it and `twofold audit tail --json` prints it.
/// Every field is present, `null` when it does not apply; the chain's own fields (shard,
/// sequence, MACs) stay out, as `twofold audit verify` is what checks them.
public struct AuditEventJSON: Encodable, Sendable {
    public let event: AuditEvent
    /// The id shown (``AuditEventIDs``), never the store's sequential one.
    public let id: String
    /// The event's details as an object, read once from the stored text.
    public let details: Details

    /// What the stored details hold.
    public enum Details: Sendable, Equatable {
        /// A JSON object of strings: what Twofold writes.
        case object([String: String])
        /// Text that is not such an object. Only an edit outside Twofold leaves one (which
        /// `twofold audit verify` reports); the text is shown as it is, rather than hidden.
        case unreadable(String)
    }

    public init(_ event: AuditEvent, ids: AuditEventIDs) {
        self.event = event
        id = ids.token(event.id)
        details = Self.details(event.details)
    }

    static func details(_ text: String) -> Details {
        do {
            return .object(try JSONDecoder().decode([String: String].self, from: Data(text.utf8)))
        } catch {
            return .unreadable(text)
        }
    }

    enum CodingKeys: String, CodingKey {
        case id, time, action, outcome, reason, actor, details
        case applicationID = "application_id"
        case userID = "user_id"
        case userReference = "user_ref"
        case factorID = "factor_id"
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(id, forKey: .id)
        try container.encode(event.time, forKey: .time)
        try container.encodeNullable(event.applicationID, forKey: .applicationID)
        try container.encodeNullable(event.userID, forKey: .userID)
        try container.encodeNullable(event.userReference, forKey: .userReference)
        try container.encode(event.actor, forKey: .actor)
        try container.encode(event.action, forKey: .action)
        try container.encode(event.outcome, forKey: .outcome)
        try container.encodeNullable(event.reason, forKey: .reason)
        try container.encodeNullable(event.factorID, forKey: .factorID)
        switch details {
        case .object(let fields): try container.encode(fields, forKey: .details)
        case .unreadable(let text): try container.encode(text, forKey: .details)
        }
    }
}
