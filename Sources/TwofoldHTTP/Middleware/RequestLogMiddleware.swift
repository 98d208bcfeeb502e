import Hummingbird
import Logging

/// Logs each request once, at `info`: method, route pattern (never the path, which holds user
/// ids), status and duration; the request id comes with the logger's metadata.
struct RequestLogMiddleware<Context: RequestContext>: RouterMiddleware {
    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        let start = ContinuousClock.now
        let response = try await next(request, context)
        let elapsed = ContinuousClock.now - start
        context.logger.info("request", metadata: [
            "method": .string(request.method.rawValue),
            "route": .string(RoutePattern.label(context.endpointPath)),
            "status": .stringConvertible(response.status.code),
            "duration_ms": .stringConvertible(RoutePattern.milliseconds(elapsed)),
        ])
        return response
    }
}

/// Route names for logs and metrics.
enum RoutePattern {
    /// The matched route's pattern (`/v1/users/{user_id}/verify`), or `unmatched`: never a raw
    /// path, which would put user ids in logs and an unbounded number of labels in metrics.
    static func label(_ endpointPath: String?) -> String {
        guard let endpointPath, endpointPath.hasPrefix("/") else { return "unmatched" }
        return endpointPath
    }

    static func milliseconds(_ duration: Duration) -> Double {
        let (seconds, attoseconds) = duration.components
        let microseconds = seconds * 1_000_000 + attoseconds / 1_000_000_000_000
        return Double(microseconds) / 1000
    }
}
