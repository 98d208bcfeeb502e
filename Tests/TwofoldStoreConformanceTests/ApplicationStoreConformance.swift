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
