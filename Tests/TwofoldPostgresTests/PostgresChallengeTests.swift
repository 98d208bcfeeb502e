import Foundation
import Logging
import PostgresNIO
import Testing
import TwofoldCore
@testable import TwofoldPostgres
import TwofoldPostgresTesting
import TwofoldTesting

/// What only the PostgreSQL store has to show about challenges: migration 4 on a database of the
/// previous version, challenges answered in batches of attempts (and recorded again when they
/// changed under a batch), and send budgets spent from several pools at once.
@Suite("PostgreSQL: challenges")
struct PostgresChallengeTests: PostgresFixtures {
    // MARK: Migration

    @Test("migration 4 applies to a database at version 3: its rows stay, challenges work, and version 2's function stays for nodes not yet upgraded")
    func migratesFromVersion3() async throws {
        try await PostgresTestDatabase.with { database in
            try await database.migrateSchema(through: 3)
            let store = try await database.makeStore(migrated: false)
            let factor = aliceFactor("a", lastAcceptedStep: 41)
            try await store.insertFactor(factor, audit: audit(.factorEnrolled))

            // Migration 4, and those released after it.
            #expect(try await store.migrate() == PostgresMigration.all.map(\.version).filter { $0 >= 4 })
            #expect(try await store.migrate() == [])
            #expect(try await database.query("SELECT version FROM schema_migrations ORDER BY version") { try $0.decode(Int.self) }
                == PostgresMigration.all.map(\.version))
            #expect(try await store.factors(applicationID: app, userID: alice) == [factor])
            let functions = try await database.query("""
                SELECT proname::TEXT FROM pg_proc WHERE proname LIKE 'twofold_record_attempts%' ORDER BY 1
                """) { try $0.decode(String.self) }
            #expect(functions == ["twofold_record_attempts", "twofold_record_attempts_with_challenges"])
            let indexes = try await database.query("""
                SELECT indexname::TEXT FROM pg_indexes WHERE tablename = 'challenges' ORDER BY 1
                """) { try $0.decode(String.self) }
            #expect(indexes == ["challenges_by_creation", "challenges_by_user", "challenges_pkey"])

            // An SMS factor fits the factors table as it was, and its challenge is answered.
            let phone = smsFactor("b", of: alice, status: .active)
            try await store.insertFactor(phone, audit: audit(.factorEnrolled))
            let sent = challenge("a", 0, of: alice, factor: phone, purpose: .login)
            #expect(try await store.insertChallenge(sent, spending: [], audit: audit(.factorEnrolled)) == nil)
            #expect(try await store.challenge(id: sent.id) == sent)
            let outcome = try await answer(sent, on: store)
            #expect(outcome == .accepted(.challenge(ChallengeAcceptance(challengeID: sent.id, factorID: phone.id, factorType: .sms,
                                                                         activate: false))))
            #expect(try await store.challenge(id: sent.id)?.status == .approved)
        }
    }

    // MARK: Batches of attempts

    @Test("one batch of attempts approves challenges, activates a factor, counts wrong codes, and approves a challenge two of its attempts claim once")
    func batchOfChallengeAnswers() async throws {
        try await PostgresTestDatabase.with { database in
            // One connection, so one drain: everything queued while its batch waits runs as the next batch.
            let store = try await database.makeStore(maximumConnections: 1)
            let now = start.addingTimeInterval(10)
            let policy = ThrottlePolicy(freeFailures: 100)
            let users: [(UserID, Role)] = try (0..<12).map { (try UserID("user-\($0)"), Role.allCases[$0 % Role.allCases.count]) }
            // Each user's factor and challenges: `first` the one they answer, `second` another one.
            var fixtures: [UserID: Fixture] = [:]
            for (number, (user, role)) in users.enumerated() {
                let factor = smsFactor(Character(UnicodeScalar(UInt8(97 + number))), of: user, status: role == .enrolls ? .pending : .active)
                try await store.insertFactor(factor, audit: audit(.factorEnrolled, user))
                var first = challenge("a", number, of: user, factor: factor, purpose: role == .enrolls ? .enrollment : .login)
                var second = challenge("b", number, of: user, factor: factor, purpose: role == .enrolls ? .login : .enrollment)
                if role == .answersWrongly {
                    // Two login challenges, one a wrong code away from its end; the enrollment one is not counted.
                    first.createdAt = start.addingTimeInterval(1)
                    first.failedAttempts = 1
                    first.maxAttempts = 2
                    second = challenge("b", number, of: user, factor: factor, purpose: .login)
                }
                for sent in [first, second] {
                    #expect(try await store.insertChallenge(sent, spending: [], audit: audit(.factorEnrolled, user)) == nil)
                }
                fixtures[user] = Fixture(factor: factor, first: first, second: second)
            }
            // Who claims another's challenge claims the first user's who answers theirs.
            let claimed = try #require(users.first { $0.1 == .answers }.flatMap { fixtures[$0.0] })

            // A batch of one waits on the lock of its user while the others queue.
            let logger = Logger(label: "test")
            let holder = try await PostgresConnection.connect(configuration: try PostgresURL(database.url).connectionConfiguration(),
                                                              id: 100, logger: logger)
            let waiting = try UserID("waiting")
            try await holder.run("BEGIN", logger: logger)
            try await holder.run("SELECT pg_advisory_xact_lock(hashtextextended(\(app.rawValue + waiting.rawValue), 0))", logger: logger)
            let first = Task { [app, chain] in
                try await store.attempt(AttemptRequest(applicationID: app, userID: waiting, purpose: .verify, now: now, throttle: policy,
                                                       auditShard: chain.shard(applicationID: app, userID: waiting)),
                                        decide: { _ in .reject(.noFactors) }, audit: { _ in verification(waiting, at: now) })
            }
            try await waitForLockWaiter(on: holder)
            let fixturesByUser = fixtures
            let outcomes = Task { [app, chain] in
                try await withThrowingTaskGroup(of: (UserID, AttemptOutcome).self) { group in
                    for (user, role) in users {
                        let fixture = fixturesByUser[user]!
                        let purpose: AttemptRequest.Purpose = switch role {
                        case .answers, .claimsAnothers: .answerChallenge(fixture.first.id)
                        case .answersWrongly: .verify
                        case .enrolls: .activate(fixture.factor.id)
                        }
                        let request = AttemptRequest(applicationID: app, userID: user, purpose: purpose, now: now, throttle: policy,
                                                     auditShard: chain.shard(applicationID: app, userID: user))
                        group.addTask {
                            let outcome = try await store.attempt(request, decide: { snapshot in
                                switch role {
                                case .answers:
                                    #expect(snapshot.challenges.map(\.id) == [fixture.first.id])
                                    #expect(snapshot.recoveryCodes.isEmpty && snapshot.factors.map(\.id) == [fixture.factor.id])
                                    return .accept(.challenge(ChallengeAcceptance(challengeID: fixture.first.id, factorID: fixture.factor.id,
                                                                                  factorType: .sms, activate: false)))
                                case .claimsAnothers:
                                    return .accept(.challenge(ChallengeAcceptance(challengeID: claimed.first.id, factorID: claimed.factor.id,
                                                                                  factorType: .sms, activate: false)))
                                case .answersWrongly:
                                    // Newest first; the enrollment challenge is not a verification's.
                                    #expect(snapshot.challenges.map(\.id) == [fixture.first.id, fixture.second.id])
                                    return .reject(.invalidCode)
                                case .enrolls:
                                    #expect(snapshot.challenges.map(\.id) == [fixture.first.id])
                                    return .accept(.challenge(ChallengeAcceptance(challengeID: fixture.first.id, factorID: fixture.factor.id,
                                                                                  factorType: .sms, activate: true)))
                                }
                            }, audit: { _ in verification(user, at: now) })
                            return (user, outcome)
                        }
                    }
                    return try await group.reduce(into: [UserID: AttemptOutcome]()) { $0[$1.0] = $1.1 }
                }
            }
            try await waitForQueue(of: store, count: users.count)
            try await holder.run("COMMIT", logger: logger)
            try await holder.close()
            #expect(try await first.value == .denied(.noFactors, lockedUntil: nil))
            let answered = try await outcomes.value
            #expect(store.attemptBatchStatistics.largestBatch == users.count, "the attempts were not recorded in one batch")

            for (user, role) in users {
                let fixture = fixtures[user]!
                let stored = try await store.challenges(applicationID: app, userID: user)
                let firstNow = stored.first { $0.id == fixture.first.id }
                let secondNow = stored.first { $0.id == fixture.second.id }
                let state = try await store.throttleState(applicationID: app, userID: user)
                switch role {
                case .answers, .enrolls:
                    #expect(answered[user] == .accepted(.challenge(ChallengeAcceptance(
                        challengeID: fixture.first.id, factorID: fixture.factor.id, factorType: .sms, activate: role == .enrolls))), "\(user)")
                    var approved = fixture.first
                    approved.status = .approved
                    approved.finishedAt = now
                    #expect(firstNow == approved, "\(user)")
                    #expect(secondNow == fixture.second, "\(user)")
                    #expect(state == nil, "\(user)")
                    let factor = try await store.factors(applicationID: app, userID: user).first
                    #expect(factor?.status == .active, "\(user)")
                    if role == .enrolls {
                        #expect(factor?.activatedAt == now && factor?.expiresAt == nil, "\(user)")
                    }
                case .claimsAnothers:
                    // Not theirs: refused as a replay, which counts against their own challenge.
                    #expect(answered[user] == .denied(.replayed, lockedUntil: nil), "\(user)")
                    #expect(firstNow?.status == .pending && firstNow?.failedAttempts == 1, "\(user)")
                    #expect(secondNow == fixture.second, "\(user)")
                    #expect(state?.failures == 1, "\(user)")
                case .answersWrongly:
                    #expect(answered[user] == .denied(.invalidCode, lockedUntil: nil), "\(user)")
                    var denied = fixture.first
                    denied.failedAttempts = 2
                    denied.status = .denied
                    denied.reason = .tooManyAttempts
                    denied.finishedAt = now
                    #expect(firstNow == denied, "\(user)")
                    var counted = fixture.second
                    counted.failedAttempts = 1
                    #expect(secondNow == counted, "\(user)")
                    #expect(state?.failures == 1, "\(user)")
                }
            }
            // The challenge two attempts of the batch claimed was approved once, for its own user.
            let events = try await store.auditEvents(AuditQuery(applicationID: app, limit: 1000)).filter { $0.action == AuditAction.verification.rawValue }
            #expect(events.count == users.count + 1)
        }
    }

    @Test("answers to the same challenges from two pools at once approve each exactly once")
    func concurrentAnswersAcrossPools() async throws {
        try await PostgresTestDatabase.with { database in
            let pools = [try await database.makeStore(maximumConnections: 4), try await database.makeStore(maximumConnections: 4)]
            var sent: [ChallengeRecord] = []
            for number in 0..<16 {
                let user = try UserID("user-\(number)")
                let factor = smsFactor(Character(UnicodeScalar(UInt8(97 + number))), of: user, status: .active)
                try await pools[0].insertFactor(factor, audit: audit(.factorEnrolled, user))
                let challenge = challenge("a", number, of: user, factor: factor, purpose: .login)
                #expect(try await pools[0].insertChallenge(challenge, spending: [], audit: audit(.factorEnrolled, user)) == nil)
                sent.append(challenge)
            }
            let challenges = sent
            // Each challenge answered twice through each pool, accepted blindly: only the compare-and-set decides.
            let outcomes = try await withThrowingTaskGroup(of: (ChallengeID, AttemptOutcome).self) { group in
                for challenge in challenges {
                    for store in pools + pools {
                        group.addTask { (challenge.id, try await answer(challenge, on: store)) }
                    }
                }
                return try await group.reduce(into: [(ChallengeID, AttemptOutcome)]()) { $0.append($1) }
            }
            for challenge in challenges {
                let answers = outcomes.filter { $0.0 == challenge.id }.map(\.1)
                #expect(answers.filter { if case .accepted = $0 { true } else { false } }.count == 1, "\(challenge.id)")
                #expect(answers.filter { $0 == .denied(.replayed, lockedUntil: nil) }.count == 3, "\(challenge.id)")
                let stored = try await pools[1].challenge(id: challenge.id)
                #expect(stored?.status == .approved && stored?.failedAttempts == 0, "\(challenge.id)")
                #expect(try await pools[1].throttleState(applicationID: app, userID: challenge.userID)?.failures == 3)
            }
            for head in try await pools[0].auditShardHeads() {
                #expect(head.tag == chain.tag(of: head))
            }
            let events = try await pools[0].auditEvents(AuditQuery(applicationID: app, limit: 1000)).filter { $0.action == AuditAction.verification.rawValue }
            #expect(events.count == 4 * challenges.count)
        }
    }

    /// What changes between a batch's read and its write.
    enum Change: String, CaseIterable {
        case nothing
        case challengeCanceled = "the challenge was canceled"
        case factorActivated = "the factor was activated"
    }

    @Test("an acceptance whose challenge or factor changed after its batch read them is recorded again under locks, and refused", arguments: Change.allCases)
    func changedChallengeRunsAgainUnderLocks(_ change: Change) async throws {
        try await PostgresTestDatabase.with { database in
            let store = try await database.makeStore(maximumConnections: 1)
            let factor = smsFactor("a", of: alice, status: .pending)
            try await store.insertFactor(factor, audit: audit(.factorEnrolled))
            let sent = challenge("a", 0, of: alice, factor: factor, purpose: .enrollment)
            #expect(try await store.insertChallenge(sent, spending: [], audit: audit(.factorEnrolled)) == nil)

            // Another writer holds alice's lock, makes the change, and commits once the batch, having read, waits for the lock.
            let logger = Logger(label: "test")
            let holder = try await PostgresConnection.connect(configuration: try PostgresURL(database.url).connectionConfiguration(),
                                                              id: 100, logger: logger)
            try await holder.run("BEGIN", logger: logger)
            try await holder.run("SELECT pg_advisory_xact_lock(hashtextextended(\(app.rawValue + alice.rawValue), 0))", logger: logger)
            switch change {
            case .nothing: break
            case .challengeCanceled:
                try await holder.run("UPDATE challenges SET status = 'canceled', finished_at = 1 WHERE id = \(sent.id.rawValue)", logger: logger)
            case .factorActivated:
                try await holder.run("UPDATE factors SET status = 'active', activated_at = 1 WHERE id = \(factor.id.rawValue)", logger: logger)
            }
            let acceptance = ChallengeAcceptance(challengeID: sent.id, factorID: factor.id, factorType: .sms, activate: true)
            let attempt = Task { [app, alice, start, chain] in
                try await store.attempt(AttemptRequest(applicationID: app, userID: alice, purpose: .activate(factor.id), now: start,
                                                       throttle: ThrottlePolicy(freeFailures: 100),
                                                       auditShard: chain.shard(applicationID: app, userID: alice)),
                                        decide: { _ in .accept(.challenge(acceptance)) }, audit: { _ in verification(alice, at: start) })
            }
            try await waitForLockWaiter(on: holder)
            try await holder.run("COMMIT", logger: logger)
            try await holder.close()
            let outcome = try await attempt.value

            let stored = try #require(try await store.challenge(id: sent.id))
            let statistics = store.attemptBatchStatistics
            switch change {
            case .nothing:
                #expect(outcome == .accepted(.challenge(acceptance)))
                #expect(stored.status == .approved && stored.finishedAt == start)
                #expect(try await store.factors(applicationID: app, userID: alice).first?.activatedAt == start)
                #expect(statistics.recordedAsRead == 1 && statistics.recordedUnderLocks == 0)
            case .challengeCanceled:
                #expect(outcome == .denied(.replayed, lockedUntil: nil))
                #expect(stored.status == .canceled && stored.failedAttempts == 0)
                #expect(statistics.recordedAsRead == 0 && statistics.recordedUnderLocks == 1)
            case .factorActivated:
                // The factor is no longer pending: the challenge stays open, one wrong attempt nearer its end.
                #expect(outcome == .denied(.replayed, lockedUntil: nil))
                #expect(stored.status == .pending && stored.failedAttempts == 1)
                #expect(statistics.recordedAsRead == 0 && statistics.recordedUnderLocks == 1)
            }
            #expect(try await store.throttleState(applicationID: app, userID: alice)?.failures == (change == .nothing ? nil : 1))
        }
    }

    // MARK: Send budgets

    @Test("sends from two pools at once, naming shared budgets in either order, spend each once and never wait for each other for good")
    func concurrentSendsSpendBudgetsOnce() async throws {
        try await PostgresTestDatabase.with { database in
            let pools = [try await database.makeStore(maximumConnections: 4), try await database.makeStore(maximumConnections: 4)]
            let factor = smsFactor("a", of: alice, status: .active)
            try await pools[0].insertFactor(factor, audit: audit(.factorEnrolled))
            let scarce = SendBudget(limit: "user_channel", key: "budget-scarce", capacity: 5, period: 3600)
            let ample = SendBudget(limit: "global", key: "budget-ample", capacity: 100, period: 3600)
            let results = try await withThrowingTaskGroup(of: SendRefusal?.self) { group in
                // Ten at once over eight connections: every send but the last two finds one at
                // once, so a loaded machine cannot starve them past the pool's wait.
                for number in 0..<10 {
                    let store = pools[number % 2]
                    let sent = challenge("a", number, of: alice, factor: factor, purpose: .login)
                    // Half name the budgets one way round, half the other.
                    let budgets = number % 4 < 2 ? [scarce, ample] : [ample, scarce]
                    group.addTask { try await store.insertChallenge(sent, spending: budgets, audit: audit(.factorEnrolled)) }
                }
                return try await group.reduce(into: [SendRefusal?]()) { $0.append($1) }
            }
            let now = StoredTime.milliseconds(start)
            #expect(results.filter { $0 == nil }.count == 5)
            #expect(results.compactMap(\.self) == Array(repeating: SendRefusal(limit: "user_channel",
                                                                                  retryAfter: scarce.retryAfter(available: 0, now: now)), count: 5))
            #expect(try await pools[1].challenges(applicationID: app, userID: alice).count == 5)
            let tokens = try await database.query("SELECT key, tokens FROM send_budgets ORDER BY key") { try $0.decode((String, Double).self) }
            #expect(tokens.map(\.0) == ["budget-ample", "budget-scarce"] && tokens.map(\.1) == [95, 0])

            // A refusal names the budget the caller names first among the empty ones, whatever their keys' order.
            let last = SendBudget(limit: "destination", key: "budget-z", capacity: 1, period: 3600)
            #expect(try await pools[0].insertChallenge(challenge("b", 0, of: alice, factor: factor, purpose: .login), spending: [last],
                                                       audit: audit(.factorEnrolled)) == nil)
            let refusal = try await pools[0].insertChallenge(challenge("b", 1, of: alice, factor: factor, purpose: .login),
                                                             spending: [last, scarce], audit: audit(.factorEnrolled))
            #expect(refusal == SendRefusal(limit: "destination", retryAfter: last.retryAfter(available: 0, now: now)))
        }
    }

    // MARK: Helpers

    private enum Role: CaseIterable {
        case answers, claimsAnothers, answersWrongly, enrolls
    }

    private struct Fixture: Sendable {
        var factor: FactorRecord
        var first: ChallengeRecord
        var second: ChallengeRecord
    }

    /// An SMS factor of `user`'s whose id is `fac_` and 26 × `letter`.
    private func smsFactor(_ letter: Character, of user: UserID, status: FactorStatus) -> FactorRecord {
        FactorRecord(id: FactorID(rawValue: "fac_" + String(repeating: letter, count: 26))!, applicationID: app, userID: user, type: .sms,
                     status: status, createdAt: start, expiresAt: status == .pending ? start.addingTimeInterval(600) : nil,
                     label: "+1•••••4567", issuer: nil, algorithm: .sha1, digits: 6, period: 30, sealedSecret: [4, 5, 6],
                     lastAcceptedStep: nil)
    }

    /// A pending code challenge of `factor`, sent at the start and open for five minutes, whose id
    /// is `chl_`, 24 × `letter` and `number` in two letters.
    private func challenge(_ letter: Character, _ number: Int, of user: UserID, factor: FactorRecord,
                           purpose: ChallengePurpose) -> ChallengeRecord {
        let place = String(UnicodeScalar(UInt8(97 + number / 26))) + String(UnicodeScalar(UInt8(97 + number % 26)))
        return ChallengeRecord(
            id: ChallengeID(rawValue: "chl_" + String(repeating: letter, count: 24) + place)!, applicationID: app, userID: user,
            factorID: factor.id, type: .sms, mode: .code, purpose: purpose, createdAt: start, expiresAt: start.addingTimeInterval(300),
            codeHash: [9, 9, UInt8(number)], maxAttempts: 5, context: ChallengeContext(ip: "192.0.2.1", appName: "Example"),
            delivery: ChallengeDelivery(provider: "console", status: "sent", attempt: 0))
    }

    /// An answer to `challenge` that accepts it without looking, through the batches' usual path.
    private func answer(_ challenge: ChallengeRecord, on store: PostgresStore) async throws -> AttemptOutcome {
        let acceptance = ChallengeAcceptance(challengeID: challenge.id, factorID: challenge.factorID, factorType: .sms, activate: false)
        let request = AttemptRequest(applicationID: app, userID: challenge.userID, purpose: .answerChallenge(challenge.id), now: start,
                                     throttle: ThrottlePolicy(freeFailures: 100),
                                     auditShard: chain.shard(applicationID: app, userID: challenge.userID))
        let event = verification(challenge.userID, at: start)
        return try await store.attempt(request, decide: { _ in .accept(.challenge(acceptance)) }, audit: { _ in event })
    }

    private func audit(_ action: AuditAction, _ user: UserID? = nil) -> AuditAppend {
        AuditAppend(AuditDraft(time: start, applicationID: app, userID: user ?? alice, actor: "test", action: action, outcome: "success"),
                    chain: chain)
    }

    private func verification(_ user: UserID, at time: Date) -> AuditAppend {
        AuditAppend(AuditDraft(time: time, applicationID: app, userID: user, actor: "test", action: .verification, outcome: "done"),
                    chain: chain)
    }

    /// Returns once another session waits for an advisory lock (the batch's write, for the lock `holder` has).
    private func waitForLockWaiter(on holder: PostgresConnection) async throws {
        let deadline = ContinuousClock.now + .seconds(10)
        // pg_locks is the server's: only this test's database counts.
        while try await holder.query("""
            SELECT count(*) FROM pg_locks
            WHERE locktype = 'advisory' AND NOT granted AND database = (SELECT oid FROM pg_database WHERE datname = current_database())
            """, logger: Logger(label: "test")).collect().first?.decode(Int.self) == 0 {
            guard ContinuousClock.now < deadline else { throw TwofoldError(.unavailable, "no batch came to wait for the lock") }
            try await Task.sleep(for: .milliseconds(10))
        }
    }

    /// Returns once `count` attempts wait in `store`'s queue.
    private func waitForQueue(of store: PostgresStore, count: Int) async throws {
        let deadline = ContinuousClock.now + .seconds(10)
        while store.attemptQueue.withLock({ $0.waiting.count }) < count {
            guard ContinuousClock.now < deadline else { throw TwofoldError(.unavailable, "the attempts did not queue") }
            try await Task.sleep(for: .milliseconds(10))
        }
    }
}
