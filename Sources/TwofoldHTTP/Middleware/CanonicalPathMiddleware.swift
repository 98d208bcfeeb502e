import Hummingbird

/// Answers 404 to a path with an empty segment (`//healthz`, `/metrics/`, `/v1/users//factors/`)
/// instead of letting the router collapse it onto another route: a front that allows or denies
/// by exact path (`/metrics` only from the monitoring network, say) must see the path the
/// service serves, and `DELETE /v1/users//factors/` must not reach the user named `factors`.
struct CanonicalPathMiddleware<Context: RequestContext>: RouterMiddleware {
    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        let path = request.uri.path
        guard !Self.hasEmptySegment(path) else {
            throw APIError.notFound("no route matches \(request.method.rawValue) on this path: it has an empty segment")
        }
        return try await next(request, context)
    }

    /// Whether `path` has an empty segment: `//` anywhere, or a `/` at the end of anything but `/`.
    static func hasEmptySegment(_ path: String) -> Bool {
        var previousWasSlash = false
        for byte in path.utf8 {
            let isSlash = byte == UInt8(ascii: "/")
            if isSlash && previousWasSlash { return true }
            previousWasSlash = isSlash
        }
        return previousWasSlash && path.utf8.count > 1
    }
}
