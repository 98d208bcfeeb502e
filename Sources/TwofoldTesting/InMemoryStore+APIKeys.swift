import Foundation
import TwofoldCore

extension InMemoryStore {
    /// - Throws: `conflict` when a key has that id.
    public func insertAPIKey(_ key: APIKeyRecord, audit: AuditAppend) async throws {
        try withState { state in
            let id = ExactText(key.id)
            guard state.apiKeys[id] == nil else { throw TwofoldError(.conflict, "an API key with id \(key.id) exists") }
            let event = try state.chained(audit)
            state.apiKeys[id] = AsStored.record(key)
            state.apiKeyOrder.append(id)
            state.record(event)
        }
    }

    public func apiKey(id: String) async throws -> APIKeyRecord? {
        try withState { state in
            state.apiKeys[ExactText(id)]
        }
    }

    /// Oldest first (creation time, then insertion order).
    public func apiKeys(applicationID: ApplicationID?) async throws -> [APIKeyRecord] {
        try withState { state in
            state.apiKeyOrder.enumerated()
                .compactMap { order, id in state.apiKeys[id].map { (order: order, key: $0) } }
                .filter { row in applicationID.map { ExactText.same(row.key.applicationID.rawValue, $0.rawValue) } ?? true }
                .sorted { ($0.key.createdAt, $0.order) < ($1.key.createdAt, $1.order) }
                .map(\.key)
        }
    }

    /// Compare-and-set on "not revoked yet"; appends `audit` only when this call revoked the key.
    public func revokeAPIKey(id: String, at date: Date, mac: [UInt8]?, audit: AuditAppend) async throws -> Bool {
        try withState { state in
            let id = ExactText(id)
            guard let key = state.apiKeys[id], key.revokedAt == nil else { return false }
            let event = try state.chained(audit)
            state.apiKeys[id]?.revokedAt = AsStored.date(date)
            if let mac { state.apiKeys[id]?.mac = mac }
            state.record(event)
            return true
        }
    }

    /// Always empty: the in-memory store has no migrations, so no key of an earlier version.
    public func apiKeysAwaitingMAC() async throws -> [String] { [] }

    public func setMissingAPIKeyMAC(id: String, mac: [UInt8]) async throws -> Bool {
        try withState { state in
            let id = ExactText(id)
            guard state.apiKeys[id] != nil, state.apiKeys[id]?.mac == nil else { return false }
            state.apiKeys[id]?.mac = mac
            return true
        }
    }

    /// Replaces a key's row as someone writing the database directly would (tests of the MAC).
    public func tamperAPIKey(_ record: APIKeyRecord) {
        try? withState { state in
            let id = ExactText(record.id)
            if state.apiKeys[id] == nil { state.apiKeyOrder.append(id) }
            state.apiKeys[id] = record
        }
    }
}
