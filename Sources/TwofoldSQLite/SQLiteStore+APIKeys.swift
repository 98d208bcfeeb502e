import Foundation
import GRDB
import TwofoldCore

extension SQLiteStore {
    /// - Throws: `conflict` when a key has that id.
    public func insertAPIKey(_ key: APIKeyRecord, audit: AuditAppend) async throws {
        try await write("insert an API key") { db in
            do {
                try db.run(sql: """
                    INSERT INTO api_keys (id, app_id, scopes, secret_hash, created_at, revoked_at, mac) VALUES (?, ?, ?, ?, ?, ?, ?)
                    """, arguments: [key.id, key.applicationID.rawValue, key.scopesText, SQLiteCoding.blob(key.secretHash),
                                     StoredTime.milliseconds(key.createdAt), key.revokedAt.map(StoredTime.milliseconds),
                                     key.mac.map(SQLiteCoding.blob)])
            } catch let error as DatabaseError where error.extendedResultCode == .SQLITE_CONSTRAINT_PRIMARYKEY {
                throw TwofoldError(.conflict, "an API key with id \(key.id) exists")
            }
            try Self.appendAudit(audit, db)
        }
    }

    public func apiKey(id: String) async throws -> APIKeyRecord? {
        try await read("read an API key") { db in
            try db.fetchRow(sql: "SELECT * FROM api_keys WHERE id = ?", arguments: [id]).map(SQLiteCoding.apiKey)
        }
    }

    /// Oldest first (creation time, then insertion order).
    public func apiKeys(applicationID: ApplicationID?) async throws -> [APIKeyRecord] {
        try await read("list API keys") { db in
            if let applicationID {
                return try db.fetchRows(sql: "SELECT * FROM api_keys WHERE app_id = ? ORDER BY created_at, rowid",
                                        arguments: [applicationID.rawValue]).map(SQLiteCoding.apiKey)
            }
            return try db.fetchRows(sql: "SELECT * FROM api_keys ORDER BY created_at, rowid").map(SQLiteCoding.apiKey)
        }
    }

    /// Compare-and-set on `revoked_at IS NULL`; appends `audit` only when this call revoked the key.
    public func revokeAPIKey(id: String, at date: Date, mac: [UInt8]?, audit: AuditAppend) async throws -> Bool {
        try await write("revoke an API key") { db in
            try db.run(sql: "UPDATE api_keys SET revoked_at = ?, mac = coalesce(?, mac) WHERE id = ? AND revoked_at IS NULL",
                           arguments: [StoredTime.milliseconds(date), mac.map(SQLiteCoding.blob), id])
            guard db.changesCount == 1 else { return false }
            try Self.appendAudit(audit, db)
            return true
        }
    }

    public func apiKeysAwaitingMAC() async throws -> [String] {
        migratedAPIKeys.withLock { ids in
            defer { ids = [] }
            return ids
        }
    }

    public func setMissingAPIKeyMAC(id: String, mac: [UInt8]) async throws -> Bool {
        try await write("seal an API key") { db in
            try db.run(sql: "UPDATE api_keys SET mac = ? WHERE id = ? AND mac IS NULL", arguments: [SQLiteCoding.blob(mac), id])
            return db.changesCount == 1
        }
    }
}
