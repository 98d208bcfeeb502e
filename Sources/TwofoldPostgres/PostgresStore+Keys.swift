import Foundation
import PostgresNIO
import TwofoldCore

extension PostgresStore {
    public func wrappedDataKey(applicationID: ApplicationID, userID: UserID) async throws -> WrappedKey? {
        try await withConnection("read a data key") { [self] connection in
            try await connection.rows("""
                SELECT key_id, wrapped FROM data_keys WHERE app_id = \(applicationID.rawValue) AND user_id = \(userID.rawValue)
                """, logger: logger).first.map(Self.wrappedKey)
        }
    }

    public func insertDataKeyIfAbsent(applicationID: ApplicationID, userID: UserID, key: WrappedKey) async throws -> WrappedKey {
        try await withConnection("store a data key") { [self] connection in
            // Two statements: a SELECT in the INSERT's statement would not see a row that a
            // concurrent insert committed while this one waited for it.
            if let inserted = try await connection.rows("""
                INSERT INTO data_keys (app_id, user_id, key_id, wrapped)
                VALUES (\(applicationID.rawValue), \(userID.rawValue), \(key.keyID), \(PostgresColumn.bytes(key.bytes)))
                ON CONFLICT (app_id, user_id) DO NOTHING
                RETURNING key_id, wrapped
                """, logger: logger).first {
                return try Self.wrappedKey(inserted)
            }
            guard let stored = try await connection.rows("""
                SELECT key_id, wrapped FROM data_keys WHERE app_id = \(applicationID.rawValue) AND user_id = \(userID.rawValue)
                """, logger: logger).first else {
                throw TwofoldError(.unavailable, "a data key was neither inserted nor found (erased concurrently?)")
            }
            return try Self.wrappedKey(stored)
        }
    }

    public func systemKey(named name: String) async throws -> WrappedKey? {
        try await withConnection("read system key \(name)") { [self] connection in
            try await connection.rows("SELECT key_id, wrapped FROM system_keys WHERE name = \(name)", logger: logger)
                .first.map(Self.wrappedKey)
        }
    }

    public func insertSystemKeyIfAbsent(named name: String, key: WrappedKey) async throws -> WrappedKey {
        try await withConnection("store system key \(name)") { [self] connection in
            if let inserted = try await connection.rows("""
                INSERT INTO system_keys (name, key_id, wrapped) VALUES (\(name), \(key.keyID), \(PostgresColumn.bytes(key.bytes)))
                ON CONFLICT (name) DO NOTHING
                RETURNING key_id, wrapped
                """, logger: logger).first {
                return try Self.wrappedKey(inserted)
            }
            guard let stored = try await connection.rows("SELECT key_id, wrapped FROM system_keys WHERE name = \(name)", logger: logger).first else {
                throw TwofoldError(.unavailable, "system key \(name) was neither inserted nor found")
            }
            return try Self.wrappedKey(stored)
        }
    }

    public func keysNotWrapped(by keyID: String, limit: Int) async throws -> [StoredKey] {
        try await withConnection("list keys to re-wrap") { [self] connection in
            // Data keys by owner, then system keys by name, in byte order: the order every store lists them.
            try await connection.rows("""
                SELECT kind, name, usr, key_id, wrapped FROM (
                    SELECT 0 AS rank, 'user' AS kind, app_id AS name, user_id AS usr, key_id, wrapped FROM data_keys WHERE key_id <> \(keyID)
                    UNION ALL
                    SELECT 1, 'system', name, NULL, key_id, wrapped FROM system_keys WHERE key_id <> \(keyID)
                ) AS k
                ORDER BY rank, name COLLATE "C", usr COLLATE "C"
                LIMIT \(max(0, limit))
                """, logger: logger).map { row in
                let (kind, name, user, keyID, wrapped) = try row.decode((String, String, String?, String, ByteBuffer).self)
                let owner: StoredKey.Owner
                if kind == "system" {
                    owner = .system(name)
                } else {
                    owner = .user(try Self.identifier(name), try Self.userID(try Self.value(user, "data key owner", "NULL")))
                }
                return StoredKey(owner: owner, key: Self.wrappedKey(keyID, wrapped))
            }
        }
    }

    public func rewrap(_ owner: StoredKey.Owner, from old: WrappedKey, to new: WrappedKey) async throws -> Bool {
        try await withConnection("re-wrap a key") { [self] connection in
            switch owner {
            case .user(let applicationID, let userID):
                return try await connection.rows("""
                    UPDATE data_keys SET key_id = \(new.keyID), wrapped = \(PostgresColumn.bytes(new.bytes))
                    WHERE app_id = \(applicationID.rawValue) AND user_id = \(userID.rawValue)
                      AND key_id = \(old.keyID) AND wrapped = \(PostgresColumn.bytes(old.bytes))
                    RETURNING 1
                    """, logger: logger).count == 1
            case .system(let name):
                return try await connection.rows("""
                    UPDATE system_keys SET key_id = \(new.keyID), wrapped = \(PostgresColumn.bytes(new.bytes))
                    WHERE name = \(name) AND key_id = \(old.keyID) AND wrapped = \(PostgresColumn.bytes(old.bytes))
                    RETURNING 1
                    """, logger: logger).count == 1
            }
        }
    }

    public func keyUsage() async throws -> [String: Int] {
        try await withConnection("count keys by master key") { [self] connection in
            var usage: [String: Int] = [:]
            for row in try await connection.rows("""
                SELECT key_id, count(*) FROM (
                    SELECT key_id FROM data_keys UNION ALL SELECT key_id FROM system_keys
                ) AS keys GROUP BY key_id
                """, logger: logger) {
                let (keyID, count) = try row.decode((String, Int).self)
                usage[keyID] = count
            }
            return usage
        }
    }
}
