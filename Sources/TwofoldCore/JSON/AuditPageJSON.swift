/// `{"events": [...], "next": "…"}`: a page of audit events, newest first, as `GET /v1/audit`
/// answers it and `twofold audit tail --json` prints it.
public struct AuditPageJSON: Encodable, Sendable {
    public let events: [AuditEventJSON]
    /// The `before` value of the next page (the id of this page's oldest event), or `nil` on the
    /// last page.
    public let next: String?

    /// - Parameters:
    ///   - events: The page, newest first, as ``AuditService/auditEvents(_:)`` returns it.
    ///   - limit: The page size asked for: a full page may have a next one.
    public init(_ events: [AuditEvent], limit: Int, ids: AuditEventIDs) {
        self.events = events.map { AuditEventJSON($0, ids: ids) }
        next = events.count == limit ? events.last.map { ids.token($0.id) } : nil
    }

    enum CodingKeys: String, CodingKey { case events, next }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(events, forKey: .events)
        try container.encodeNullable(next, forKey: .next)
    }
}
