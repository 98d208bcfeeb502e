import Testing
import TwofoldCore
import TwofoldTesting

/// ``FactorStore``: a user's factors and recovery codes, reachable only through that user.
@Suite("Factor store conformance")
struct FactorStoreConformance: StoreFixtures {
    @Test("lists a user's factors oldest first, apart from other users and applications", arguments: StoreUnderTest.all)
    func listsFactorsOfOneUser(_ backend: StoreUnderTest) async throws {
        try await backend.withFreshStore { store in
            let a = factor("a", status: .pending, expiresAt: start.addingTimeInterval(600))
            let b = factor("b")
            try await store.insertFactor(a, audit: audit(.factorEnrolled, app, alice))
            try await store.insertFactor(b, audit: audit(.factorEnrolled, app, alice))
            try await store.insertFactor(factor("c", user: bob), audit: audit(.factorEnrolled, app, bob))
            try await store.insertFactor(factor("d", application: otherApp), audit: audit(.factorEnrolled, otherApp, alice))
            #expect(try await store.factors(applicationID: app, userID: alice) == [a, b])
            #expect(try await store.factors(applicationID: app, userID: bob).count == 1)
            #expect(try await store.factors(applicationID: otherApp, userID: alice).count == 1)
        }
    }

    @Test("deletes the pending factors that expired before a time, and only those", arguments: StoreUnderTest.all)
    func deletesExpiredPendingFactors(_ backend: StoreUnderTest) async throws {
        try await backend.withFreshStore { store in
            let b = factor("b")
            try await store.insertFactor(factor("a", status: .pending, expiresAt: start.addingTimeInterval(600)), audit: audit(.factorEnrolled, app, alice))
            try await store.insertFactor(b, audit: audit(.factorEnrolled, app, alice))
            #expect(try await store.deleteExpiredPendingFactors(before: start.addingTimeInterval(599)) == 0)
            #expect(try await store.deleteExpiredPendingFactors(before: start.addingTimeInterval(601)) == 1)
            #expect(try await store.factors(applicationID: app, userID: alice) == [b])
        }
    }

    @Test("deletes a factor only through its own user and application", arguments: StoreUnderTest.all)
    func deletesOnlyThroughItsUser(_ backend: StoreUnderTest) async throws {
        try await backend.withFreshStore { store in
            let b = factor("b")
            let bobsFactor = factor("c", user: bob)
            try await store.insertFactor(b, audit: audit(.factorEnrolled, app, alice))
            try await store.insertFactor(bobsFactor, audit: audit(.factorEnrolled, app, bob))
            try await store.insertFactor(factor("d", application: otherApp), audit: audit(.factorEnrolled, otherApp, alice))
            #expect(try await store.deleteFactor(applicationID: app, userID: alice, factorID: b.id, audit: audit(.factorDeleted, app, alice)))
            #expect(try await store.factors(applicationID: app, userID: alice).isEmpty)
            // Another user's or application's factor is not reachable through this user.
            #expect(try await store.deleteFactor(applicationID: app, userID: alice, factorID: bobsFactor.id, audit: audit(.factorDeleted, app, alice)) == false)
            #expect(try await store.factors(applicationID: app, userID: bob).count == 1)
            #expect(try await store.factors(applicationID: otherApp, userID: alice).count == 1)
        }
    }

    @Test("steps above 2^63 keep their value and their unsigned order", arguments: StoreUnderTest.all)
    func highStepsKeepTheirOrder(_ backend: StoreUnderTest) async throws {
        try await backend.withFreshStore { store in
            let high = factor("e", last: UInt64.max - 1)
            try await store.insertFactor(high, audit: audit(.factorEnrolled, app, alice))
            #expect(try await store.factors(applicationID: app, userID: alice).first?.lastAcceptedStep == UInt64.max - 1)
            let accept = Acceptance.acceptStep(high.id, type: .totp, step: UInt64.max, drift: 0, activate: false)
            #expect(try await attempt(store, request(), .accept(accept)) == .accepted(accept))
            #expect(try await attempt(store, request(), .acceptStep(high.id, type: .totp, step: 5, drift: 0, activate: false)) == .denied(.replayed, lockedUntil: nil))
        }
    }

    @Test("a new set of recovery codes replaces the old one entirely, used codes included", arguments: StoreUnderTest.all)
    func recoveryCodesAreReplaced(_ backend: StoreUnderTest) async throws {
        try await backend.withFreshStore { store in
            try await store.insertFactor(factor("a"), audit: audit(.factorEnrolled, app, alice))
            #expect(try await store.replaceRecoveryCodes(applicationID: app, userID: alice, codes: tenRecoveryCodes,
                                                         audit: audit(.recoveryCodesGenerated, app, alice)))
            #expect(try await store.recoveryCodes(applicationID: app, userID: alice) == tenRecoveryCodes)
            #expect(try await attempt(store, request(), .acceptRecoveryCode(index: 3, remaining: 9)) == .accepted(.acceptRecoveryCode(index: 3, remaining: 9)))
            #expect(try await store.replaceRecoveryCodes(applicationID: app, userID: alice, codes: [RecoveryCodeRecord(index: 0, hash: [42], createdAt: start)],
                                                         audit: audit(.recoveryCodesGenerated, app, alice)))
            #expect(try await store.recoveryCodes(applicationID: app, userID: alice) == [RecoveryCodeRecord(index: 0, hash: [42], createdAt: start)])
            #expect(try await store.recoveryCodes(applicationID: app, userID: bob).isEmpty)
        }
    }

    @Test("recovery codes are refused, and nothing written, to a user without an active factor", arguments: StoreUnderTest.all)
    func recoveryCodesNeedAnActiveFactor(_ backend: StoreUnderTest) async throws {
        try await backend.withFreshStore { store in
            // bob: nothing stored. alice: a pending factor and a failure. Both in `otherApp`: an active factor.
            try await store.insertFactor(factor("p", status: .pending, expiresAt: start.addingTimeInterval(600)), audit: audit(.factorEnrolled, app, alice))
            _ = try await attempt(store, request(), .reject(.invalidCode))
            try await store.insertFactor(factor("o", application: otherApp), audit: audit(.factorEnrolled, otherApp, alice))
            try await store.insertFactor(factor("q", user: bob, application: otherApp), audit: audit(.factorEnrolled, otherApp, bob))
            let events = try await store.auditEvents(AuditQuery(limit: 1_000))
            for user in [alice, bob] {
                #expect(try await !store.replaceRecoveryCodes(applicationID: app, userID: user, codes: tenRecoveryCodes,
                                                              audit: audit(.recoveryCodesGenerated, app, user)), "\(user)")
                #expect(try await store.recoveryCodes(applicationID: app, userID: user).isEmpty)
            }
            #expect(try await store.auditEvents(AuditQuery(limit: 1_000)) == events)
            #expect(try await store.users(applicationID: app) == [alice])
            // Once the factor is active (here: another factor), the codes are stored.
            try await store.insertFactor(factor("b"), audit: audit(.factorEnrolled, app, alice))
            #expect(try await store.replaceRecoveryCodes(applicationID: app, userID: alice, codes: tenRecoveryCodes,
                                                         audit: audit(.recoveryCodesGenerated, app, alice)))
            #expect(try await store.recoveryCodes(applicationID: app, userID: alice) == tenRecoveryCodes)
        }
    }
}
