import Foundation
import Hummingbird
import TwofoldCore

/// Checks `Authorization: Bearer <key>` against the store on every request (no cache, so a
/// revocation takes effect at once on every node) and records the key in the context.
struct APIKeyAuthenticationMiddleware<Context: APIKeyRequestContext>: RouterMiddleware {
    let engine: TwofoldEngine

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        guard let header = request.headers[.authorization] else {
            throw APIError.unauthorized("a valid API key is required: send Authorization: Bearer <key>")
        }
        let parts = header.split(separator: " ", maxSplits: 1, omittingEmptySubsequences: true)
        guard parts.count == 2, parts[0].lowercased() == "bearer" else {
            throw APIError.unauthorized("the Authorization header must be Bearer <key>")
        }
        guard let key = try await engine.authenticate(token: parts[1].trimmingCharacters(in: .whitespaces)) else {
            throw APIError.unauthorized("the API key is unknown or revoked")
        }
        var context = context
        context.apiKey = key
        context.logger[metadataKey: "api_key_id"] = .string(key.id)
        return try await next(request, context)
    }
}
