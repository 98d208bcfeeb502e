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
    /// Sets `revokedAt` (and `mac`, which covers it, when given) if not yet revoked; returns
    /// whether this call revoked it.
    func revokeAPIKey(id: String, at date: Date, mac: [UInt8]?, audit: AuditAppend) async throws -> Bool
    /// The ids of the keys that had no MAC when this store instance ran the migration that
    /// added MACs: the keys of the version before, which the services give their MAC once at
    /// start. Empty on every later start, so that a row added without a MAC afterwards (by
    /// someone writing the database directly) is never given one.
    func apiKeysAwaitingMAC() async throws -> [String]
    /// Sets the MAC of a key that has none; returns whether it did.
    func setMissingAPIKeyMAC(id: String, mac: [UInt8]) async throws -> Bool
}

extension APIKeyStore {
    /// Revokes without touching the MAC (tests of the store alone).
    public func revokeAPIKey(id: String, at date: Date, audit: AuditAppend) async throws -> Bool {
        try await revokeAPIKey(id: id, at: date, mac: nil, audit: audit)
    }
}
