import Foundation

/// An API key as `twofold apikey list --json` and `apikey create --json` print it: `scopes` an
/// array of names, sorted; `revoked_at` `null` while the key works. Never the key's hash; the key
/// itself (`key`) only in the answer that created it, the one time it is shown.
public struct APIKeyJSON: Encodable, Sendable {
    public let record: APIKeyRecord
    /// The name of the key's application.
    public let application: String
    public let token: String?

    /// - Parameters:
    ///   - application: The name of the key's application.
    ///   - token: The key itself, only when it was just created.
    public init(_ record: APIKeyRecord, application: String, token: String? = nil) {
        self.record = record
        self.application = application
        self.token = token
    }

    enum CodingKeys: String, CodingKey {
        case id, application, scopes
        case createdAt = "created_at"
        case revokedAt = "revoked_at"
        case token = "key"
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(record.id, forKey: .id)
        try container.encode(application, forKey: .application)
        try container.encode(record.scopes.sorted().map(\.rawValue), forKey: .scopes)
        try container.encode(record.createdAt, forKey: .createdAt)
        try container.encodeNullable(record.revokedAt, forKey: .revokedAt)
        try container.encodeIfPresent(token, forKey: .token)
    }
}
