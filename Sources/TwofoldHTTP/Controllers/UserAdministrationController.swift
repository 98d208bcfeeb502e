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

    /// `POST /v1/users/{user_id}/reset`: deletes every factor and recovery code (a lost phone);
    /// 204 also when nothing is stored for the user, which then writes nothing.
    @Sendable func reset(_ request: Request, context: Context) async throws -> Response {
        let userID = try PathParameters.userID(context)
        try await administration.reset(context.caller.applicationID, userID, actor: context.caller.actor)
        return Response(status: .noContent)
    }

    /// `POST /v1/users/{user_id}/unlock`: clears failures and any lock; 404, and nothing written
    /// (no audit event either), when nothing is stored for the user.
    @Sendable func unlock(_ request: Request, context: Context) async throws -> Response {
        let userID = try PathParameters.userID(context)
        try await administration.unlock(context.caller.applicationID, userID, actor: context.caller.actor)
        return Response(status: .noContent)
    }

    /// `GET /v1/users/{user_id}/export`: everything held about the user, no secrets; 404 when nothing is.
    @Sendable func export(_ request: Request, context: Context) async throws -> Response {
        let userID = try PathParameters.userID(context)
        let application = try await applications.application(id: context.caller.applicationID)
        guard let export = try await administration.export(application, userID, actor: context.caller.actor) else {
            throw APIError.notFound("nothing is stored about this user")
        }
        return JSONResponse.make(UserExportJSON(export))
    }

    /// `DELETE /v1/users/{user_id}`: erases the user (204 even when nothing was stored; then
    /// nothing is written).
    @Sendable func erase(_ request: Request, context: Context) async throws -> Response {
        let userID = try PathParameters.userID(context)
        try await administration.erase(context.caller.applicationID, userID, actor: context.caller.actor)
        return Response(status: .noContent)
    }
}
