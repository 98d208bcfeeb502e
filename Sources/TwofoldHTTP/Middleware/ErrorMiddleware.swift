import Hummingbird

/// Turns every error into its JSON answer (see ``APIError``), and tells an unknown path (404)
/// from a known path asked with the wrong method (405, with `Allow`).
struct ErrorMiddleware<Context: RequestContext>: RouterMiddleware {
    let routes: RouteTable

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        do {
            return try await next(request, context)
        } catch {
            var apiError = APIError(error, logger: context.logger)
            if let httpError = error as? HTTPError, httpError.status == .notFound, RoutePattern.label(context.endpointPath) == "unmatched" {
                let allowed = routes.methods(matching: request.uri.path)
                if allowed.isEmpty {
                    apiError = .notFound("no route matches \(request.method.rawValue) on this path")
                } else {
                    let list = allowed.joined(separator: ", ")
                    apiError = APIError(.methodNotAllowed, .methodNotAllowed, "\(request.method.rawValue) is not allowed here; use \(list)",
                                        headers: [.allow: list])
                }
            }
            return apiError.response()
        }
    }
}
