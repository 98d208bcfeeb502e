import Foundation
import GRDB
import Testing
import TwofoldCore
@testable import TwofoldSQLite

@Suite("SQLite migration v6: API key MACs")
struct SQLiteAPIKeyMACMigrationTests {
    @Test("the keys of v5 get their MAC once, at the start that migrates; a row added without one later never does")
    func legacyKeysSealedOnce() async throws {
        try await TemporaryStores.with { stores in
            let path = stores.path("v5.sqlite")
            try FileManager.default.createDirectory(at: stores.directory, withIntermediateDirectories: true)
            let secret = String(repeating: "s", count: 52)
            let legacyToken = "tf_key_\(String(repeating: "l", count: 16))_\(secret)"
            let v5 = try DatabaseQueue(path: path)
            try SQLiteMigrations.migrator.migrate(v5, upTo: "v5-push-devices")
            try await v5.write { db in
                try db.execute(sql: "INSERT INTO applications (id, name, created_at) VALUES (?, 'default', 5)", arguments: [Fixtures.app.rawValue])
                try db.execute(sql: "INSERT INTO api_keys (id, app_id, scopes, secret_hash, created_at) VALUES (?, ?, 'verify', ?, 5)",
                               arguments: ["key_\(String(repeating: "l", count: 16))", Fixtures.app.rawValue,
                                           Data(APIKeyService.hashAPIKeySecret(secret))])
            }
            try v5.close()

            let keyring = try Keyring([MasterKey.generate()])
            let store = try SQLiteStore(path: path)
            #expect(try await store.migrate() == Array(6...SQLiteMigrations.migrator.migrations.count))
            let services = try await TwofoldServices.start(store: store, keyring: keyring)
            #expect(try await services.apiKeys.authenticate(token: legacyToken)?.scopes == [.verify])

            // Someone with write access adds a key without a MAC; restarts never seal it.
            let forgedToken = "tf_key_\(String(repeating: "f", count: 16))_\(secret)"
            try await store.insertAPIKey(APIKeyRecord(id: "key_\(String(repeating: "f", count: 16))", applicationID: Fixtures.app,
                                                      scopes: Set(APIKeyScope.allCases), secretHash: APIKeyService.hashAPIKeySecret(secret),
                                                      createdAt: Fixtures.start),
                                         audit: Fixtures.audit(.apiKeyCreated, nil))
            try await store.close()
            let reopened = try SQLiteStore(path: path)
            #expect(try await reopened.migrate() == [])
            let again = try await TwofoldServices.start(store: reopened, keyring: keyring)
            await #expect(throws: TwofoldError.self) { try await again.apiKeys.authenticate(token: forgedToken) }
            #expect(try await again.apiKeys.authenticate(token: legacyToken) != nil)
            try await reopened.close()
        }
    }
}
