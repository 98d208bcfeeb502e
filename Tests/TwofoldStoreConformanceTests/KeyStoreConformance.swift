import Testing
import TwofoldCore
import TwofoldTesting

/// ``KeyStore``: a data or system key is stored once, and re-wrapped by compare-and-set.
@Suite("Key store conformance")
struct KeyStoreConformance: StoreFixtures {
    let first = WrappedKey(keyID: "mk_1", bytes: [1, 2, 3])
    let second = WrappedKey(keyID: "mk_1", bytes: [4, 5, 6])

    @Test("stores a user's data key once, apart from other applications", arguments: StoreUnderTest.all)
    func storesADataKeyOnce(_ backend: StoreUnderTest) async throws {
        try await backend.withFreshStore { store async throws in
            #expect(try await store.wrappedDataKey(applicationID: app, userID: alice) == nil)
            #expect(try await store.insertDataKeyIfAbsent(applicationID: app, userID: alice, key: first) == first)
            #expect(try await store.insertDataKeyIfAbsent(applicationID: app, userID: alice, key: second) == first)
            #expect(try await store.wrappedDataKey(applicationID: app, userID: alice) == first)
            #expect(try await store.wrappedDataKey(applicationID: otherApp, userID: alice) == nil)
        }
    }

    @Test("stores a system key once, and counts data and system keys by master key", arguments: StoreUnderTest.all)
    func storesASystemKeyOnce(_ backend: StoreUnderTest) async throws {
        try await backend.withFreshStore { store in
            _ = try await store.insertDataKeyIfAbsent(applicationID: app, userID: alice, key: first)
            #expect(try await store.systemKey(named: "audit-mac") == nil)
            #expect(try await store.insertSystemKeyIfAbsent(named: "audit-mac", key: second) == second)
            #expect(try await store.insertSystemKeyIfAbsent(named: "audit-mac", key: first) == second)
            #expect(try await store.systemKey(named: "audit-mac") == second)
            #expect(try await store.keyUsage() == ["mk_1": 2])
        }
    }

    @Test("re-wrapping is a compare-and-set on the whole stored value", arguments: StoreUnderTest.all)
    func rewrapIsCompareAndSet(_ backend: StoreUnderTest) async throws {
        try await backend.withFreshStore { store in
            let old = WrappedKey(keyID: "mk_old", bytes: [1])
            _ = try await store.insertDataKeyIfAbsent(applicationID: app, userID: alice, key: old)
            _ = try await store.insertDataKeyIfAbsent(applicationID: app, userID: bob, key: WrappedKey(keyID: "mk_new", bytes: [2]))
            _ = try await store.insertSystemKeyIfAbsent(named: "audit-mac", key: WrappedKey(keyID: "mk_old", bytes: [3]))
            let pending = try await store.keysNotWrapped(by: "mk_new", limit: 10)
            #expect(pending.count == 2)
            #expect(pending.contains(StoredKey(owner: .user(app, alice), key: old)))
            let new = WrappedKey(keyID: "mk_new", bytes: [9])
            #expect(try await store.rewrap(.user(app, alice), from: old, to: new))
            // A second rotation that read the old value loses its compare-and-set.
            #expect(try await store.rewrap(.user(app, alice), from: old, to: WrappedKey(keyID: "mk_new", bytes: [8])) == false)
            #expect(try await store.wrappedDataKey(applicationID: app, userID: alice) == new)
            #expect(try await store.rewrap(.system("audit-mac"), from: WrappedKey(keyID: "mk_old", bytes: [3]), to: WrappedKey(keyID: "mk_new", bytes: [4])))
            #expect(try await store.keysNotWrapped(by: "mk_new", limit: 10).isEmpty)
            #expect(try await store.keyUsage() == ["mk_new": 3])
        }
    }

    @Test("keys to re-wrap come data keys first by owner, then system keys by name, in byte order", arguments: StoreUnderTest.all)
    func keysToRewrapInOrder(_ backend: StoreUnderTest) async throws {
        try await backend.withFreshStore { store in
            let old = WrappedKey(keyID: "mk_old", bytes: [1])
            _ = try await store.insertSystemKeyIfAbsent(named: "audit-pseudonym", key: old)
            _ = try await store.insertSystemKeyIfAbsent(named: "audit-mac", key: old)
            for user in ["b", "a", "Z"] {
                _ = try await store.insertDataKeyIfAbsent(applicationID: otherApp, userID: try UserID(user), key: old)
            }
            _ = try await store.insertDataKeyIfAbsent(applicationID: app, userID: bob, key: old)
            let expected: [StoredKey.Owner] = [
                .user(app, bob), .user(otherApp, try UserID("Z")), .user(otherApp, try UserID("a")), .user(otherApp, try UserID("b")),
                .system("audit-mac"), .system("audit-pseudonym"),
            ]
            #expect(try await store.keysNotWrapped(by: "mk_new", limit: 10).map(\.owner) == expected)
            // A page ends where the order says, whichever kind of key is next.
            #expect(try await store.keysNotWrapped(by: "mk_new", limit: 5).map(\.owner) == Array(expected.prefix(5)))
        }
    }
}
