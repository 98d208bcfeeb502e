import Foundation
import PostgresNIO
import Testing
import TwofoldCore
@testable import TwofoldPostgres
import TwofoldPostgresTesting
import TwofoldTesting

/// Migration 7 on a database of the previous version.
@Suite("PostgreSQL: migration 7, API key MACs")
struct PostgresAPIKeyMACMigrationTests: PostgresFixtures {
    @Test("the keys of version 6 get their MAC once, at the start that migrates; a row added without one later never does")
    func legacyKeysSealedOnce() async throws {
        try await PostgresTestDatabase.with { database in
            try await database.migrateSchema(through: PostgresMigration.apiKeyMACs.version - 1)
            let secret = String(repeating: "s", count: 52)
            let legacyID = "key_" + String(repeating: "l", count: 16)
            _ = try await database.query("""
                INSERT INTO applications (id, name, created_at) VALUES (\(app.rawValue), 'default', 5)
                """) { _ in () }
            _ = try await database.query("""
                INSERT INTO api_keys (id, app_id, scopes, secret_hash, created_at)
                VALUES (\(legacyID), \(app.rawValue), 'verify', \(PostgresColumn.bytes(APIKeyService.hashAPIKeySecret(secret))), 5)
                """) { _ in () }
            let keyring = try Keyring([MasterKey.generate()])
            let store = try await database.makeStore(migrated: false)
            #expect(try await store.migrate() == PostgresMigration.all.map(\.version).filter { $0 >= PostgresMigration.apiKeyMACs.version })
            let services = try await TwofoldServices.start(store: store, keyring: keyring)
            #expect(try await services.apiKeys.authenticate(token: "tf_\(legacyID)_\(secret)")?.scopes == [.verify])

            let forgedID = "key_" + String(repeating: "f", count: 16)
            try await store.insertAPIKey(APIKeyRecord(id: forgedID, applicationID: app, scopes: Set(APIKeyScope.allCases),
                                                      secretHash: APIKeyService.hashAPIKeySecret(secret), createdAt: start),
                                         audit: AuditAppend(AuditDraft(time: start, applicationID: app, userID: nil, actor: "test",
                                                                       action: .apiKeyCreated, outcome: "success"), chain: chain))
            #expect(try await store.migrate() == [])
            let again = try await TwofoldServices.start(store: store, keyring: keyring)
            await #expect(throws: TwofoldError.self) { try await again.apiKeys.authenticate(token: "tf_\(forgedID)_\(secret)") }
        }
    }
}
