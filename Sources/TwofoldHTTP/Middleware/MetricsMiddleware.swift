import Hummingbird

/// Counts requests by route pattern, method and status, and records their latency.
struct MetricsMiddleware<Context: RequestContext>: RouterMiddleware {
    let metrics: TwofoldMetrics

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        let start = ContinuousClock.now
        let response = try await next(request, context)
        metrics.recordRequest(route: RoutePattern.label(context.endpointPath), method: request.method.rawValue,
                              status: response.status.code, duration: ContinuousClock.now - start)
        return response
    }
}
