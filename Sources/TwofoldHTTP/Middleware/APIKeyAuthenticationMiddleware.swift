import Hummingbird
import TwofoldCore

/// Checks `Authorization: Bearer <key>` and records the key in the context.
///
/// Every request reads its key from the store (so a revocation takes effect at once on every
/// node), except the routes in `revalidatedInStore`: their handlers hand the key's id to the
/// verification service, whose store transaction checks it again before changing anything. Those take the key
/// from ``APIKeyCache`` when it is there (the secret is still checked against its hash), which
/// saves a read per verification.
struct APIKeyAuthenticationMiddleware<Context: APIKeyRequestContext>: RouterMiddleware {
    let apiKeys: APIKeyService
    let cache: APIKeyCache
    /// Route patterns (`/v1/users/{user_id}/verify`) whose handlers pass the key to the store.
    let revalidatedInStore: Set<String>

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        guard let header = request.headers[.authorization] else {
            throw APIError.unauthorized("a valid API key is required: send Authorization: Bearer <key>")
        }
        let parts = header.split(separator: " ", maxSplits: 1, omittingEmptySubsequences: true)
        guard parts.count == 2, Self.isBearer(parts[0]) else {
            throw APIError.unauthorized("the Authorization header must be Bearer <key>")
        }
        guard let token = APIKeyToken(parts[1]) else {
            throw APIError.unauthorized("the API key is unknown or revoked")
        }
        let key: APIKeyRecord
        var fromCache = false
        // Only a key with the `verify` scope is taken from the cache, so a revoked key never
        // gets an answer other than 401 (a revoked key without the scope would otherwise get 403).
        if let path = context.endpointPath, revalidatedInStore.contains(path),
           let cached = cache.record(id: token.keyID), cached.scopes.contains(.verify), token.matches(cached) {
            key = cached
            fromCache = true
        } else {
            // A failure here does not evict the cached key: key ids are not secret, and a wrong
            // secret says nothing about the key. A revoked cached key is evicted below, when the
            // store refuses it.
            guard let stored = try await apiKeys.authenticate(token) else {
                throw APIError.unauthorized("the API key is unknown or revoked")
            }
            cache.remember(stored)
            key = stored
        }
        var context = context
        context.apiKey = key
        context.logger[metadataKey: "api_key_id"] = .string(key.id)
        do {
            return try await next(request, context)
        } catch let error as TwofoldError where error.code == .unauthorized {
            cache.forget(id: key.id)
            throw error
        } catch let error as APIError where fromCache {
            // The request failed before the store could re-check the cached key (a malformed
            // body, a bad user id): a revoked key must still hear 401, not the request's error.
            guard try await apiKeys.authenticate(token) != nil else {
                cache.forget(id: key.id)
                throw APIError.unauthorized("the API key is unknown or revoked")
            }
            throw error
        }
    }

    /// `Bearer`, in any case (RFC 9110 §11.1: the scheme is case-insensitive).
    private static func isBearer(_ scheme: Substring) -> Bool {
        scheme.utf8.count == 6 && zip(scheme.utf8, "bearer".utf8).allSatisfy { $0 | 0x20 == $1 }
    }

}
