import Hummingbird

/// Answers carry secrets (enrollment) and personal data (exports): no cache may keep them, and no
/// browser may guess their type.
struct NoStoreMiddleware<Context: RequestContext>: RouterMiddleware {
    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        var response = try await next(request, context)
        response.headers[.cacheControl] = "no-store"
        response.headers[HTTPFields.Element.Name("X-Content-Type-Options")!] = "nosniff"
        return response
    }
}
