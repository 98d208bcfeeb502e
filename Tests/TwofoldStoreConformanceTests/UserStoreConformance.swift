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
            let counts = try #require(try await store.resetUser(applicationID: app, userID: alice, audit: audit(.userReset, app, alice)))
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
            #expect(try await store.unlockUser(applicationID: app, userID: alice, audit: audit(.userUnlocked, app, alice)))
            #expect(try await store.throttleState(applicationID: app, userID: alice) == nil)
            #expect(try await attempt(store, request(throttle: policy), .reject(.invalidCode)) == .denied(.invalidCode, lockedUntil: start.addingTimeInterval(60)))
        }
    }

    @Test("erasing deletes everything held about the user, and nothing of anyone else's", arguments: StoreUnderTest.all)
    func eraseDeletesEverything(_ backend: StoreUnderTest) async throws {
        try await backend.withFreshStore { store in
            try await storeAliceToErase(in: store)
            #expect(try await store.eraseUser(applicationID: app, userID: alice, audit: audit(.userErased, app, alice, keepsUserID: false)))
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
            #expect(try await store.eraseUser(applicationID: app, userID: alice, audit: audit(.userErased, app, alice, keepsUserID: false)))
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

    // MARK: A user with nothing stored

    @Test("a user has something stored with any one of a factor, a recovery code, a throttle state or a data key, in that application only",
          arguments: StoreUnderTest.all)
    func storesAnythingCountsEveryKind(_ backend: StoreUnderTest) async throws {
        try await backend.withFreshStore { store in
            let carol = try UserID("carol")
            let dave = try UserID("dave")
            #expect(try await !store.storesAnything(applicationID: app, userID: alice))
            try await store.insertFactor(factor("p", status: .pending, expiresAt: start.addingTimeInterval(60)), audit: audit(.factorEnrolled, app, alice))
            _ = try await attempt(store, request(user: bob), .reject(.invalidCode))
            _ = try await store.insertDataKeyIfAbsent(applicationID: app, userID: carol, key: WrappedKey(keyID: "mk", bytes: [1]))
            // Recovery codes alone: left behind when their user's only factor is deleted.
            try await store.insertFactor(factor("d", user: dave), audit: audit(.factorEnrolled, app, dave))
            #expect(try await store.replaceRecoveryCodes(applicationID: app, userID: dave, codes: tenRecoveryCodes,
                                                         audit: audit(.recoveryCodesGenerated, app, dave)))
            #expect(try await store.deleteFactor(applicationID: app, userID: dave, factorID: factor("d", user: dave).id,
                                                 audit: audit(.factorDeleted, app, dave)))
            for user in [alice, bob, carol, dave] {
                #expect(try await store.storesAnything(applicationID: app, userID: user), "\(user)")
                #expect(try await !store.storesAnything(applicationID: otherApp, userID: user), "\(user)")
            }
            #expect(try await !store.storesAnything(applicationID: app, userID: try UserID("nobody")))
            // Audit events alone do not make a user.
            let erin = try UserID("erin")
            try await store.appendAudit(audit(.userExported, app, erin))
            #expect(try await !store.storesAnything(applicationID: app, userID: erin))
        }
    }

    @Test("resetting or unlocking a user with nothing stored answers so and writes nothing, not even the audit event",
          arguments: StoreUnderTest.all)
    func resetAndUnlockOfNobodyWriteNothing(_ backend: StoreUnderTest) async throws {
        try await backend.withFreshStore { store in
            try await storeAliceAndBob(in: store)
            let events = try await store.auditEvents(AuditQuery(limit: 1_000))
            let nobody = try UserID("nobody")
            #expect(try await store.resetUser(applicationID: app, userID: nobody, audit: audit(.userReset, app, nobody)) == nil)
            #expect(try await !store.unlockUser(applicationID: app, userID: nobody, audit: audit(.userUnlocked, app, nobody)))
            // alice's rows are all in `app`: in `otherApp` she is a stranger.
            #expect(try await store.resetUser(applicationID: otherApp, userID: alice, audit: audit(.userReset, otherApp, alice)) == nil)
            #expect(try await store.auditEvents(AuditQuery(limit: 1_000)) == events)
            #expect(try await store.users(applicationID: app) == [alice, bob].sorted())
            #expect(try await store.users(applicationID: otherApp) == [bob])
            // A user with anything stored is acted on, even with nothing to delete or clear.
            #expect(try await store.resetUser(applicationID: otherApp, userID: bob, audit: audit(.userReset, otherApp, bob)).map { [$0.factors, $0.recoveryCodes] } == [0, 0])
            #expect(try await store.unlockUser(applicationID: otherApp, userID: bob, audit: audit(.userUnlocked, otherApp, bob)))
            #expect(try await store.auditEvents(AuditQuery(limit: 1_000)).count == events.count + 2)
        }
    }

    @Test("erasing a user with nothing to erase answers false and writes nothing; one only named by audit events is erased",
          arguments: StoreUnderTest.all)
    func eraseOfNobodyWritesNothing(_ backend: StoreUnderTest) async throws {
        try await backend.withFreshStore { store in
            try await storeAliceToErase(in: store)
            #expect(try await store.eraseUser(applicationID: app, userID: alice, audit: audit(.userErased, app, alice, keepsUserID: false)))
            let events = try await store.auditEvents(AuditQuery(limit: 1_000))
            // Erasing again, or erasing a stranger, finds nothing.
            #expect(try await !store.eraseUser(applicationID: app, userID: alice, audit: audit(.userErased, app, alice, keepsUserID: false)))
            let nobody = try UserID("nobody")
            #expect(try await !store.eraseUser(applicationID: app, userID: nobody, audit: audit(.userErased, app, nobody, keepsUserID: false)))
            #expect(try await store.auditEvents(AuditQuery(limit: 1_000)) == events)
            // carol's only trace is an event naming her: erasing her removes her id from it.
            let carol = try UserID("carol")
            try await store.appendAudit(audit(.userExported, app, carol))
            #expect(try await !store.storesAnything(applicationID: app, userID: carol))
            #expect(try await store.eraseUser(applicationID: app, userID: carol, audit: audit(.userErased, app, carol, keepsUserID: false)))
            #expect(try await store.auditEvents(AuditQuery(applicationID: app, userID: carol)).isEmpty)
            #expect(try await store.auditEvents(AuditQuery(limit: 1_000)).count == events.count + 2)
        }
    }

    @Test("a reset, unlock or new set of recovery codes racing an erasure never acts on the erased user",
          arguments: StoreUnderTest.all)
    func actionsRacingAnErasureFindNobody(_ backend: StoreUnderTest) async throws {
        try await backend.withFreshStore { store in
            for round in 0..<12 {
                let user = try UserID("racer-\(round)")
                let letters = Array("abcdefghijklmnopqrstuvwxyz")
                let own = FactorRecord(
                    id: FactorID(rawValue: "fac_" + String(repeating: "r", count: 25) + String(letters[round]))!, applicationID: app,
                    userID: user, type: .totp, status: .active, createdAt: start, label: "racer", issuer: nil, algorithm: .sha1,
                    digits: 6, period: 30, sealedSecret: [1])
                try await store.insertFactor(own, audit: audit(.factorEnrolled, app, user))
                _ = try await attempt(store, request(user: user), .reject(.invalidCode))
                try await withThrowingTaskGroup(of: Void.self) { group in
                    group.addTask {
                        _ = try await store.eraseUser(applicationID: app, userID: user, audit: audit(.userErased, app, user, keepsUserID: false))
                    }
                    switch round % 3 {
                    case 0:
                        group.addTask { _ = try await store.resetUser(applicationID: app, userID: user, audit: audit(.userReset, app, user)) }
                    case 1:
                        group.addTask { _ = try await store.unlockUser(applicationID: app, userID: user, audit: audit(.userUnlocked, app, user)) }
                    default:
                        group.addTask {
                            _ = try await store.replaceRecoveryCodes(applicationID: app, userID: user, codes: tenRecoveryCodes,
                                                                     audit: audit(.recoveryCodesGenerated, app, user))
                        }
                    }
                    try await group.waitForAll()
                }
                // Whichever ran second found nothing (and wrote nothing) or was erased: an event
                // naming the user, or a row of theirs, would have been written after the erasure.
                #expect(try await store.auditEvents(AuditQuery(applicationID: app, userID: user)).isEmpty, "round \(round)")
                #expect(try await !store.storesAnything(applicationID: app, userID: user), "round \(round)")
            }
        }
    }
}
