import Foundation
import Testing
import TwofoldCore
import TwofoldTesting

/// ``APIKeyStore``: keys are found by id and listed oldest first; a revocation happens once.
@Suite("API key store conformance")
struct APIKeyStoreConformance: StoreFixtures {
    var key: APIKeyRecord {
        APIKeyRecord(id: "key_aaaaaaaaaaaaaaaa", applicationID: app, scopes: [.verify, .admin], secretHash: [1, 2, 3], createdAt: start)
    }

    var other: APIKeyRecord {
        APIKeyRecord(id: "key_bbbbbbbbbbbbbbbb", applicationID: otherApp, scopes: [.enroll], secretHash: [4], createdAt: start.addingTimeInterval(1))
    }

    @Test("finds a key by its id, and lists keys oldest first, of one application or of all", arguments: StoreUnderTest.all)
    func findsAndLists(_ backend: StoreUnderTest) async throws {
        try await backend.withFreshStore { store in
            try await store.insertAPIKey(key, audit: audit(.apiKeyCreated, app))
            try await store.insertAPIKey(other, audit: audit(.apiKeyCreated, otherApp))
            #expect(try await store.apiKey(id: key.id) == key)
            #expect(try await store.apiKey(id: "key_cccccccccccccccc") == nil)
            #expect(try await store.apiKeys(applicationID: app) == [key])
            #expect(try await store.apiKeys(applicationID: nil) == [key, other])
        }
    }

    @Test("revoking is a compare-and-set: only the first revocation takes effect and writes an event", arguments: StoreUnderTest.all)
    func revokesOnce(_ backend: StoreUnderTest) async throws {
        try await backend.withFreshStore { store in
            try await store.insertAPIKey(key, audit: audit(.apiKeyCreated, app))
            try await store.insertAPIKey(other, audit: audit(.apiKeyCreated, otherApp))
            #expect(try await store.revokeAPIKey(id: key.id, at: start.addingTimeInterval(5), audit: audit(.apiKeyRevoked, app)))
            #expect(try await store.revokeAPIKey(id: key.id, at: start.addingTimeInterval(9), audit: audit(.apiKeyRevoked, app)) == false)
            #expect(try await store.apiKey(id: key.id)?.revokedAt == start.addingTimeInterval(5))
            #expect(try await store.auditEvents(AuditQuery()).count == 3)
        }
    }
}
