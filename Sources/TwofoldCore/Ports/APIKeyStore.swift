import Foundation

/// API keys: what a caller presents to use the HTTP API, one application each.
public protocol APIKeyStore: Sendable {
    func insertAPIKey(_ key: APIKeyRecord, audit: AuditAppend) async throws
    /// The key with this id, revoked or not. Read on every request, except those whose attempt
    /// checks the key again in its transaction (``AttemptRequest/apiKeyID``), so that a
    /// revocation takes effect at once on every node.
    func apiKey(id: String) async throws -> APIKeyRecord?
    /// Keys of one application, or of all when `nil`, oldest first.
    func apiKeys(applicationID: ApplicationID?) async throws -> [APIKeyRecord]
    /// Sets `revokedAt` if not yet revoked; returns whether this call revoked it.
    func revokeAPIKey(id: String, at date: Date, audit: AuditAppend) async throws -> Bool
}
