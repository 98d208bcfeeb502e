import Foundation
import Testing
import TwofoldCore
import TwofoldOTP

/// The behaviour every ``Store`` must have, run against each implementation (SQLite and
/// PostgreSQL). Each store's test target runs every ``Check`` as one test case, passing a factory
/// that returns a fresh, empty, migrated store.
///
/// Throttle state exists only while a user has failures or a lock: success, `unlock` and
/// `no_factors` leave no row behind (so probing unknown user ids stores nothing about them).
public struct StoreConformance: Sendable {
    public let makeStore: @Sendable () async throws -> any Store

    public init(makeStore: @escaping @Sendable () async throws -> any Store) {
        self.makeStore = makeStore
    }

    /// Every behaviour of the suite, by name: a store's test target takes them as arguments.
    public enum Check: String, CaseIterable, Sendable {
        case applications
        case apiKeys
        case dataAndSystemKeys
        case keyRotationCompareAndSet
        case factors
        case acceptStepIsCompareAndSet
        case activationTurnsPendingActive
        case concurrentAttemptsAcceptOnce
        case manyUsersAtOnce
        case throttleLocksWithoutDeciding
        case noFactorsDoesNotCount
        case throwingDecisionChangesNothing
        case attemptChecksTheAPIKey
        case recoveryCodesAreSingleUse
        case resetUnlockAndUsers
        case eraseRemovesEverything
        case auditQueriesAndChains
        case auditPurgeReanchors
    }

    /// Runs one behaviour against a fresh store.
    public func run(_ check: Check) async throws {
        switch check {
        case .applications: try await applications()
        case .apiKeys: try await apiKeys()
        case .dataAndSystemKeys: try await dataAndSystemKeys()
        case .keyRotationCompareAndSet: try await keyRotationCompareAndSet()
        case .factors: try await factors()
        case .acceptStepIsCompareAndSet: try await acceptStepIsCompareAndSet()
        case .activationTurnsPendingActive: try await activationTurnsPendingActive()
        case .concurrentAttemptsAcceptOnce: try await concurrentAttemptsAcceptOnce()
        case .manyUsersAtOnce: try await manyUsersAtOnce(on: try await makeStore())
        case .throttleLocksWithoutDeciding: try await throttleLocksWithoutDeciding()
        case .noFactorsDoesNotCount: try await noFactorsDoesNotCount()
        case .throwingDecisionChangesNothing: try await throwingDecisionChangesNothing()
        case .attemptChecksTheAPIKey: try await attemptChecksTheAPIKey()
        case .recoveryCodesAreSingleUse: try await recoveryCodesAreSingleUse()
        case .resetUnlockAndUsers: try await resetUnlockAndUsers()
        case .eraseRemovesEverything: try await eraseRemovesEverything()
        case .auditQueriesAndChains: try await auditQueriesAndChains()
        case .auditPurgeReanchors: try await auditPurgeReanchors()
        }
    }

    let chain = AuditChain(macKeyBytes: Array(repeating: 7, count: 32), pseudonymKeyBytes: Array(repeating: 9, count: 32))
    let app = ApplicationID(rawValue: "app_aaaaaaaaaaaaaaaaaaaaaaaaaa")!
    let otherApp = ApplicationID(rawValue: "app_bbbbbbbbbbbbbbbbbbbbbbbbbb")!
    let alice = try! UserID("alice@example.com")
    let bob = try! UserID("bob")
    let start = Date(timeIntervalSince1970: 1_700_000_000)

    func audit(_ action: AuditAction = .verification, _ application: ApplicationID? = nil, _ user: UserID? = nil,
               at time: Date? = nil, keepsUserID: Bool = true) -> AuditAppend {
        AuditAppend(AuditDraft(time: time ?? start, applicationID: application, userID: user, actor: "test", action: action,
                               outcome: "success", keepsUserID: keepsUserID), chain: chain)
    }

    func factor(_ id: String, user: UserID? = nil, status: FactorStatus = .active, last: UInt64? = nil, expiresAt: Date? = nil,
                application: ApplicationID? = nil) -> FactorRecord {
        FactorRecord(
            id: FactorID(rawValue: "fac_" + String(repeating: id, count: 26))!, applicationID: application ?? app,
            userID: user ?? alice, type: .totp, status: status, createdAt: start, expiresAt: expiresAt, label: "alice",
            issuer: "ACME", algorithm: .sha256, digits: 8, period: 30, sealedSecret: Array("opaque-\(id)".utf8),
            lastAcceptedStep: last)
    }

