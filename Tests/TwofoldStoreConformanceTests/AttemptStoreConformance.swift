import Foundation
import Testing
import TwofoldCore
import TwofoldTesting

/// ``AttemptStore``: the attempt's algorithm, step by step: the API key check, the lock check
/// without a decision, the snapshot, the compare-and-sets, the throttle, the audit event.
///
/// Throttle state exists only while a user has failures or a lock: success, `unlock` and
/// `no_factors` leave no row behind (so probing unknown user ids stores nothing about them).
@Suite("Attempt store conformance")
struct AttemptStoreConformance: StoreFixtures {
    // MARK: Compare-and-set

    @Test("accepts a step once, and then only a later one", arguments: StoreUnderTest.all)
    func acceptsAStepOnce(_ backend: StoreUnderTest) async throws {
        try await backend.withFreshStore { store in
            let f = factor("a")
            try await store.insertFactor(f, audit: audit(.factorEnrolled, app, alice))
            let accept5 = Acceptance.acceptStep(f.id, type: .totp, step: 5, drift: -1, activate: false)
            #expect(try await attempt(store, request(), .accept(accept5)) == .accepted(accept5))
            #expect(try await store.factors(applicationID: app, userID: alice).first?.lastAcceptedStep == 5)
            #expect(try await store.factors(applicationID: app, userID: alice).first?.drift == -1)
            #expect(try await attempt(store, request(), .accept(accept5)) == .denied(.replayed, lockedUntil: nil))
            #expect(try await attempt(store, request(), .acceptStep(f.id, type: .totp, step: 4, drift: 0, activate: false)) == .denied(.replayed, lockedUntil: nil))
            #expect(try await store.throttleState(applicationID: app, userID: alice)?.failures == 2)
            let accept6 = Acceptance.acceptStep(f.id, type: .totp, step: 6, drift: 0, activate: false)
            #expect(try await attempt(store, request(), .accept(accept6)) == .accepted(accept6))
            // Success clears the failures (no throttle state remains).
            #expect(try await store.throttleState(applicationID: app, userID: alice) == nil)
        }
    }

    @Test("a step of a pending factor is not accepted without activating it", arguments: StoreUnderTest.all)
    func pendingFactorStepIsNotConsumedByVerification(_ backend: StoreUnderTest) async throws {
        try await backend.withFreshStore { store in
            let pending = factor("p", status: .pending, expiresAt: start.addingTimeInterval(600))
            try await store.insertFactor(pending, audit: audit(.factorEnrolled, app, alice))
            let outcome = try await attempt(store, request(), .acceptStep(pending.id, type: .totp, step: 7, drift: 0, activate: false))
            #expect(outcome == .denied(.replayed, lockedUntil: nil))
            let stored = try #require(try await store.factors(applicationID: app, userID: alice).first)
            #expect(stored.status == .pending)
            #expect(stored.lastAcceptedStep == nil)
        }
    }

    @Test("a verification's snapshot holds the active factors and the data key", arguments: StoreUnderTest.all)
    func verificationSnapshot(_ backend: StoreUnderTest) async throws {
        try await backend.withFreshStore { store in
            let f = factor("a")
            try await store.insertFactor(f, audit: audit(.factorEnrolled, app, alice))
            _ = try await store.insertDataKeyIfAbsent(applicationID: app, userID: alice, key: WrappedKey(keyID: "mk", bytes: [1]))
            try await store.insertFactor(factor("p", status: .pending, expiresAt: start.addingTimeInterval(600)), audit: audit(.factorEnrolled, app, alice))
            let seen = try await store.attempt(request(), decide: { snapshot in
                #expect(snapshot.factors.map(\.id) == [f.id])
                #expect(snapshot.dataKey == WrappedKey(keyID: "mk", bytes: [1]))
                return .reject(.invalidCode)
            }, audit: { _ in audit(.verification, app, alice) })
            #expect(seen == .denied(.invalidCode, lockedUntil: nil))
        }
    }

