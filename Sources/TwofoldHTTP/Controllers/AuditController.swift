import Foundation
import Hummingbird
import TwofoldCore

/// `GET /v1/audit?user_id=&since=&limit=&before=` (scope `admin`): the application's audit
/// events, newest first, a page at a time.
struct AuditController<Context: CallerRequestContext>: Sendable {
    let auditService: AuditService

    static var defaultLimit: Int { 100 }
    static var maximumLimit: Int { 500 }

    var endpoints: RouteCollection<Context> {
        let routes = RouteCollection(context: Context.self)
        routes.add(middleware: RequireScopeMiddleware(scope: .admin))
        routes.get("", use: list)
        return routes
    }

    struct EventBody: Encodable {
        let event: AuditEvent

        enum CodingKeys: String, CodingKey {
            case id, time, action, outcome, reason, actor, details
            case userID = "user_id"
            case factorID = "factor_id"
        }

        func encode(to encoder: any Encoder) throws {
            var container = encoder.container(keyedBy: CodingKeys.self)
            try container.encode(event.id, forKey: .id)
            try container.encode(event.time, forKey: .time)
            try container.encode(event.action, forKey: .action)
            try container.encode(event.outcome, forKey: .outcome)
            try container.encodeNullable(event.reason, forKey: .reason)
            try container.encode(event.actor, forKey: .actor)
            try container.encodeNullable(event.userID, forKey: .userID)
            try container.encodeNullable(event.factorID, forKey: .factorID)
            let details = (try? JSONDecoder().decode([String: String].self, from: Data(event.details.utf8))) ?? [:]
            try container.encode(details, forKey: .details)
        }
    }

    struct PageBody: Encodable {
        let events: [EventBody]
        /// The `before` value of the next page, or `null` on the last page.
        let next: String?

        enum CodingKeys: String, CodingKey { case events, next }

        func encode(to encoder: any Encoder) throws {
            var container = encoder.container(keyedBy: CodingKeys.self)
            try container.encode(events, forKey: .events)
            try container.encodeNullable(next, forKey: .next)
        }
    }

    @Sendable func list(_ request: Request, context: Context) async throws -> Response {
        let query = request.uri.queryParameters
        var audit = AuditQuery(applicationID: context.caller.applicationID, limit: Self.defaultLimit)
        if let text = query.get("user_id") {
            do {
                audit.userID = try UserID(text)
            } catch {
                throw APIError.invalidRequest("query parameter \(error.message)")
            }
        }
        if let text = query.get("since") {
            guard let since = RFC3339.parse(text) else {
                throw APIError.invalidRequest("query parameter `since` must be an RFC 3339 time, such as 2024-05-01T00:00:00Z")
            }
            audit.since = since
        }
        if let text = query.get("limit") {
            guard let limit = Int(text), (1...Self.maximumLimit).contains(limit) else {
                throw APIError.invalidRequest("query parameter `limit` must be a whole number from 1 to \(Self.maximumLimit)")
            }
            audit.limit = limit
        }
        if let text = query.get("before") {
            guard let before = Int64(text), before > 0 else {
                throw APIError.invalidRequest("query parameter `before` must be the `next` value of a previous page")
            }
            audit.beforeID = before
        }
        let events = try await auditService.auditEvents(audit)
        let next = events.count == audit.limit ? events.last.map { String($0.id) } : nil
        return JSONResponse.make(PageBody(events: events.map(EventBody.init), next: next))
    }
}
