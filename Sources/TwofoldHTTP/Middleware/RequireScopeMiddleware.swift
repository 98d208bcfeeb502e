import Hummingbird
import TwofoldCore

/// Refuses (403) a caller whose key lacks `scope`, before the handler reads anything.
struct RequireScopeMiddleware<Context: CallerRequestContext>: RouterMiddleware {
    let scope: APIKeyScope

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        try context.caller.require(scope)
        return try await next(request, context)
    }
}