    @Test("a pending factor is not in a verification's snapshot", arguments: StoreUnderTest.all)
    func pendingFactorsDoNotVerify(_ backend: StoreUnderTest) async throws {
        try await backend.withFreshStore { store in
            let pending = factor("a", status: .pending, expiresAt: start.addingTimeInterval(600))
            try await store.insertFactor(pending, audit: audit(.factorEnrolled, app, alice))
            let verifySnapshot = try await store.attempt(request(), decide: { snapshot in
                #expect(snapshot.factors.isEmpty, "pending factors do not verify logins")
                return .reject(.noFactors)
            }, audit: { _ in audit(.verification, app, alice) })
            #expect(verifySnapshot == .denied(.noFactors, lockedUntil: nil))
        }
    }

    @Test("activation turns a pending factor active, once", arguments: StoreUnderTest.all)
    func activationTurnsPendingActive(_ backend: StoreUnderTest) async throws {
        try await backend.withFreshStore { store in
            let pending = factor("a", status: .pending, expiresAt: start.addingTimeInterval(600))
            try await store.insertFactor(pending, audit: audit(.factorEnrolled, app, alice))
            let activation = Acceptance.acceptStep(pending.id, type: .totp, step: 100, drift: 0, activate: true)
            let outcome = try await store.attempt(request(.activate(pending.id), at: start.addingTimeInterval(5)), decide: { snapshot in
                #expect(snapshot.factors.map(\.id) == [pending.id])
                return .accept(activation)
            }, audit: { _ in audit(.factorActivated, app, alice) })
            #expect(outcome == .accepted(activation))
            let stored = try #require(try await store.factors(applicationID: app, userID: alice).first)
            #expect(stored.status == .active)
            #expect(stored.expiresAt == nil)
            #expect(stored.activatedAt == start.addingTimeInterval(5))
            #expect(stored.lastAcceptedStep == 100)
            // Activating an active factor loses the compare-and-set.
            #expect(try await attempt(store, request(.activate(pending.id)), .acceptStep(pending.id, type: .totp, step: 101, drift: 0, activate: true)) == .denied(.replayed, lockedUntil: nil))
        }
    }

    @Test("of 100 concurrent attempts with one step, one is accepted", arguments: StoreUnderTest.all)
    func concurrentAttemptsAcceptOnce(_ backend: StoreUnderTest) async throws {
        try await backend.withFreshStore { store in
            let f = factor("a")
            try await store.insertFactor(f, audit: audit(.factorEnrolled, app, alice))
            let decision = Acceptance.acceptStep(f.id, type: .totp, step: 42, drift: 0, activate: false)
            let outcomes = try await withThrowingTaskGroup(of: AttemptOutcome.self) { group in
                for _ in 0..<100 {
                    group.addTask { try await attempt(store, request(throttle: ThrottlePolicy(freeFailures: 100)), .accept(decision)) }
                }
                return try await group.reduce(into: []) { $0.append($1) }
            }
            #expect(outcomes.filter { $0 == .accepted(decision) }.count == 1)
            #expect(outcomes.filter { $0 == .denied(.replayed, lockedUntil: nil) }.count == 99)
            #expect(try await store.auditEvents(AuditQuery(applicationID: app, userID: alice, limit: 500)).count == 101)
        }
    }

    @Test("attempts of many users arriving together each get the outcome, writes and event they would get alone",
          arguments: StoreUnderTest.all)
    func manyUsersAtOnce(_ backend: StoreUnderTest) async throws {
        try await backend.withFreshStore { store in
            try await ManyUsersAtOnce(application: app, chain: chain, start: start).check(on: store)
        }
    }

