import Hummingbird

/// Refuses a body whose declared length is over the limit before reading any of it. A chunked
/// body has no declared length: handlers read at most the limit and refuse the rest as soon as
/// it arrives (see `Request.decodeJSON`).
struct BodyLimitMiddleware<Context: RequestContext>: RouterMiddleware {
    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        if let declared = request.headers[.contentLength] {
            guard let length = Int(declared), length >= 0 else {
                throw APIError.invalidRequest("the Content-Length header is not a number")
            }
            guard length <= HTTPLimits.maximumBodySize else { throw APIError.payloadTooLarge }
        }
        return try await next(request, context)
    }
}
