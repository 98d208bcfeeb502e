import Foundation
import Hummingbird
import TwofoldCore

/// `GET /v1/audit?user_id=&since=&limit=&before=` (scope `admin`): the application's audit
/// events, newest first, a page at a time, in the shape `twofold audit tail --json` prints
/// (``AuditPageJSON``).
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
            guard let before = auditService.ids.id(text) else {
                throw APIError.invalidRequest("query parameter `before` must be the `next` value of a previous page")
            }
            audit.beforeID = before
        }
        return JSONResponse.make(AuditPageJSON(try await auditService.auditEvents(audit), limit: audit.limit, ids: auditService.ids))
    }
}