    @Test("a recovery code is accepted once", arguments: StoreUnderTest.all)
    func recoveryCodesAreSingleUse(_ backend: StoreUnderTest) async throws {
        try await backend.withFreshStore { store in
            // Recovery codes are stored only for a user with an active factor.
            try await store.insertFactor(factor("a"), audit: audit(.factorEnrolled, app, alice))
            #expect(try await store.replaceRecoveryCodes(applicationID: app, userID: alice, codes: tenRecoveryCodes,
                                                         audit: audit(.recoveryCodesGenerated, app, alice)))
            let use3 = Acceptance.acceptRecoveryCode(index: 3, remaining: 9)
            let seen = try await store.attempt(request(), decide: { snapshot in
                #expect(snapshot.recoveryCodes.count == 10)
                return .accept(use3)
            }, audit: { _ in audit(.verification, app, alice) })
            #expect(seen == .accepted(use3))
            let remaining = try await store.attempt(request(), decide: { snapshot in
                #expect(snapshot.recoveryCodes.map(\.index) == [0, 1, 2, 4, 5, 6, 7, 8, 9])
                return .accept(use3)
            }, audit: { _ in audit(.verification, app, alice) })
            #expect(remaining == .denied(.invalidCode, lockedUntil: nil))
            let stored = try await store.recoveryCodes(applicationID: app, userID: alice)
            #expect(stored.count == 10)
            #expect(stored.first { $0.index == 3 }?.usedAt == start)
        }
    }

    // MARK: Throttle

    @Test("failures lock the user with growing delays, and a locked user's code is not evaluated", arguments: StoreUnderTest.all)
    func throttleLocksWithoutDeciding(_ backend: StoreUnderTest) async throws {
        try await backend.withFreshStore { store in
            let policy = ThrottlePolicy(freeFailures: 2, baseDelay: 60, maximumDelay: 600)
            var outcomes: [AttemptOutcome] = []
            for _ in 0..<3 {
                outcomes.append(try await attempt(store, request(throttle: policy), .reject(.invalidCode)))
            }
            let lockEnd = start.addingTimeInterval(60)
            #expect(outcomes == [.denied(.invalidCode, lockedUntil: nil), .denied(.invalidCode, lockedUntil: nil), .denied(.invalidCode, lockedUntil: lockEnd)])
            #expect(try await store.throttleState(applicationID: app, userID: alice) == ThrottleState(failures: 3, lockedUntil: lockEnd))
            let locked = try await store.attempt(request(at: start.addingTimeInterval(59), throttle: policy), decide: { _ in
                Issue.record("a locked user's code must not be evaluated")
                return .reject(.invalidCode)
            }, audit: { outcome in
                #expect(outcome == .locked(until: lockEnd))
                return audit(.verification, app, alice)
            })
            #expect(locked == .locked(until: lockEnd))
            // Another user and another application are not affected.
            #expect(try await attempt(store, request(user: bob, throttle: policy), .reject(.invalidCode)) == .denied(.invalidCode, lockedUntil: nil))
            // After the lock, the next failure doubles it.
            let later = start.addingTimeInterval(61)
            #expect(try await attempt(store, request(at: later, throttle: policy), .reject(.replayed)) == .denied(.replayed, lockedUntil: later.addingTimeInterval(120)))
            #expect(try await store.auditEvents(AuditQuery(applicationID: app, userID: alice)).count == 5)
        }
    }

    @Test("no_factors and locked refusals count no failure and leave nothing behind",
          arguments: StoreUnderTest.all, [DenialReason.noFactors, .locked])
    func uncountedRefusals(_ backend: StoreUnderTest, reason: DenialReason) async throws {
        try await backend.withFreshStore { store async throws in
            for _ in 0..<10 {
                #expect(try await attempt(store, request(throttle: ThrottlePolicy(freeFailures: 1)), .reject(reason)) == .denied(reason, lockedUntil: nil))
            }
            // No row is left behind for a user id that was only probed.
            #expect(try await store.throttleState(applicationID: app, userID: alice) == nil)
            #expect(try await store.users(applicationID: app).isEmpty)
        }
    }

    // MARK: Refusals that write nothing

    @Test("a decision that throws writes nothing, and its error is rethrown as it is", arguments: StoreUnderTest.all)
    func throwingDecisionChangesNothing(_ backend: StoreUnderTest) async throws {
        try await backend.withFreshStore { store async throws in
            struct Refused: Error {}
            await #expect(throws: Refused.self) {
                try await store.attempt(request(), decide: { _ in throw Refused() }, audit: { _ in audit(.verification, app, alice) })
            }
            let notFound = TwofoldError(.notFound, "factor not found")
            await #expect(throws: notFound) {
                try await store.attempt(request(), decide: { _ in throw notFound }, audit: { _ in audit(.verification, app, alice) })
            }
            #expect((try await store.throttleState(applicationID: app, userID: alice)?.failures ?? 0) == 0)
            #expect(try await store.auditEvents(AuditQuery()).isEmpty)
        }
    }

    /// An attempt that names an API key runs only while that key exists unrevoked; otherwise it
    /// throws `unauthorized` before anything is decided or written.
    @Test("an attempt naming a revoked or unknown API key is refused before it is decided", arguments: StoreUnderTest.all)
    func attemptChecksTheAPIKey(_ backend: StoreUnderTest) async throws {
        try await backend.withFreshStore { store in
            let key = APIKeyRecord(id: "key_aaaaaaaaaaaaaaaa", applicationID: app, scopes: [.verify], secretHash: [1], createdAt: start)
            try await store.insertAPIKey(key, audit: audit(.apiKeyCreated, app))
            let f = factor("a")
            try await store.insertFactor(f, audit: audit(.factorEnrolled, app, alice))
            var keyed = request()
            keyed.apiKeyID = key.id
            let accept5 = Acceptance.acceptStep(f.id, type: .totp, step: 5, drift: 0, activate: false)
            #expect(try await attempt(store, keyed, .accept(accept5)) == .accepted(accept5))
            #expect(try await store.revokeAPIKey(id: key.id, at: start, audit: audit(.apiKeyRevoked, app)))
            let events = try await store.auditEvents(AuditQuery()).count
            let accept6 = Acceptance.acceptStep(f.id, type: .totp, step: 6, drift: 0, activate: false)
            var unknown = request()
            unknown.apiKeyID = "key_zzzzzzzzzzzzzzzz"
            for rejected in [keyed, unknown] {
                let error = await #expect(throws: TwofoldError.self) {
                    try await store.attempt(rejected, decide: { _ in
                        Issue.record("an attempt with a revoked or unknown key must not be decided")
                        return .accept(accept6)
                    }, audit: { _ in audit(.verification, app, alice) })
                }
                #expect(error?.code == .unauthorized)
            }
            #expect(try await store.factors(applicationID: app, userID: alice).first?.lastAcceptedStep == 5)
            #expect(try await store.auditEvents(AuditQuery()).count == events)
            #expect(try await store.throttleState(applicationID: app, userID: alice) == nil)
            // Without a key to check, the same attempt goes through.
            #expect(try await attempt(store, request(), .accept(accept6)) == .accepted(accept6))
        }
    }

    @Test("a locked user's attempt naming a revoked API key is refused, not recorded as locked", arguments: StoreUnderTest.all)
    func apiKeyIsCheckedBeforeTheLock(_ backend: StoreUnderTest) async throws {
        try await backend.withFreshStore { store in
            let key = APIKeyRecord(id: "key_aaaaaaaaaaaaaaaa", applicationID: app, scopes: [.verify], secretHash: [1], createdAt: start)
            try await store.insertAPIKey(key, audit: audit(.apiKeyCreated, app))
            #expect(try await store.revokeAPIKey(id: key.id, at: start, audit: audit(.apiKeyRevoked, app)))
            let policy = ThrottlePolicy(freeFailures: 0, baseDelay: 60, maximumDelay: 60)
            #expect(try await attempt(store, request(throttle: policy), .reject(.invalidCode)) == .denied(.invalidCode, lockedUntil: start.addingTimeInterval(60)))
            let events = try await store.auditEvents(AuditQuery()).count
            var keyed = request(at: start.addingTimeInterval(1), throttle: policy)
            keyed.apiKeyID = key.id
            let error = await #expect(throws: TwofoldError.self) {
                try await store.attempt(keyed, decide: { _ in
                    Issue.record("an attempt with a revoked key must not be decided")
                    return .reject(.invalidCode)
                }, audit: { _ in audit(.verification, app, alice) })
            }
            #expect(error?.code == .unauthorized)
            #expect(try await store.auditEvents(AuditQuery()).count == events)
            #expect(try await store.throttleState(applicationID: app, userID: alice) == ThrottleState(failures: 1, lockedUntil: start.addingTimeInterval(60)))
        }
    }
}
