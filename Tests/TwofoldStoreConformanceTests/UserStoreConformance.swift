import Testing
import TwofoldCore
import TwofoldTesting

/// ``UserStore``: listing, resetting, unlocking and erasing what is held about a user.
@Suite("User store conformance")
struct UserStoreConformance: StoreFixtures {
    /// alice in `app` with two factors (one pending), a recovery code and a data key; bob with a
    /// data key in `otherApp`, and a failure (a throttle state, nothing else) in `app`.
    private func storeAliceAndBob(in store: any TwofoldStore) async throws {
        try await store.insertFactor(factor("a"), audit: audit(.factorEnrolled, app, alice))
        try await store.insertFactor(factor("b", status: .pending, expiresAt: start.addingTimeInterval(60)), audit: audit(.factorEnrolled, app, alice))
        try await store.replaceRecoveryCodes(applicationID: app, userID: alice, codes: [RecoveryCodeRecord(index: 0, hash: [1], createdAt: start)],
                                             audit: audit(.recoveryCodesGenerated, app, alice))
        _ = try await store.insertDataKeyIfAbsent(applicationID: app, userID: alice, key: WrappedKey(keyID: "mk", bytes: [1]))
        _ = try await store.insertDataKeyIfAbsent(applicationID: otherApp, userID: bob, key: WrappedKey(keyID: "mk", bytes: [1]))
        _ = try await attempt(store, request(user: bob), .reject(.invalidCode))
    }

    /// alice in `app` with a factor, a recovery code, a data key and a failure; bob with a factor.
    private func storeAliceToErase(in store: any TwofoldStore) async throws {
        try await store.insertFactor(factor("a"), audit: audit(.factorEnrolled, app, alice))
        try await store.replaceRecoveryCodes(applicationID: app, userID: alice, codes: [RecoveryCodeRecord(index: 0, hash: [1], createdAt: start)],
                                             audit: audit(.recoveryCodesGenerated, app, alice))
        _ = try await store.insertDataKeyIfAbsent(applicationID: app, userID: alice, key: WrappedKey(keyID: "mk", bytes: [1]))
        _ = try await attempt(store, request(), .reject(.invalidCode))
        try await store.insertFactor(factor("b", user: bob), audit: audit(.factorEnrolled, app, bob))
    }

    @Test("lists every user the application holds anything for, sorted", arguments: StoreUnderTest.all)
    func listsUsers(_ backend: StoreUnderTest) async throws {
        try await backend.withFreshStore { store in
            try await storeAliceAndBob(in: store)
            #expect(try await store.users(applicationID: app) == [alice, bob].sorted())
            #expect(try await store.users(applicationID: otherApp) == [bob])
        }
    }

    @Test("a reset deletes the user's factors and recovery codes, and counts them", arguments: StoreUnderTest.all)
    func resetDeletesFactorsAndCodes(_ backend: StoreUnderTest) async throws {
        try await backend.withFreshStore { store in
            try await storeAliceAndBob(in: store)
            let counts = try await store.resetUser(applicationID: app, userID: alice, audit: audit(.userReset, app, alice))
            #expect(counts.factors == 2)
            #expect(counts.recoveryCodes == 1)
            #expect(try await store.factors(applicationID: app, userID: alice).isEmpty)
            #expect(try await store.recoveryCodes(applicationID: app, userID: alice).isEmpty)
        }
    }

    @Test("unlocking clears the failures and the lock, and leaves no throttle state", arguments: StoreUnderTest.all)
    func unlockClearsTheThrottle(_ backend: StoreUnderTest) async throws {
        try await backend.withFreshStore { store in
            let policy = ThrottlePolicy(freeFailures: 0, baseDelay: 60, maximumDelay: 60)
            _ = try await attempt(store, request(throttle: policy), .reject(.invalidCode))
            #expect(try await store.throttleState(applicationID: app, userID: alice)?.lockedUntil != nil)
            try await store.unlockUser(applicationID: app, userID: alice, audit: audit(.userUnlocked, app, alice))
            #expect(try await store.throttleState(applicationID: app, userID: alice) == nil)
            #expect(try await attempt(store, request(throttle: policy), .reject(.invalidCode)) == .denied(.invalidCode, lockedUntil: start.addingTimeInterval(60)))
        }
    }

    @Test("erasing deletes everything held about the user, and nothing of anyone else's", arguments: StoreUnderTest.all)
    func eraseDeletesEverything(_ backend: StoreUnderTest) async throws {
        try await backend.withFreshStore { store in
            try await storeAliceToErase(in: store)
            try await store.eraseUser(applicationID: app, userID: alice, audit: audit(.userErased, app, alice, keepsUserID: false))
            #expect(try await store.factors(applicationID: app, userID: alice).isEmpty)
            #expect(try await store.recoveryCodes(applicationID: app, userID: alice).isEmpty)
            #expect(try await store.wrappedDataKey(applicationID: app, userID: alice) == nil)
            #expect(try await store.throttleState(applicationID: app, userID: alice) == nil)
            #expect(try await store.users(applicationID: app) == [bob])
            #expect(try await store.factors(applicationID: app, userID: bob).count == 1)
        }
    }

    @Test("erasing removes the user's id from audit events, which keep the pseudonym, and appends its own event last",
          arguments: StoreUnderTest.all)
    func eraseKeepsPseudonymsInTheAuditLog(_ backend: StoreUnderTest) async throws {
        try await backend.withFreshStore { store in
            try await storeAliceToErase(in: store)
            try await store.eraseUser(applicationID: app, userID: alice, audit: audit(.userErased, app, alice, keepsUserID: false))
            #expect(try await store.auditEvents(AuditQuery(applicationID: app, userID: alice)).isEmpty)
            let all = try await store.auditEvents(AuditQuery(limit: 100))
            let pseudonym = chain.pseudonym(applicationID: app, userID: alice)
            let aliceEvents = all.filter { $0.userReference == pseudonym }
            #expect(aliceEvents.count == 4)
            #expect(aliceEvents.allSatisfy { $0.userID == nil })
            #expect(aliceEvents.first?.action == AuditAction.userErased.rawValue)
            #expect(all.contains { $0.userID == bob.rawValue })
        }
    }
}
