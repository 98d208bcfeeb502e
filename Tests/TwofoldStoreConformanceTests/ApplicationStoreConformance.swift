import Testing
import TwofoldCore
import TwofoldTesting

/// ``ApplicationStore``: applications are found by name, and a name is taken once.
@Suite("Application store conformance")
struct ApplicationStoreConformance: StoreFixtures {
    @Test("finds an application by its name, and lists every one", arguments: StoreUnderTest.all)
    func findsAndLists(_ backend: StoreUnderTest) async throws {
        try await backend.withFreshStore { store in
            let application = Application(id: app, name: "default", createdAt: start)
            try await store.insertApplication(application, audit: audit(.applicationCreated, app))
            #expect(try await store.application(named: "default") == application)
            #expect(try await store.application(named: "other") == nil)
            try await store.insertApplication(Application(id: otherApp, name: "billing", createdAt: start), audit: audit(.applicationCreated, otherApp))
            #expect(try await store.applications().map(\.name).sorted() == ["billing", "default"])
            #expect(try await store.application(id: app) == application)
            #expect(try await store.application(id: otherApp)?.name == "billing")
            #expect(try await store.application(id: ApplicationID(uncheckedRawValue: "app_" + String(repeating: "z", count: 26))) == nil)
        }
    }

    @Test("settings: the SMS template and domain are stored, read back, replaced and cleared; an unknown id writes nothing",
          arguments: StoreUnderTest.all)
    func updatesSettings(_ backend: StoreUnderTest) async throws {
        try await backend.withFreshStore { store in
            try await store.insertApplication(Application(id: app, name: "default", createdAt: start, smsTemplate: "Code {code}", domain: "a.example"),
                                              audit: audit(.applicationCreated, app))
            #expect(try await store.application(named: "default")?.smsTemplate == "Code {code}")
            var changed = try #require(try await store.application(named: "default"))
            changed.smsTemplate = nil
            changed.domain = "shop.example.com"
            #expect(try await store.updateApplicationSettings(changed, audit: audit(.applicationUpdated, app)))
            #expect(try await store.application(named: "default") == changed)
            #expect(try await store.applications() == [changed])
            let events = try await store.auditEvents(AuditQuery()).count
            let stranger = Application(id: otherApp, name: "other", createdAt: start, domain: "x.example")
            #expect(try await store.updateApplicationSettings(stranger, audit: audit(.applicationUpdated, otherApp)) == false)
            #expect(try await store.auditEvents(AuditQuery()).count == events)
        }
    }

    @Test("the relying party id and origins are stored as given, in order, read back every way, replaced and cleared",
          arguments: StoreUnderTest.all)
    func relyingPartyRoundTrips(_ backend: StoreUnderTest) async throws {
        try await backend.withFreshStore { store in
            // None until set.
            let plain = Application(id: otherApp, name: "billing", createdAt: start)
            try await store.insertApplication(plain, audit: audit(.applicationCreated, otherApp))
            let stored = try #require(try await store.application(id: otherApp))
            #expect(stored.relyingPartyID == nil && stored.origins.isEmpty)

            // Not sorted: kept in the order given.
            let keyed = Application(id: app, name: "shop", createdAt: start, relyingPartyID: "example.com",
                                    origins: ["https://login.example.com", "https://example.com:8443", "https://a.example.com"])
            try await store.insertApplication(keyed, audit: audit(.applicationCreated, app))
            #expect(try await store.application(id: app) == keyed)
            #expect(try await store.application(named: "shop") == keyed)
            #expect(try await store.applications() == [plain, keyed])

            var changed = keyed
            changed.relyingPartyID = "shop.example.org"
            changed.origins = ["https://shop.example.org"]
            #expect(try await store.updateApplicationSettings(changed, audit: audit(.applicationUpdated, app)))
            #expect(try await store.application(id: app) == changed)
            #expect(try await store.application(named: "shop") == changed)

            // Any text, exactly (the store does not validate; the service does).
            changed.origins = ["", "a,b", "quote \" and\nnewline", "[\"json\"]", "é"]
            #expect(try await store.updateApplicationSettings(changed, audit: audit(.applicationUpdated, app)))
            #expect(try await store.application(id: app) == changed)

            var cleared = changed
            cleared.relyingPartyID = nil
            cleared.origins = []
            #expect(try await store.updateApplicationSettings(cleared, audit: audit(.applicationUpdated, app)))
            #expect(try await store.application(id: app) == cleared)
            #expect(try await store.application(named: "shop") == cleared)
            #expect(try await store.applications() == [plain, cleared])

            // Set on an application that had none.
            var later = plain
            later.relyingPartyID = "localhost"
            later.origins = ["http://localhost:8080"]
            #expect(try await store.updateApplicationSettings(later, audit: audit(.applicationUpdated, otherApp)))
            #expect(try await store.applications() == [later, cleared])
        }
    }

    @Test("lists applications by name in byte order, whatever the database's collation", arguments: StoreUnderTest.all)
    func listsInByteOrder(_ backend: StoreUnderTest) async throws {
        try await backend.withFreshStore { store in
            let names = ["ab", "a_b", "a-c", "a.d", "b"]
            for (index, name) in names.enumerated() {
                let id = ApplicationID(rawValue: "app_" + String(repeating: Array("cdefg")[index], count: 26))!
                try await store.insertApplication(Application(id: id, name: name, createdAt: start), audit: audit(.applicationCreated, id))
            }
            #expect(try await store.applications().map(\.name) == ["a-c", "a.d", "a_b", "ab", "b"])
        }
    }

    @Test("a taken name is a conflict, and the refused insert writes no audit event", arguments: StoreUnderTest.all)
    func takenNameConflicts(_ backend: StoreUnderTest) async throws {
        try await backend.withFreshStore { store in
            try await store.insertApplication(Application(id: app, name: "default", createdAt: start), audit: audit(.applicationCreated, app))
            let error = await #expect(throws: TwofoldError.self) {
                try await store.insertApplication(Application(id: otherApp, name: "default", createdAt: start), audit: audit(.applicationCreated, otherApp))
            }
            #expect(error?.code == .conflict)
            try await store.insertApplication(Application(id: otherApp, name: "billing", createdAt: start), audit: audit(.applicationCreated, otherApp))
            // The failed insert wrote no audit event; the two successful ones did.
            #expect(try await store.auditEvents(AuditQuery()).count == 2)
        }
    }
}
