import Foundation
import Testing
@testable import TwofoldCore
import TwofoldTesting

/// Write access to the database must not mean a way in: an API key row that Twofold did not
/// write, or that was changed since, is refused.
@Suite("API key integrity")
struct APIKeyIntegrityTests {
    @Test("a key Twofold created carries a MAC and authenticates")
    func genuine() async throws {
        let harness = try await ServicesHarness.make()
        let created = try await harness.services.apiKeys.createAPIKey(harness.app, scopes: [.verify], actor: "test")
        let stored = try #require(try await harness.store.apiKey(id: created.record.id))
        #expect(stored.mac?.count == 32)
        #expect(try await harness.services.apiKeys.authenticate(token: created.token)?.id == created.record.id)
        #expect(harness.services.apiKeys.isIntact(stored))
    }

    @Test("a row written into the database with every scope is refused, with or without a MAC")
    func insertedRow() async throws {
        let harness = try await ServicesHarness.make()
        let secret = String(repeating: "a", count: 52)
        let token = "tf_key_\(String(repeating: "b", count: 16))_\(secret)"
        for mac in [nil, [UInt8](repeating: 7, count: 32)] {
            harness.store.tamperAPIKey(APIKeyRecord(id: "key_\(String(repeating: "b", count: 16))", applicationID: harness.app,
                                                    scopes: Set(APIKeyScope.allCases), secretHash: APIKeyService.hashAPIKeySecret(secret),
                                                    createdAt: harness.clock.now(), mac: mac))
            let error = await #expect(throws: TwofoldError.self) { try await harness.services.apiKeys.authenticate(token: token) }
            #expect(error?.code == .unauthorized)
            #expect(error?.message.contains("MAC") == true)
        }
    }

    @Test("a genuine key's scopes widened, application changed or revocation cleared in the database is refused")
    func changedRow() async throws {
        let harness = try await ServicesHarness.make()
        let other = try await harness.services.applications.createApplication(named: "other", actor: "test")
        let created = try await harness.services.apiKeys.createAPIKey(harness.app, scopes: [.verify], actor: "test")
        let genuine = try #require(try await harness.store.apiKey(id: created.record.id))

        var widened = genuine
        widened.scopes = Set(APIKeyScope.allCases)
        var moved = genuine
        moved.applicationID = other.id
        for changed in [widened, moved] {
            harness.store.tamperAPIKey(changed)
            let error = await #expect(throws: TwofoldError.self) { try await harness.services.apiKeys.authenticate(token: created.token) }
            #expect(error?.code == .unauthorized)
        }

        harness.store.tamperAPIKey(genuine)
        #expect(try await harness.services.apiKeys.authenticate(token: created.token) != nil)
        try await harness.services.apiKeys.revokeAPIKey(id: genuine.id, actor: "test")
        #expect(try await harness.services.apiKeys.authenticate(token: created.token) == nil)
        let revoked = try #require(try await harness.store.apiKey(id: genuine.id))
        #expect(harness.services.apiKeys.isIntact(revoked), "revocation writes the MAC that covers it")
        var unrevoked = revoked
        unrevoked.revokedAt = nil
        harness.store.tamperAPIKey(unrevoked)
        let error = await #expect(throws: TwofoldError.self) { try await harness.services.apiKeys.authenticate(token: created.token) }
        #expect(error?.code == .unauthorized)
    }
}