    func request(_ purpose: AttemptRequest.Purpose = .verify, user: UserID? = nil, at time: Date? = nil,
                 throttle: ThrottlePolicy = ThrottlePolicy()) -> AttemptRequest {
        AttemptRequest(applicationID: app, userID: user ?? alice, purpose: purpose, now: time ?? start, throttle: throttle,
                       auditShard: chain.shard(applicationID: app, userID: user ?? alice))
    }

    func attempt(_ store: any Store, _ request: AttemptRequest, _ decision: AttemptDecision) async throws -> AttemptOutcome {
        try await store.attempt(request, decide: { _ in decision }, audit: { _ in audit(.verification, app, request.userID) })
    }

    // MARK: - Applications and keys

    func applications() async throws {
        let store = try await makeStore()
        let application = Application(id: app, name: "default", createdAt: start)
        try await store.insertApplication(application, audit: audit(.applicationCreated, app))
        #expect(try await store.application(named: "default") == application)
        #expect(try await store.application(named: "other") == nil)
        await #expect {
            try await store.insertApplication(Application(id: otherApp, name: "default", createdAt: start), audit: audit(.applicationCreated, otherApp))
        } throws: { error in
            (error as? TwofoldError)?.code == .conflict
        }
        try await store.insertApplication(Application(id: otherApp, name: "billing", createdAt: start), audit: audit(.applicationCreated, otherApp))
        #expect(try await store.applications().map(\.name).sorted() == ["billing", "default"])
        // The failed insert wrote no audit event; the two successful ones did.
        #expect(try await store.auditEvents(AuditQuery()).count == 2)
    }

    func apiKeys() async throws {
        let store = try await makeStore()
        let key = APIKeyRecord(id: "key_aaaaaaaaaaaaaaaa", applicationID: app, scopes: [.verify, .admin], secretHash: [1, 2, 3], createdAt: start)
        let other = APIKeyRecord(id: "key_bbbbbbbbbbbbbbbb", applicationID: otherApp, scopes: [.enroll], secretHash: [4], createdAt: start.addingTimeInterval(1))
        try await store.insertAPIKey(key, audit: audit(.apiKeyCreated, app))
        try await store.insertAPIKey(other, audit: audit(.apiKeyCreated, otherApp))
        #expect(try await store.apiKey(id: key.id) == key)
        #expect(try await store.apiKey(id: "key_cccccccccccccccc") == nil)
        #expect(try await store.apiKeys(applicationID: app) == [key])
        #expect(try await store.apiKeys(applicationID: nil) == [key, other])
        #expect(try await store.revokeAPIKey(id: key.id, at: start.addingTimeInterval(5), audit: audit(.apiKeyRevoked, app)))
        #expect(try await store.revokeAPIKey(id: key.id, at: start.addingTimeInterval(9), audit: audit(.apiKeyRevoked, app)) == false)
        #expect(try await store.apiKey(id: key.id)?.revokedAt == start.addingTimeInterval(5))
        #expect(try await store.auditEvents(AuditQuery()).count == 3)
    }

    func dataAndSystemKeys() async throws {
        let store = try await makeStore()
        let first = WrappedKey(keyID: "mk_1", bytes: [1, 2, 3])
        let second = WrappedKey(keyID: "mk_1", bytes: [4, 5, 6])
        #expect(try await store.wrappedDataKey(applicationID: app, userID: alice) == nil)
        #expect(try await store.insertDataKeyIfAbsent(applicationID: app, userID: alice, key: first) == first)
        #expect(try await store.insertDataKeyIfAbsent(applicationID: app, userID: alice, key: second) == first)
        #expect(try await store.wrappedDataKey(applicationID: app, userID: alice) == first)
        #expect(try await store.wrappedDataKey(applicationID: otherApp, userID: alice) == nil)
        #expect(try await store.systemKey(named: "audit-mac") == nil)
        #expect(try await store.insertSystemKeyIfAbsent(named: "audit-mac", key: second) == second)
        #expect(try await store.insertSystemKeyIfAbsent(named: "audit-mac", key: first) == second)
        #expect(try await store.keyUsage() == ["mk_1": 2])
    }

    func keyRotationCompareAndSet() async throws {
        let store = try await makeStore()
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

    // MARK: - Factors

    func factors() async throws {
        let store = try await makeStore()
        let a = factor("a", status: .pending, expiresAt: start.addingTimeInterval(600))
        let b = factor("b")
        try await store.insertFactor(a, audit: audit(.factorEnrolled, app, alice))
        try await store.insertFactor(b, audit: audit(.factorEnrolled, app, alice))
        try await store.insertFactor(factor("c", user: bob), audit: audit(.factorEnrolled, app, bob))
        try await store.insertFactor(factor("d", application: otherApp), audit: audit(.factorEnrolled, otherApp, alice))
        let stored = try await store.factors(applicationID: app, userID: alice)
        #expect(stored == [a, b])
        #expect(try await store.deleteExpiredPendingFactors(before: start.addingTimeInterval(599)) == 0)
        #expect(try await store.deleteExpiredPendingFactors(before: start.addingTimeInterval(601)) == 1)
        #expect(try await store.factors(applicationID: app, userID: alice) == [b])
        #expect(try await store.deleteFactor(applicationID: app, userID: alice, factorID: b.id, audit: audit(.factorDeleted, app, alice)))
        // Another user's or application's factor is not reachable through this user.
        let bobsFactor = factor("c", user: bob).id
        #expect(try await store.deleteFactor(applicationID: app, userID: alice, factorID: bobsFactor, audit: audit(.factorDeleted, app, alice)) == false)
        #expect(try await store.factors(applicationID: app, userID: bob).count == 1)
        #expect(try await store.factors(applicationID: otherApp, userID: alice).count == 1)
        // Steps above 2^63 keep their unsigned order.
        let high = factor("e", last: UInt64.max - 1)
        try await store.insertFactor(high, audit: audit(.factorEnrolled, app, alice))
        #expect(try await store.factors(applicationID: app, userID: alice).first?.lastAcceptedStep == UInt64.max - 1)
        #expect(try await attempt(store, request(), .acceptStep(high.id, step: UInt64.max, drift: 0, activate: false)) == .accepted(.acceptStep(high.id, step: UInt64.max, drift: 0, activate: false)))
        #expect(try await attempt(store, request(), .acceptStep(high.id, step: 5, drift: 0, activate: false)) == .denied(.replayed, lockedUntil: nil))
    }

    // MARK: - Attempts

    func acceptStepIsCompareAndSet() async throws {
        let store = try await makeStore()
        let f = factor("a")
        try await store.insertFactor(f, audit: audit(.factorEnrolled, app, alice))
        let accept5 = AttemptDecision.acceptStep(f.id, step: 5, drift: -1, activate: false)
        #expect(try await attempt(store, request(), accept5) == .accepted(accept5))
        #expect(try await store.factors(applicationID: app, userID: alice).first?.lastAcceptedStep == 5)
        #expect(try await store.factors(applicationID: app, userID: alice).first?.drift == -1)
        #expect(try await attempt(store, request(), accept5) == .denied(.replayed, lockedUntil: nil))
        #expect(try await attempt(store, request(), .acceptStep(f.id, step: 4, drift: 0, activate: false)) == .denied(.replayed, lockedUntil: nil))
        #expect(try await store.throttleState(applicationID: app, userID: alice)?.failures == 2)
        let accept6 = AttemptDecision.acceptStep(f.id, step: 6, drift: 0, activate: false)
        #expect(try await attempt(store, request(), accept6) == .accepted(accept6))
        // Success clears the failures (no throttle state remains).
        #expect(try await store.throttleState(applicationID: app, userID: alice) == nil)
        // The snapshot handed to decide holds the active factors and the data key.
        _ = try await store.insertDataKeyIfAbsent(applicationID: app, userID: alice, key: WrappedKey(keyID: "mk", bytes: [1]))
        try await store.insertFactor(factor("p", status: .pending, expiresAt: start.addingTimeInterval(600)), audit: audit(.factorEnrolled, app, alice))
        let seen = try await store.attempt(request(), decide: { snapshot in
            #expect(snapshot.factors.map(\.id) == [f.id])
            #expect(snapshot.dataKey == WrappedKey(keyID: "mk", bytes: [1]))
            return .reject(.invalidCode)
        }, audit: { _ in audit(.verification, app, alice) })
        #expect(seen == .denied(.invalidCode, lockedUntil: nil))
    }

    func activationTurnsPendingActive() async throws {
        let store = try await makeStore()
        let pending = factor("a", status: .pending, expiresAt: start.addingTimeInterval(600))
        try await store.insertFactor(pending, audit: audit(.factorEnrolled, app, alice))
        let verifySnapshot = try await store.attempt(request(), decide: { snapshot in
            #expect(snapshot.factors.isEmpty, "pending factors do not verify logins")
            return .reject(.noFactors)
        }, audit: { _ in audit(.verification, app, alice) })
        #expect(verifySnapshot == .denied(.noFactors, lockedUntil: nil))
        let activation = AttemptDecision.acceptStep(pending.id, step: 100, drift: 0, activate: true)
        let outcome = try await store.attempt(request(.activate(pending.id), at: start.addingTimeInterval(5)), decide: { snapshot in
            #expect(snapshot.factors.map(\.id) == [pending.id])
            return activation
        }, audit: { _ in audit(.factorActivated, app, alice) })
        #expect(outcome == .accepted(activation))
        let stored = try #require(try await store.factors(applicationID: app, userID: alice).first)
        #expect(stored.status == .active)
        #expect(stored.expiresAt == nil)
        #expect(stored.activatedAt == start.addingTimeInterval(5))
        #expect(stored.lastAcceptedStep == 100)
        // Activating an active factor loses the compare-and-set.
        #expect(try await attempt(store, request(.activate(pending.id)), .acceptStep(pending.id, step: 101, drift: 0, activate: true)) == .denied(.replayed, lockedUntil: nil))
    }

    func concurrentAttemptsAcceptOnce() async throws {
        let store = try await makeStore()
        let f = factor("a")
        try await store.insertFactor(f, audit: audit(.factorEnrolled, app, alice))
        let decision = AttemptDecision.acceptStep(f.id, step: 42, drift: 0, activate: false)
        let outcomes = try await withThrowingTaskGroup(of: AttemptOutcome.self) { group in
            for _ in 0..<100 {
                group.addTask { try await attempt(store, request(throttle: ThrottlePolicy(freeFailures: 100)), decision) }
            }
            return try await group.reduce(into: []) { $0.append($1) }
        }
        #expect(outcomes.filter { $0 == .accepted(decision) }.count == 1)
        #expect(outcomes.filter { $0 == .denied(.replayed, lockedUntil: nil) }.count == 99)
        #expect(try await store.auditEvents(AuditQuery(applicationID: app, userID: alice, limit: 500)).count == 101)
    }

    /// Attempts of many users arriving together (which a store may run in one transaction) each
    /// get the outcome, the writes and the audit event they would get alone: accepted, replayed,
    /// rejected, `no_factors`, locked (not decided), a recovery code, a revoked API key and a
    /// throwing decision, side by side, in three rounds. Public so that a store's own tests can
    /// run it on a store whose batching they then inspect.
    public func manyUsersAtOnce(on store: any Store) async throws {
        enum Role: CaseIterable { case accepts, replays, rejects, hasNoFactors, isLocked, usesRecoveryCode, revokedKey, throwsInDecide }
        struct Refused: Error {}
        let policy = ThrottlePolicy(freeFailures: 2, baseDelay: 600, maximumDelay: 600)
        let key = APIKeyRecord(id: "key_rrrrrrrrrrrrrrrr", applicationID: app, scopes: [.verify], secretHash: [1], createdAt: start)
        try await store.insertAPIKey(key, audit: audit(.apiKeyCreated, app))
        #expect(try await store.revokeAPIKey(id: key.id, at: start, audit: audit(.apiKeyRevoked, app)))
        var users: [(UserID, Role, FactorRecord)] = []
        for (number, role) in (0..<48).map({ ($0, Role.allCases[$0 % Role.allCases.count]) }) {
            let user = try UserID("user-\(number)")
            let f = FactorRecord(
                id: FactorID(rawValue: "fac_" + String(repeating: "a", count: 24) + String(UnicodeScalar(UInt8(97 + number / 26))) + String(UnicodeScalar(UInt8(97 + number % 26))))!, applicationID: app, userID: user, type: .totp,
                status: .active, createdAt: start, label: user.rawValue, issuer: nil, algorithm: .sha1, digits: 6, period: 30,
                sealedSecret: [UInt8(number)], lastAcceptedStep: 10)
            if role != .hasNoFactors {
                try await store.insertFactor(f, audit: audit(.factorEnrolled, app, user))
            }
            if role == .usesRecoveryCode {
                let codes = (0..<3).map { RecoveryCodeRecord(index: $0, hash: [UInt8($0)], createdAt: start) }
                try await store.replaceRecoveryCodes(applicationID: app, userID: user, codes: codes, audit: audit(.recoveryCodesGenerated, app, user))
            }
            if role == .isLocked {
                for _ in 0..<3 {
                    _ = try await attempt(store, request(user: user, throttle: policy), .reject(.invalidCode))
                }
            }
            users.append((user, role, f))
        }
        let eventsBefore = try await store.auditEvents(AuditQuery(applicationID: app, limit: 10_000)).count
        let lockEnd = start.addingTimeInterval(600)

        for round in 1...3 {
            let now = start.addingTimeInterval(Double(round))
            let results = await withTaskGroup(of: (Int, Result<AttemptOutcome, any Error>).self) { group in
                for (index, (user, role, f)) in users.enumerated() {
                    var attemptRequest = request(user: user, at: now, throttle: policy)
                    if role == .revokedKey { attemptRequest.apiKeyID = key.id }
                    group.addTask {
                        do {
                            return (index, .success(try await store.attempt(attemptRequest, decide: { snapshot in
                                switch role {
                                case .accepts: return .acceptStep(f.id, step: 10 + UInt64(round), drift: 0, activate: false)
                                case .replays: return .acceptStep(f.id, step: 9, drift: 0, activate: false)
                                case .rejects: return .reject(.invalidCode)
                                case .hasNoFactors:
                                    #expect(snapshot.factors.isEmpty)
                                    return .reject(.noFactors)
                                case .isLocked, .revokedKey:
                                    Issue.record("\(role) must not be decided")
                                    return .reject(.invalidCode)
                                case .usesRecoveryCode:
                                    #expect(snapshot.recoveryCodes.count == 4 - round)
                                    return .acceptRecoveryCode(index: round - 1)
                                case .throwsInDecide: throw Refused()
                                }
                            }, audit: { _ in audit(.verification, app, user, at: now) })))
                        } catch {
                            return (index, .failure(error))
                        }
                    }
                }
                return await group.reduce(into: [Int: Result<AttemptOutcome, any Error>]()) { $0[$1.0] = $1.1 }
            }
            for (index, (user, role, f)) in users.enumerated() {
                let result = results[index]
                switch role {
                case .accepts:
                    #expect(try result?.get() == .accepted(.acceptStep(f.id, step: 10 + UInt64(round), drift: 0, activate: false)), "\(user)")
                case .replays:
                    let lock: Date? = round == 3 ? now.addingTimeInterval(600) : nil
                    #expect(try result?.get() == .denied(.replayed, lockedUntil: lock), "\(user)")
                case .rejects:
                    let lock: Date? = round == 3 ? now.addingTimeInterval(600) : nil
                    #expect(try result?.get() == .denied(.invalidCode, lockedUntil: lock), "\(user)")
                case .hasNoFactors:
                    #expect(try result?.get() == .denied(.noFactors, lockedUntil: nil), "\(user)")
                case .isLocked:
                    #expect(try result?.get() == .locked(until: lockEnd), "\(user)")
                case .usesRecoveryCode:
                    #expect(try result?.get() == .accepted(.acceptRecoveryCode(index: round - 1)), "\(user)")
                case .revokedKey:
                    #expect(throws: TwofoldError.self) { try result?.get() }
                case .throwsInDecide:
                    #expect(throws: Refused.self) { try result?.get() }
                }
            }
        }

        for (user, role, _) in users {
            let state = try await store.throttleState(applicationID: app, userID: user)
            let factors = try await store.factors(applicationID: app, userID: user)
            switch role {
            case .accepts: #expect(factors.first?.lastAcceptedStep == 13 && state == nil, "\(user)")
            case .replays, .rejects:
                #expect(factors.first?.lastAcceptedStep == 10 && state == ThrottleState(failures: 3, lockedUntil: start.addingTimeInterval(603)), "\(user)")
            case .hasNoFactors: #expect(factors.isEmpty && state == nil, "\(user)")
            case .isLocked: #expect(state == ThrottleState(failures: 3, lockedUntil: lockEnd), "\(user)")
            case .usesRecoveryCode:
                let used = try await store.recoveryCodes(applicationID: app, userID: user).filter { $0.usedAt != nil }
                #expect(used.map(\.index).sorted() == [0, 1, 2] && factors.first?.lastAcceptedStep == 10 && state == nil, "\(user)")
            case .revokedKey, .throwsInDecide: #expect(factors.first?.lastAcceptedStep == 10 && state == nil, "\(user)")
            }
        }
        // One event per decided or locked attempt (none for a revoked key or a throwing decision),
        // every chain intact.
        let events = try await store.auditEvents(AuditQuery(applicationID: app, limit: 10_000))
        #expect(events.count - eventsBefore == 3 * 36)
        var chained = 0
        for head in try await store.auditShardHeads() {
            #expect(head.tag == chain.tag(of: head))
            var previous = head.firstPreviousMAC
            for event in try await store.auditEvents(shard: head.shard, fromSequence: 0, limit: 10_000) {
                #expect(event.previousMAC == previous && chain.mac(of: event) == event.mac)
                previous = event.mac
                chained += 1
            }
            #expect(previous == head.headMAC)
        }
        #expect(chained == events.count)
    }

    func throttleLocksWithoutDeciding() async throws {
        let store = try await makeStore()
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

    func noFactorsDoesNotCount() async throws {
        let store = try await makeStore()
        for _ in 0..<10 {
            #expect(try await attempt(store, request(throttle: ThrottlePolicy(freeFailures: 1)), .reject(.noFactors)) == .denied(.noFactors, lockedUntil: nil))
        }
        // No row is left behind for a user id that was only probed.
        #expect(try await store.throttleState(applicationID: app, userID: alice) == nil)
        #expect(try await store.users(applicationID: app).isEmpty)
    }

    func throwingDecisionChangesNothing() async throws {
        let store = try await makeStore()
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

    /// An attempt that names an API key runs only while that key exists unrevoked; otherwise it
    /// throws `unauthorized` before anything is decided or written, even for a locked user.
    func attemptChecksTheAPIKey() async throws {
        let store = try await makeStore()
        let key = APIKeyRecord(id: "key_aaaaaaaaaaaaaaaa", applicationID: app, scopes: [.verify], secretHash: [1], createdAt: start)
        try await store.insertAPIKey(key, audit: audit(.apiKeyCreated, app))
        let f = factor("a")
        try await store.insertFactor(f, audit: audit(.factorEnrolled, app, alice))
        var keyed = request()
        keyed.apiKeyID = key.id
        let accept5 = AttemptDecision.acceptStep(f.id, step: 5, drift: 0, activate: false)
        #expect(try await attempt(store, keyed, accept5) == .accepted(accept5))
        #expect(try await store.revokeAPIKey(id: key.id, at: start, audit: audit(.apiKeyRevoked, app)))
        let events = try await store.auditEvents(AuditQuery()).count
        let accept6 = AttemptDecision.acceptStep(f.id, step: 6, drift: 0, activate: false)
        var unknown = request()
        unknown.apiKeyID = "key_zzzzzzzzzzzzzzzz"
        for rejected in [keyed, unknown] {
            await #expect {
                try await store.attempt(rejected, decide: { _ in
                    Issue.record("an attempt with a revoked or unknown key must not be decided")
                    return accept6
                }, audit: { _ in audit(.verification, app, alice) })
            } throws: { error in
                (error as? TwofoldError)?.code == .unauthorized
            }
        }
        #expect(try await store.factors(applicationID: app, userID: alice).first?.lastAcceptedStep == 5)
        #expect(try await store.auditEvents(AuditQuery()).count == events)
        #expect(try await store.throttleState(applicationID: app, userID: alice) == nil)
        // Without a key to check, the same attempt goes through.
        #expect(try await attempt(store, request(), accept6) == .accepted(accept6))
    }

    func recoveryCodesAreSingleUse() async throws {
        let store = try await makeStore()
        let codes = (0..<10).map { RecoveryCodeRecord(index: $0, hash: [UInt8($0)], createdAt: start) }
        try await store.replaceRecoveryCodes(applicationID: app, userID: alice, codes: codes, audit: audit(.recoveryCodesGenerated, app, alice))
        let use3 = AttemptDecision.acceptRecoveryCode(index: 3)
        let seen = try await store.attempt(request(), decide: { snapshot in
            #expect(snapshot.recoveryCodes.count == 10)
            return use3
        }, audit: { _ in audit(.verification, app, alice) })
        #expect(seen == .accepted(use3))
        let remaining = try await store.attempt(request(), decide: { snapshot in
            #expect(snapshot.recoveryCodes.map(\.index) == [0, 1, 2, 4, 5, 6, 7, 8, 9])
            return use3
        }, audit: { _ in audit(.verification, app, alice) })
        #expect(remaining == .denied(.invalidCode, lockedUntil: nil))
        let stored = try await store.recoveryCodes(applicationID: app, userID: alice)
        #expect(stored.count == 10)
        #expect(stored.first { $0.index == 3 }?.usedAt == start)
        // A new set replaces the old one entirely.
        try await store.replaceRecoveryCodes(applicationID: app, userID: alice, codes: [RecoveryCodeRecord(index: 0, hash: [42], createdAt: start)],
                                             audit: audit(.recoveryCodesGenerated, app, alice))
        #expect(try await store.recoveryCodes(applicationID: app, userID: alice) == [RecoveryCodeRecord(index: 0, hash: [42], createdAt: start)])
    }

    // MARK: - Users

    func resetUnlockAndUsers() async throws {
        let store = try await makeStore()
        try await store.insertFactor(factor("a"), audit: audit(.factorEnrolled, app, alice))
        try await store.insertFactor(factor("b", status: .pending, expiresAt: start.addingTimeInterval(60)), audit: audit(.factorEnrolled, app, alice))
        try await store.replaceRecoveryCodes(applicationID: app, userID: alice, codes: [RecoveryCodeRecord(index: 0, hash: [1], createdAt: start)],
                                             audit: audit(.recoveryCodesGenerated, app, alice))
        _ = try await store.insertDataKeyIfAbsent(applicationID: app, userID: alice, key: WrappedKey(keyID: "mk", bytes: [1]))
        _ = try await store.insertDataKeyIfAbsent(applicationID: otherApp, userID: bob, key: WrappedKey(keyID: "mk", bytes: [1]))
        _ = try await attempt(store, request(user: bob), .reject(.invalidCode))
        #expect(try await store.users(applicationID: app) == [alice, bob].sorted())
        #expect(try await store.users(applicationID: otherApp) == [bob])
        let counts = try await store.resetUser(applicationID: app, userID: alice, audit: audit(.userReset, app, alice))
        #expect(counts.factors == 2)
        #expect(counts.recoveryCodes == 1)
        #expect(try await store.factors(applicationID: app, userID: alice).isEmpty)
        #expect(try await store.recoveryCodes(applicationID: app, userID: alice).isEmpty)
        let policy = ThrottlePolicy(freeFailures: 0, baseDelay: 60, maximumDelay: 60)
        _ = try await attempt(store, request(throttle: policy), .reject(.invalidCode))
        #expect(try await store.throttleState(applicationID: app, userID: alice)?.lockedUntil != nil)
        try await store.unlockUser(applicationID: app, userID: alice, audit: audit(.userUnlocked, app, alice))
        #expect(try await store.throttleState(applicationID: app, userID: alice) == nil)
        #expect(try await attempt(store, request(throttle: policy), .reject(.invalidCode)) == .denied(.invalidCode, lockedUntil: start.addingTimeInterval(60)))
    }

    func eraseRemovesEverything() async throws {
        let store = try await makeStore()
        try await store.insertFactor(factor("a"), audit: audit(.factorEnrolled, app, alice))
        try await store.replaceRecoveryCodes(applicationID: app, userID: alice, codes: [RecoveryCodeRecord(index: 0, hash: [1], createdAt: start)],
                                             audit: audit(.recoveryCodesGenerated, app, alice))
        _ = try await store.insertDataKeyIfAbsent(applicationID: app, userID: alice, key: WrappedKey(keyID: "mk", bytes: [1]))
        _ = try await attempt(store, request(), .reject(.invalidCode))
        try await store.insertFactor(factor("b", user: bob), audit: audit(.factorEnrolled, app, bob))
        try await store.eraseUser(applicationID: app, userID: alice, audit: audit(.userErased, app, alice, keepsUserID: false))
        #expect(try await store.factors(applicationID: app, userID: alice).isEmpty)
        #expect(try await store.recoveryCodes(applicationID: app, userID: alice).isEmpty)
        #expect(try await store.wrappedDataKey(applicationID: app, userID: alice) == nil)
        #expect(try await store.throttleState(applicationID: app, userID: alice) == nil)
        #expect(try await store.users(applicationID: app) == [bob])
        #expect(try await store.auditEvents(AuditQuery(applicationID: app, userID: alice)).isEmpty)
        let all = try await store.auditEvents(AuditQuery(limit: 100))
        let pseudonym = chain.pseudonym(applicationID: app, userID: alice)
        let aliceEvents = all.filter { $0.userReference == pseudonym }
        #expect(aliceEvents.count == 4)
        #expect(aliceEvents.allSatisfy { $0.userID == nil })
        #expect(aliceEvents.first?.action == AuditAction.userErased.rawValue)
        #expect(all.contains { $0.userID == bob.rawValue })
        #expect(try await store.factors(applicationID: app, userID: bob).count == 1)
    }

    // MARK: - Audit

    func auditQueriesAndChains() async throws {
        let store = try await makeStore()
        for minute in 0..<30 {
            let user = minute.isMultiple(of: 3) ? bob : alice
            try await store.appendAudit(audit(.verification, app, user, at: start.addingTimeInterval(Double(minute) * 60)))
        }
        try await store.appendAudit(audit(.keysRotated, nil, nil, at: start.addingTimeInterval(3_600)))
        let all = try await store.auditEvents(AuditQuery(limit: 100))
        #expect(all.count == 31)
        #expect(all.map(\.id) == all.map(\.id).sorted(by: >), "newest first")
        let aliceOnly = try await store.auditEvents(AuditQuery(applicationID: app, userID: alice, limit: 100))
        #expect(aliceOnly.count == 20)
        #expect(aliceOnly.allSatisfy { $0.userID == alice.rawValue })
        let recent = try await store.auditEvents(AuditQuery(since: start.addingTimeInterval(25 * 60), limit: 100))
        #expect(recent.count == 6)
        let firstPage = try await store.auditEvents(AuditQuery(limit: 10))
        let secondPage = try await store.auditEvents(AuditQuery(beforeID: firstPage.last!.id, limit: 10))
        #expect(firstPage.count == 10 && secondPage.count == 10)
        #expect(Set(firstPage.map(\.id)).isDisjoint(with: secondPage.map(\.id)))
        #expect(secondPage.first!.id < firstPage.last!.id)

        // Each shard's events chain from its head's anchor and end at its head.
        let heads = try await store.auditShardHeads()
        #expect(heads.map(\.shard) == heads.map(\.shard).sorted())
        var total = 0
        for head in heads {
            #expect(head.tag == chain.tag(of: head))
            let events = try await store.auditEvents(shard: head.shard, fromSequence: 0, limit: 1_000)
            total += events.count
            #expect(events.map(\.sequence) == Array(1...head.headSequence))
            var previous = head.firstPreviousMAC
            for event in events {
                #expect(event.previousMAC == previous)
                #expect(chain.mac(of: event) == event.mac)
                previous = event.mac
            }
            #expect(previous == head.headMAC)
            let tail = try await store.auditEvents(shard: head.shard, fromSequence: 2, limit: 1)
            #expect(tail.map(\.sequence) == (head.headSequence >= 2 ? [2] : []))
        }
        #expect(total == 31)
    }

    func auditPurgeReanchors() async throws {
        let store = try await makeStore()
        for minute in 0..<20 {
            try await store.appendAudit(audit(.verification, app, alice, at: start.addingTimeInterval(Double(minute) * 60)))
        }
        let deleted = try await store.purgeAudit(before: start.addingTimeInterval(12 * 60), chain: chain)
        #expect(deleted == 12)
        let heads = try await store.auditShardHeads()
        let head = try #require(heads.first { $0.headSequence == 20 })
        #expect(head.firstSequence == 13)
        #expect(head.tag == chain.tag(of: head))
        let events = try await store.auditEvents(shard: head.shard, fromSequence: 0, limit: 100)
        #expect(events.map(\.sequence) == Array(13...20))
        #expect(events.first?.previousMAC == head.firstPreviousMAC)
        #expect(try await store.purgeAudit(before: start.addingTimeInterval(12 * 60), chain: chain) == 0)
        #expect(try await store.purgeAudit(before: start.addingTimeInterval(3_600), chain: chain) == 8)
        let emptied = try #require(try await store.auditShardHeads().first { $0.shard == head.shard })
        #expect(emptied.firstSequence == 21)
        #expect(emptied.firstPreviousMAC == emptied.headMAC)
        #expect(emptied.tag == chain.tag(of: emptied))
    }
}
