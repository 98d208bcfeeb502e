import Testing
import TwofoldCore
import TwofoldTesting

/// ``StoreLifecycle``: migrating again is harmless, and a closed store refuses every call.
@Suite("Store lifecycle conformance")
struct StoreLifecycleConformance: StoreFixtures {
    @Test("migrating again keeps what is stored", arguments: StoreUnderTest.all)
    func migratingAgainKeepsData(_ backend: StoreUnderTest) async throws {
        try await backend.withFreshStore { store in
            let application = Application(id: app, name: "default", createdAt: start)
            try await store.insertApplication(application, audit: audit(.applicationCreated, app))
            try await store.migrate()
            try await store.ping()
            #expect(try await store.application(named: "default") == application)
        }
    }

    @Test("after close, reads and writes fail with unavailable", arguments: StoreUnderTest.all)
    func closedStoreRefusesCalls(_ backend: StoreUnderTest) async throws {
        try await backend.withFreshStore { store in
            try await store.ping()
            try await store.close()
            let ping = await #expect(throws: TwofoldError.self) { try await store.ping() }
            #expect(ping?.code == .unavailable)
            let read = await #expect(throws: TwofoldError.self) { try await store.applications() }
            #expect(read?.code == .unavailable)
            let write = await #expect(throws: TwofoldError.self) { try await store.appendAudit(audit(.keysRotated)) }
            #expect(write?.code == .unavailable)
        }
    }
}
