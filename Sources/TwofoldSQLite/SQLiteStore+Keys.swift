import Foundation
import GRDB
import TwofoldCore

extension SQLiteStore {
    public func wrappedDataKey(applicationID: ApplicationID, userID: UserID) async throws -> WrappedKey? {
        try await read("read a data key") { db in
            try Self.dataKey(applicationID, userID, db)
        }
    }

    static func dataKey(_ applicationID: ApplicationID, _ userID: UserID, _ db: Database) throws -> WrappedKey? {
        try db.directFetchOne("SELECT \(SQLiteCoding.wrappedKeyColumns) FROM data_keys WHERE app_id = ? AND user_id = ?",
                              [.text(applicationID.rawValue), .text(userID.rawValue)], SQLiteCoding.wrappedKey)
    }

    public func insertDataKeyIfAbsent(applicationID: ApplicationID, userID: UserID, key: WrappedKey) async throws -> WrappedKey {
        // `created_at` is informational (no rule reads it), so the store's own clock is fine here.
        let now = StoredTime.milliseconds(Date())
        return try await write("store a data key") { db in
            try db.run(sql: """
                INSERT INTO data_keys (app_id, user_id, key_id, wrapped, created_at) VALUES (?, ?, ?, ?, ?)
                ON CONFLICT (app_id, user_id) DO NOTHING
                """, arguments: [applicationID.rawValue, userID.rawValue, key.keyID, SQLiteCoding.blob(key.bytes), now])
            guard let stored = try Self.dataKey(applicationID, userID, db) else {
                throw TwofoldError(.unavailable, "the data key just stored cannot be read back")
            }
            return stored
        }
    }

    public func systemKey(named name: String) async throws -> WrappedKey? {
        try await read("read a system key") { db in
            try Self.systemKey(name, db)
        }
    }

    static func systemKey(_ name: String, _ db: Database) throws -> WrappedKey? {
        try db.directFetchOne("SELECT \(SQLiteCoding.wrappedKeyColumns) FROM system_keys WHERE name = ?", [.text(name)],
                              SQLiteCoding.wrappedKey)
    }

    public func insertSystemKeyIfAbsent(named name: String, key: WrappedKey) async throws -> WrappedKey {
        try await write("store a system key") { db in
            try db.run(sql: "INSERT INTO system_keys (name, key_id, wrapped) VALUES (?, ?, ?) ON CONFLICT (name) DO NOTHING",
                           arguments: [name, key.keyID, SQLiteCoding.blob(key.bytes)])
            guard let stored = try Self.systemKey(name, db) else {
                throw TwofoldError(.unavailable, "the system key just stored cannot be read back")
            }
            return stored
        }
    }

    /// Data keys first (by application and user), then system keys (by name).
    public func keysNotWrapped(by keyID: String, limit: Int) async throws -> [StoredKey] {
        guard limit > 0 else { return [] }
        return try await read("list keys to re-wrap") { db in
            var keys = try db.directFetchAll("""
                SELECT \(SQLiteCoding.wrappedKeyColumns), app_id, user_id FROM data_keys WHERE key_id <> ? ORDER BY app_id, user_id LIMIT ?
                """, [.text(keyID), .integer(limit)]) { row in
                StoredKey(owner: .user(try SQLiteCoding.applicationID(try row.text(2)), try SQLiteCoding.userID(try row.text(3))),
                          key: try SQLiteCoding.wrappedKey(row))
            }
            if keys.count < limit {
                keys += try db.directFetchAll("SELECT \(SQLiteCoding.wrappedKeyColumns), name FROM system_keys WHERE key_id <> ? ORDER BY name LIMIT ?",
                                              [.text(keyID), .integer(limit - keys.count)]) { row in
                    StoredKey(owner: .system(try row.text(2)), key: try SQLiteCoding.wrappedKey(row))
                }
            }
            return keys
        }
    }

    /// Compare-and-set on the whole stored value (master key id and wrapped bytes).
    public func rewrap(_ owner: StoredKey.Owner, from old: WrappedKey, to new: WrappedKey) async throws -> Bool {
        try await write("re-wrap a key") { db in
            switch owner {
            case .user(let applicationID, let userID):
                try db.run(sql: """
                    UPDATE data_keys SET key_id = ?, wrapped = ?
                    WHERE app_id = ? AND user_id = ? AND key_id = ? AND wrapped = ?
                    """, arguments: [new.keyID, SQLiteCoding.blob(new.bytes), applicationID.rawValue, userID.rawValue,
                                     old.keyID, SQLiteCoding.blob(old.bytes)])
            case .system(let name):
                try db.run(sql: "UPDATE system_keys SET key_id = ?, wrapped = ? WHERE name = ? AND key_id = ? AND wrapped = ?",
                               arguments: [new.keyID, SQLiteCoding.blob(new.bytes), name, old.keyID, SQLiteCoding.blob(old.bytes)])
            }
            return db.changesCount == 1
        }
    }

    public func keyUsage() async throws -> [String: Int] {
        try await read("count keys by master key") { db in
            var usage: [String: Int] = [:]
            for row in try db.fetchRows(sql: """
                SELECT key_id, COUNT(*) AS count
                FROM (SELECT key_id FROM data_keys UNION ALL SELECT key_id FROM system_keys)
                GROUP BY key_id
                """) {
                usage[try row.decode(String.self, forColumn: "key_id")] = try row.decode(Int.self, forColumn: "count")
            }
            return usage
        }
    }
}
