import Foundation
import Hummingbird
import TwofoldCore

/// Support and data-protection operations on one user (scope `admin`), mounted at
/// `/v1/users/{user_id}`: reset, unlock, export, erase.
struct UserAdministrationController<Context: CallerRequestContext>: Sendable {
    let administration: AdministrationService
    let applications: ApplicationService

    var endpoints: RouteCollection<Context> {
        let routes = RouteCollection(context: Context.self)
        routes.add(middleware: RequireScopeMiddleware(scope: .admin))
        routes.post("reset", use: reset)
        routes.post("unlock", use: unlock)
        routes.get("export", use: export)
        routes.delete("", use: erase)
        return routes
    }

    /// `POST /v1/users/{user_id}/reset`: deletes every factor and recovery code (a lost phone).
    @Sendable func reset(_ request: Request, context: Context) async throws -> Response {
        let userID = try PathParameters.userID(context)
        try await administration.reset(context.caller.applicationID, userID, actor: context.caller.actor)
        return Response(status: .noContent)
    }

    /// `POST /v1/users/{user_id}/unlock`: clears failures and any lock.
    @Sendable func unlock(_ request: Request, context: Context) async throws -> Response {
        let userID = try PathParameters.userID(context)
        try await administration.unlock(context.caller.applicationID, userID, actor: context.caller.actor)
        return Response(status: .noContent)
    }

    /// `GET /v1/users/{user_id}/export`: everything held about the user, no secrets; 404 when nothing is.
    @Sendable func export(_ request: Request, context: Context) async throws -> Response {
        let userID = try PathParameters.userID(context)
        guard let application = try await applications.applications().first(where: { $0.id == context.caller.applicationID }) else {
            throw APIError.notFound("the API key's application no longer exists")
        }
        guard let export = try await administration.export(application, userID, actor: context.caller.actor) else {
            throw APIError.notFound("nothing is stored about this user")
        }
        return JSONResponse.make(ExportBody(export))
    }

    /// `DELETE /v1/users/{user_id}`: erases the user (204 even when nothing was stored).
    @Sendable func erase(_ request: Request, context: Context) async throws -> Response {
        let userID = try PathParameters.userID(context)
        try await administration.erase(context.caller.applicationID, userID, actor: context.caller.actor)
        return Response(status: .noContent)
    }

    /// A ``UserExport`` with the API's field names.
    struct ExportBody: Encodable {
        let export: UserExport

        init(_ export: UserExport) {
            self.export = export
        }

        enum CodingKeys: String, CodingKey {
            case application, factors, throttle
            case userID = "user_id"
            case exportedAt = "exported_at"
            case recoveryCodes = "recovery_codes"
            case auditEvents = "audit_events"
        }

        enum RecoveryKeys: String, CodingKey {
            case total, unused
            case createdAt = "created_at"
        }

        enum ThrottleKeys: String, CodingKey {
            case consecutiveFailures = "consecutive_failures"
            case lockedUntil = "locked_until"
        }

        enum EventKeys: String, CodingKey {
            case time, action, outcome, reason, actor
            case factorID = "factor_id"
        }

        func encode(to encoder: any Encoder) throws {
            var container = encoder.container(keyedBy: CodingKeys.self)
            try container.encode(export.application, forKey: .application)
            try container.encode(export.userID, forKey: .userID)
            try container.encode(export.exportedAt, forKey: .exportedAt)
            try container.encode(export.factors.map(FactorBody.init), forKey: .factors)
            var recovery = container.nestedContainer(keyedBy: RecoveryKeys.self, forKey: .recoveryCodes)
            try recovery.encode(export.recoveryCodes.total, forKey: .total)
            try recovery.encode(export.recoveryCodes.unused, forKey: .unused)
            try recovery.encodeNullable(export.recoveryCodes.createdAt, forKey: .createdAt)
            var throttle = container.nestedContainer(keyedBy: ThrottleKeys.self, forKey: .throttle)
            try throttle.encode(export.throttle.consecutiveFailures, forKey: .consecutiveFailures)
            try throttle.encodeNullable(export.throttle.lockedUntil, forKey: .lockedUntil)
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
}
