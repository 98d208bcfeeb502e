import Foundation
import Logging
import PostgresNIO
import Synchronization
import Testing
import TwofoldCore
import TwofoldOTP
@testable import TwofoldPostgres
import TwofoldPostgresTesting
import TwofoldTesting

/// What only the PostgreSQL store has to show: migrations racing across nodes, compare-and-set
/// across connection pools, what reaches a dump, and its connection lifecycle.
@Suite("PostgreSQL store")
struct PostgresStoreTests: PostgresFixtures {
    static let pgDump = ExternalTool(name: "pg_dump", installHint: "apt-get install postgresql-client-15") {
        ExternalProcess.which(pgDumpPath) != nil
    }
    static let pgDumpPath = FileManager.default.isExecutableFile(atPath: "/usr/lib/postgresql/15/bin/pg_dump")
        ? "/usr/lib/postgresql/15/bin/pg_dump" : "pg_dump"

    // MARK: Migrations

    @Test("migrating twice applies each migration once")
    func migrateTwice() async throws {
        try await PostgresTestDatabase.with { database in
            let store = try await database.makeStore()
            try await store.migrate()
            #expect(try await versions(database) == PostgresMigration.all.map(\.version))
            #expect(try await store.applications().isEmpty)
            // Migration 3: room on each page of factors for updates in place.
            let options = try await database.query("SELECT reloptions::TEXT FROM pg_class WHERE relname = 'factors'") {
                try $0.decode(String?.self)
            }
            #expect(options == ["{fillfactor=80}"])
        }
    }

    @Test("nodes migrating one database at once all succeed, and the schema is made once")
    func concurrentMigrations() async throws {
        try await PostgresTestDatabase.with { database in
            var stores: [PostgresStore] = []
            for _ in 0..<3 {
                stores.append(try await database.makeStore(maximumConnections: 2, migrated: false))
            }
            try await withThrowingTaskGroup(of: Void.self) { group in
                for store in stores {
                    group.addTask { try await store.migrate() }
                }
                try await group.waitForAll()
            }
            #expect(try await versions(database) == PostgresMigration.all.map(\.version))
            for store in stores {
                try await store.migrate()
                #expect(try await store.applications().isEmpty)
            }
        }
    }

    private func versions(_ database: PostgresTestDatabase) async throws -> [Int] {
        try await database.query("SELECT version FROM schema_migrations ORDER BY version") { try $0.decode(Int.self) }
    }

    // MARK: Compare-and-set across pools

    @Test("100 concurrent attempts with one step over two connection pools accept it once")
    func concurrentAttemptsAcrossPools() async throws {
        try await PostgresTestDatabase.with { database in
            let first = try await database.makeStore(maximumConnections: 10)
            let second = try await database.makeStore(maximumConnections: 10)
            let factor = aliceFactor("a", lastAcceptedStep: 41)
            try await first.insertFactor(factor, audit: audit(.factorEnrolled))
            let decision = Acceptance.acceptStep(factor.id, type: .totp, step: 42, drift: 0, activate: false)
            let request = AttemptRequest(applicationID: app, userID: alice, purpose: .verify, now: start,
                                         throttle: ThrottlePolicy(freeFailures: 100))
            let outcomes = try await withThrowingTaskGroup(of: AttemptOutcome.self) { group in
                for index in 0..<100 {
                    let store = index.isMultiple(of: 2) ? first : second
                    group.addTask {
                        try await store.attempt(request, decide: { snapshot in
                            #expect(snapshot.factors.map(\.id) == [factor.id])
                            return .accept(decision)
                        }, audit: { _ in audit(.verification) })
                    }
                }
                return try await group.reduce(into: [AttemptOutcome]()) { $0.append($1) }
            }
            #expect(outcomes.filter { $0 == .accepted(decision) }.count == 1)
            #expect(outcomes.filter { $0 == .denied(.replayed, lockedUntil: nil) }.count == 99)
            #expect(try await second.factors(applicationID: app, userID: alice).first?.lastAcceptedStep == 42)
            #expect(try await first.throttleState(applicationID: app, userID: alice)?.failures == 99)
            // One event per attempt, chained without a gap in the user's shard.
            let events = try await second.auditEvents(AuditQuery(applicationID: app, userID: alice, limit: 500))
            #expect(events.count == 101)
            let head = try #require(try await first.auditShardHeads().first)
            #expect(head.headSequence == 101)
            #expect(head.tag == chain.tag(of: head))
            let report = try await verifyAuditChains(first)
            #expect(report.isIntact, "\(report.problems)")
            #expect(report.eventsChecked == 101)
        }
    }

    // MARK: Batches of attempts

    @Test("attempts of many users arriving together are read and written together, and each get their own outcome")
    func attemptsOfManyUsersAreBatched() async throws {
        try await PostgresTestDatabase.with { database in
            let store = try await database.makeStore(maximumConnections: 4)
            try await ManyUsersAtOnce(application: app, chain: chain, start: start).check(on: store)
            let statistics = store.attemptBatchStatistics
            #expect(statistics.batches > 0, "no two attempts were ever recorded together")
            #expect(statistics.largestBatch > 1)
        }
    }

    @Test("a drain keeps its connection for the attempts that follow within its linger, and gives it back after")
    func drainKeepsItsConnectionWhileAttemptsFollow() async throws {
        try await PostgresTestDatabase.with { database in
            // A linger long enough that a loaded machine still sends the next attempt within it.
            let store = try await database.makeStore(maximumConnections: 4, drainLinger: .seconds(2))
            let factor = aliceFactor("a", lastAcceptedStep: 41)
            try await store.insertFactor(factor, audit: audit(.factorEnrolled))
            for step in UInt64(42)...46 {
                #expect(try await acceptStep(step, of: factor, on: store) == accepted(step, of: factor))
            }
            #expect(store.attemptBatchStatistics.connectionsLeased == 1, "each attempt took a connection of its own")
            try await Task.sleep(for: .seconds(3))
            #expect(try await acceptStep(47, of: factor, on: store) == accepted(47, of: factor))
            #expect(store.attemptBatchStatistics.connectionsLeased == 2, "the drain kept its connection past its linger")
        }
    }

    @Test("where the pool has no connection to spare, each batch takes one and gives it back")
    func smallPoolLeasesPerBatch() async throws {
        try await PostgresTestDatabase.with { database in
            let store = try await database.makeStore(maximumConnections: 2, drainLinger: .seconds(30))
            let factor = aliceFactor("a", lastAcceptedStep: 41)
            try await store.insertFactor(factor, audit: audit(.factorEnrolled))
            for step in UInt64(42)...44 {
                #expect(try await acceptStep(step, of: factor, on: store) == accepted(step, of: factor))
            }
            #expect(store.attemptBatchStatistics.connectionsLeased == 3)
            // Nothing holds a connection between attempts: both are free for anything else.
            try await withThrowingTaskGroup(of: Void.self) { group in
                for _ in 0..<2 {
                    group.addTask { try await store.withConnection("hold a connection") { _ in try await Task.sleep(for: .milliseconds(200)) } }
                }
                try await group.waitForAll()
            }
        }
    }

    @Test("with two drains and their lingers, every attempt of many rounds of many users is answered")
    func twoDrainsAnswerEveryAttempt() async throws {
        try await PostgresTestDatabase.with { database in
            let store = try await database.makeStore(maximumConnections: 4, drainLinger: .milliseconds(20))
            let users = try (0..<64).map { try UserID("user-\($0)") }
            let enrolled = try await enrollFactors(users, letter: "b", lastAcceptedStep: 10, in: store)
            let factors = users.map { enrolled[$0]! }
            for round in 1...20 {
                // Unstructured tasks, counted through a stream: an attempt no drain ever takes must
                // fail this test, not hang it.
                let (answers, answered) = AsyncStream<Bool>.makeStream()
                for factor in factors {
                    let decision = Acceptance.acceptStep(factor.id, type: .totp, step: UInt64(10 + round), drift: 0, activate: false)
                    let request = AttemptRequest(applicationID: app, userID: factor.userID, purpose: .verify, now: start,
                                                 throttle: ThrottlePolicy(),
                                                 auditShard: chain.shard(applicationID: app, userID: factor.userID))
                    Task {
                        let outcome = try? await store.attempt(request, decide: { _ in .accept(decision) }, audit: { _ in
                            AuditAppend(AuditDraft(time: start, applicationID: app, userID: factor.userID, actor: "test",
                                                   action: .verification, outcome: "success"), chain: chain)
                        })
                        answered.yield(outcome == .accepted(decision))
                    }
                }
                let total = factors.count
                let accepted = await withTaskGroup(of: Int?.self) { group in
                    group.addTask {
                        var count = 0
                        for await accepted in answers where accepted {
                            count += 1
                            if count == total { break }
                        }
                        return count
                    }
                    group.addTask {
                        try? await Task.sleep(for: .seconds(20))
                        return nil
                    }
                    let first = await group.next() ?? nil
                    group.cancelAll()
                    return first
                }
                #expect(accepted == factors.count, "round \(round): not every attempt was answered with its acceptance in 20 s")
                if accepted != factors.count { return }
            }
            #expect(store.attemptBatchStatistics.largestBatch > 1)
        }
    }

    @Test("a drain whose batch gives back a shard wakes the other, lingering drain, whose attempt of that shard waited")
    func freedShardWakesTheOtherDrain() async throws {
        try await PostgresTestDatabase.with { database in
            // Lingers far longer than the test waits: only a wake-up can answer the attempt.
            let store = try await database.makeStore(maximumConnections: 4, drainLinger: .seconds(30))
            func shard(_ user: UserID) -> Int { chain.shard(applicationID: app, userID: user) }
            let candidates = try (0..<400).map { try UserID("user-\($0)") }
            // p starts drain d; y's shard belongs to the other drain, and x shares it; 16 more
            // users elsewhere make the other drain start.
            let p = candidates[0]
            let drain = shard(p) % 2
            let y = try #require(candidates.first { shard($0) % 2 != drain && shard($0) != shard(p) })
            let x = try #require(candidates.first { $0 != y && shard($0) == shard(y) })
            let others = Array(candidates.filter { ![shard(p), shard(y)].contains(shard($0)) }.prefix(16))
            let ofTheOtherDrain = others.filter { shard($0) % 2 != drain }
            let yAndOthers = [y] + others
            // Enrolled here rather than through `enrollFactors`: calling it from this closure
            // crashes Swift 6.3.1's SendNonSendable pass (std::out_of_range).
            var factors: [UserID: FactorRecord] = [:]
            for (number, user) in ([p, y, x] + others).enumerated() {
                let factor = FactorRecord(
                    id: FactorID(rawValue: "fac_" + String(repeating: "c", count: 24) + String(UnicodeScalar(UInt8(97 + number / 26)))
                                 + String(UnicodeScalar(UInt8(97 + number % 26))))!,
                    applicationID: app, userID: user, type: .totp, status: .active, createdAt: start, label: user.rawValue, issuer: nil,
                    algorithm: .sha1, digits: 6, period: 30, sealedSecret: [1], lastAcceptedStep: 10)
                try await store.insertFactor(factor, audit: AuditAppend(
                    AuditDraft(time: start, applicationID: app, userID: user, actor: "test", action: .factorEnrolled, outcome: "success"),
                    chain: chain))
                factors[user] = factor
            }
            let answers = AcceptedUsers()
            let factorOf = factors
            func verify(_ user: UserID) {
                let factor = factorOf[user]!
                let decision = Acceptance.acceptStep(factor.id, type: .totp, step: 11, drift: 0, activate: false)
                let request = AttemptRequest(applicationID: app, userID: user, purpose: .verify, now: start, throttle: ThrottlePolicy(),
                                             auditShard: shard(user))
                Task {
                    let outcome = try? await store.attempt(request, decide: { _ in .accept(decision) }, audit: { _ in
                        AuditAppend(AuditDraft(time: start, applicationID: app, userID: user, actor: "test", action: .verification,
                                               outcome: "success"), chain: chain)
                    })
                    if outcome == .accepted(decision) { answers.users.withLock { _ = $0.insert(user) } }
                }
            }
            /// Whether every one of `users` was accepted within `time` (unstructured tasks and
            /// polling: an attempt that is never answered must fail this test, not hang it).
            func accepted(_ users: [UserID], within time: Duration) async -> Bool {
                let deadline = ContinuousClock.now + time
                while !Set(users).isSubset(of: answers.users.withLock { $0 }) {
                    guard ContinuousClock.now < deadline else { return false }
                    try? await Task.sleep(for: .milliseconds(10))
                }
                return true
            }
            // Each head held in a transaction of its own, so that batches wait on them.
            let logger = Logger(label: "test")
            let configuration = try PostgresURL(database.url).connectionConfiguration()
            var holders: [PostgresConnection] = []
            for (id, held) in [shard(p), shard(y)].enumerated() {
                let connection = try await PostgresConnection.connect(configuration: configuration, id: 100 + id, logger: logger)
                try await connection.run("BEGIN", logger: logger)
                try await connection.run("SELECT 1 FROM audit_shards WHERE shard = \(held) FOR UPDATE", logger: logger)
                holders.append(connection)
            }
            verify(p)                                  // drain d takes p's batch, which waits on p's head
            try await Task.sleep(for: .milliseconds(300))
            verify(y)                                  // queued behind it
            try await Task.sleep(for: .milliseconds(300))
            try await holders[0].run("COMMIT", logger: logger)
            #expect(await accepted([p], within: .seconds(5)))
            try await Task.sleep(for: .milliseconds(300))   // drain d, alone, took y: it waits on y's head
            #expect(!answers.users.withLock { $0.contains(y) })
            verify(x)
            for user in others { verify(user) }        // the other drain starts, and skips x: y's batch holds its shard
            guard !ofTheOtherDrain.isEmpty else {
                Issue.record("none of the 16 users' shards belongs to the other drain")
                return
            }
            #expect(await accepted(ofTheOtherDrain, within: .seconds(5)))
            #expect(!answers.users.withLock { $0.contains(x) })
            try await holders[1].run("COMMIT", logger: logger)
            #expect(await accepted(yAndOthers, within: .seconds(5)))
            // Now only a wake-up of the lingering drain answers x.
            #expect(await accepted([x], within: .seconds(5)), "x's attempt waited with both drains lingering")
            for holder in holders { try await holder.close() }
        }
    }

    @Test("an attempt after the held connection died is recorded on another one")
    func attemptAfterHeldConnectionDied() async throws {
        try await PostgresTestDatabase.with { database in
            let store = try await database.makeStore(maximumConnections: 4, drainLinger: .seconds(5))
            let factor = aliceFactor("a", lastAcceptedStep: 41)
            try await store.insertFactor(factor, audit: audit(.factorEnrolled))
            #expect(try await acceptStep(42, of: factor, on: store) == accepted(42, of: factor))
            // The drain now waits on the connection that recorded the attempt: end its backend
            // (found by its last statement, the batch's write without locks, the usual path).
            let ended = try await database.query("""
                SELECT pg_terminate_backend(pid) FROM pg_stat_activity
                WHERE datname = current_database() AND pid <> pg_backend_pid() AND query LIKE '%twofold_record_attempts%'
                """) { try $0.decode(Bool.self) }
            #expect(ended == [true])
            try await Task.sleep(for: .milliseconds(200))
            #expect(try await acceptStep(43, of: factor, on: store) == accepted(43, of: factor))
            #expect(store.attemptBatchStatistics.connectionsLeased == 2)
            #expect(try await store.factors(applicationID: app, userID: alice).first?.lastAcceptedStep == 43)
        }
    }

    @Test("a batch whose shard head was doctored runs its attempts one by one: only that shard's attempts fail")
    func doctoredHeadFailsOnlyItsShard() async throws {
        try await PostgresTestDatabase.with { database in
            let store = try await database.makeStore(maximumConnections: 2)
            let users = try (0..<40).map { try UserID("user-\($0)") }
            let factors = try await enrollFactors(users, letter: "a", lastAcceptedStep: 1, in: store)
            let doctored = chain.shard(applicationID: app, userID: users[0])
            _ = try await database.query("UPDATE audit_shards SET tag = '\\x00' WHERE shard = \(doctored)") { _ in () }
            let tampered = Set(users.filter { chain.shard(applicationID: app, userID: $0) == doctored })
            for round in 0..<3 {
                let results = await withTaskGroup(of: (UserID, Result<AttemptOutcome, any Error>).self) { group in
                    for user in users {
                        let decision = Acceptance.acceptStep(factors[user]!.id, type: .totp, step: UInt64(2 + round), drift: 0, activate: false)
                        group.addTask { [app, start, chain] in
                            do {
                                return (user, .success(try await store.attempt(
                                    AttemptRequest(applicationID: app, userID: user, purpose: .verify, now: start, throttle: ThrottlePolicy()),
                                    decide: { _ in .accept(decision) },
                                    audit: { _ in AuditAppend(AuditDraft(time: start, applicationID: app, userID: user, actor: "test",
                                                                         action: .verification, outcome: "allow"), chain: chain) })))
                            } catch {
                                return (user, .failure(error))
                            }
                        }
                    }
                    return await group.reduce(into: [UserID: Result<AttemptOutcome, any Error>]()) { $0[$1.0] = $1.1 }
                }
                for user in users {
                    if tampered.contains(user) {
                        #expect(throws: TwofoldError.self) { try results[user]?.get() }
                    } else {
                        #expect(try results[user]?.get() == .accepted(.acceptStep(factors[user]!.id, type: .totp, step: UInt64(2 + round), drift: 0, activate: false)))
                    }
                }
            }
            for user in users {
                let step = try await store.factors(applicationID: app, userID: user).first?.lastAcceptedStep
                #expect(step == (tampered.contains(user) ? 1 : 4), "\(user): an attempt that failed must change nothing")
            }
        }
    }

    // MARK: What a dump holds

    @Test("a pg_dump holds the sealed blobs as written and never a secret or recovery code in clear")
    func dumpHoldsNoPlaintext() async throws {
        try Self.pgDump.require()
        try await PostgresTestDatabase.with { database in
            let store = try await database.makeStore()
            let clock = FixedClock(start)
            let services = try await TwofoldServices.start(store: store, keyring: try Keyring([MasterKey.generate()]), clock: clock)
            let application = try await services.applications.ensureApplication(named: "default", actor: "test")
            let enrollment = try await services.enrollment.enroll(application.id, alice, EnrollmentRequest(type: .totp), actor: "test")
            // Recovery codes need an active factor.
            _ = try await services.enrollment.activate(application.id, alice, enrollment.factor.id,
                                                       code: try enrollment.uri.makeTOTP().code(at: UInt64(start.timeIntervalSince1970)), actor: "test")
            let codes = try await services.verification.generateRecoveryCodes(application.id, alice, actor: "test")
            let sealed = try #require(try await store.factors(applicationID: application.id, userID: alice).first?.sealedSecret)

            let dump = try await ExternalProcess.run(Self.pgDumpPath, ["--data-only", "--dbname=\(database.url)"])
            #expect(dump.status == 0, "\(dump.standardError)")
            let text = dump.standardOutput.lowercased()
            #expect(text.contains("\\\\x" + hex(sealed)), "the store writes exactly the sealed blob")
            let secret = enrollment.secret
            #expect(dump.stdout.firstRange(of: secret.bytes) == nil, "raw secret bytes")
            #expect(!text.contains(hex(secret.bytes)), "hex secret")
            #expect(!text.contains(secret.base32.lowercased()), "Base32 secret")
            for code in codes {
                #expect(!text.contains(code.lowercased()), "recovery code \(code)")
                #expect(!text.contains(code.lowercased().filter { $0 != "-" }), "recovery code \(code)")
            }
        }
    }

    private func hex(_ bytes: [UInt8]) -> String { bytes.map { String(format: "%02x", $0) }.joined() }

    // MARK: The services on PostgreSQL

    @Test("the services enroll, verify and refuse a replay on PostgreSQL, with an intact audit log")
    func engineRoundTrip() async throws {
        try await PostgresTestDatabase.with { database in
            let store = try await database.makeStore()
            let clock = FixedClock(start)
            let services = try await TwofoldServices.start(store: store, keyring: try Keyring([MasterKey.generate()]), clock: clock)
            let application = try await services.applications.ensureApplication(named: "default", actor: "test")
            let enrollment = try await services.enrollment.enroll(application.id, alice, EnrollmentRequest(type: .totp), actor: "test")
            let totp = try enrollment.uri.makeTOTP()
            func code() throws -> String { try totp.code(at: UInt64(clock.now().timeIntervalSince1970)) }
            _ = try await services.enrollment.activate(application.id, alice, enrollment.factor.id, code: try code(), actor: "test")
            clock.advance(by: 30)
            let now = try code()
            #expect(try await services.verification.verify(application.id, alice, code: now, actor: "test") == .allow(.factor(enrollment.factor.id, .totp)))
            #expect(try await services.verification.verify(application.id, alice, code: now, actor: "test") == .deny(.replayed, retryAfter: nil))
            #expect(try await services.audit.verifyAudit().isIntact)
            try await services.administration.erase(application.id, alice, actor: "test")
            #expect(try await services.administration.users(application.id).isEmpty)
            #expect(try await services.audit.verifyAudit().isIntact)
        }
    }

    // MARK: Lifecycle and failures

    @Test("a server's pool opens every connection at once and keeps them; a command's opens what it uses")
    func serverPoolStaysOpen() async throws {
        try await PostgresTestDatabase.with { database in
            let connections: @Sendable () async throws -> Int = {
                // Every backend on this database but the one asking.
                try await database.query("SELECT count(*)::int FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()") {
                    try $0.decode(Int.self)
                }.first ?? -1
            }
            let command = try await database.makeStore(maximumConnections: 4, migrated: false)
            try await command.ping()
            // Long enough for a pool that opened its minimum at once to show it (the server's below).
            try await Task.sleep(for: .milliseconds(500))
            #expect(try await connections() < 4)
            try await command.close()
            let server = try await database.makeStore(maximumConnections: 4, keepsConnectionsOpen: true, migrated: false)
            var open = 0
            for _ in 0..<100 {
                open = try await connections()
                if open == 4 { break }
                try await Task.sleep(for: .milliseconds(50))
            }
            #expect(open == 4, "the server's pool opened \(open) of its 4 connections")
            try await server.close()
        }
    }

    @Test("pool settings: a server keeps its connections (no idle timers), and idle connections are checked after 10 s")
    func poolOptions() {
        let server = PostgresStore.poolOptions(maximumConnections: 8, keepsConnectionsOpen: true)
        #expect(server.minimumConnections == 8 && server.maximumConnections == 8)
        #expect(server.keepAliveBehavior?.frequency == .seconds(10))
        let command = PostgresStore.poolOptions(maximumConnections: 8, keepsConnectionsOpen: false)
        #expect(command.minimumConnections == 0 && command.maximumConnections == 8)
        #expect(command.keepAliveBehavior?.frequency == .seconds(10))
    }

    @Test("a closed store refuses every call with unavailable")
    func closedStore() async throws {
        try await PostgresTestDatabase.with { database in
            let store = try await database.makeStore()
            try await store.close()
            await #expect { try await store.applications() } throws: { error in
                (error as? TwofoldError)?.code == .unavailable
            }
        }
    }

    @Test("wrong credentials fail with unavailable, naming no password")
    func wrongPassword() async throws {
        try await PostgresTestDatabase.with { database in
            var components = try #require(URLComponents(string: database.url))
            components.password = "not-the-password-4711"
            let url = try #require(components.string)
            await #expect {
                _ = try await PostgresStore.connect(url: url)
            } throws: { error in
                guard let error = error as? TwofoldError else { return false }
                return error.code == .unavailable && !error.message.contains("4711")
            }
        }
    }

    @Test("a server that does not answer fails with unavailable within the connect timeout")
    func unreachableServer() async throws {
        let started = ContinuousClock.now
        await #expect {
            _ = try await PostgresStore.connect(url: "postgres://twofold:secret-4711@127.0.0.1:1/twofold?sslmode=disable")
        } throws: { error in
            guard let error = error as? TwofoldError else { return false }
            return error.code == .unavailable && !error.message.contains("4711")
        }
        #expect(ContinuousClock.now - started < .seconds(30))
    }

    @Test("a call fails with unavailable once it waited connectionWait for a connection")
    func connectionWait() async throws {
        let store = try PostgresStore(url: "postgres://twofold:secret-4711@127.0.0.1:1/twofold?sslmode=disable",
                                      connectionWait: .milliseconds(300))
        let runner = Task { await store.run() }
        let started = ContinuousClock.now
        await #expect {
            try await store.ping()
        } throws: { error in
            guard let error = error as? TwofoldError else { return false }
            return error.code == .unavailable && error.message.contains("no connection within") && !error.message.contains("4711")
        }
        // Far below the pool's own 60 s of retries, with room for a loaded machine.
        #expect(ContinuousClock.now - started < .seconds(30))
        try await store.close()
        await runner.value
    }

    @Test("after a wait that found no connection, the next calls wait a second, not connectionWait")
    func shortWaitsDuringAnOutage() async throws {
        let store = try PostgresStore(url: "postgres://twofold:secret-4711@127.0.0.1:1/twofold?sslmode=disable",
                                      connectionWait: .seconds(6))
        let runner = Task { await store.run() }
        func failure() async -> (message: String, took: Duration) {
            let started = ContinuousClock.now
            do {
                try await store.ping()
                return ("answered", ContinuousClock.now - started)
            } catch {
                return ((error as? TwofoldError)?.message ?? "\(error)", ContinuousClock.now - started)
            }
        }
        let first = await failure()
        #expect(first.message.contains("no connection within 6.0 seconds"), "\(first.message)")
        #expect(first.took >= .seconds(6))
        // The server is still down: each later call gives up after the short wait.
        for _ in 0..<3 {
            let later = await failure()
            #expect(later.message.contains("no connection within 1.0 seconds"), "\(later.message)")
            #expect(later.took >= .seconds(1) && later.took < .seconds(5), "\(later.took)")
        }
        try await store.close()
        await runner.value
    }

    /// Takes `store`'s only connection and holds it until `letGo` is called; returns once held.
    private func holdOnlyConnection(_ store: PostgresStore) async throws -> (letGo: @Sendable () -> Void, holder: Task<Void, any Error>) {
        let (release, letGo) = AsyncStream<Void>.makeStream()
        let holding = Mutex(false)
        let holder = Task {
            try await store.withConnection("hold the only connection") { _ in
                holding.withLock { $0 = true }
                for await _ in release { break }
            }
        }
        while !holding.withLock({ $0 }) { try await Task.sleep(for: .milliseconds(20)) }
        return ({ letGo.yield() }, holder)
    }

    @Test("a call waits for a busy pool's connection beyond the short wait of an outage")
    func busyPoolWaitsForAConnection() async throws {
        try await PostgresTestDatabase.with { database in
            let store = try await database.makeStore(maximumConnections: 1)
            let (letGo, holder) = try await holdOnlyConnection(store)
            let started = ContinuousClock.now
            let ping = Task { try await store.ping() }
            try await Task.sleep(for: .seconds(2.5))
            letGo()
            try await ping.value
            #expect(ContinuousClock.now - started >= .seconds(2.5))
            try await holder.value
        }
    }

    @Test("a connection the server ends while it still answers does not shorten the waits")
    func lostConnectionKeepsWaits() async throws {
        try await PostgresTestDatabase.with { database in
            let store = try await database.makeStore(maximumConnections: 1)
            let call = Task {
                try await store.withConnection("sleep") { connection in
                    try await connection.run("SELECT pg_sleep(30)", logger: store.logger)
                }
            }
            var terminated = false
            for _ in 0..<200 where !terminated {
                terminated = try await database.query("""
                    SELECT pg_terminate_backend(pid) FROM pg_stat_activity
                    WHERE datname = current_database() AND query = 'SELECT pg_sleep(30)' AND pid <> pg_backend_pid()
                    """) { try $0.decode(Bool.self) }.contains(true)
                if !terminated { try await Task.sleep(for: .milliseconds(50)) }
            }
            #expect(terminated, "the sleeping call's backend never showed in pg_stat_activity")
            await #expect {
                try await call.value
            } throws: { error in
                (error as? TwofoldError)?.code == .unavailable
            }
            // The pool opens another connection to a server that answers: no outage, so a call
            // still waits for a busy pool's connection well past the short wait of an outage.
            #expect(!store.waitsBriefly)
            var answered = false
            for _ in 0..<5 where !answered {
                // The pool may hand out the ended connection once more before it sees it closed.
                answered = (try? await store.ping()) != nil
            }
            #expect(answered)
            let (letGo, holder) = try await holdOnlyConnection(store)
            let ping = Task { try await store.ping() }
            try await Task.sleep(for: .seconds(2.5))
            letGo()
            try await ping.value
            try await holder.value
        }
    }

    @Test("a wait that runs out on a busy pool does not end the waits of other calls")
    func timeoutOnBusyPoolKeepsOtherWaits() async throws {
        try await PostgresTestDatabase.with { database in
            let store = try await PostgresStore.connect(url: database.url, maximumConnections: 1, connectionWait: .seconds(6))
            let (letGo, holder) = try await holdOnlyConnection(store)
            // The first caller gives up after its 6 s; the second, which began 2 s later, is still
            // waiting then, and gets the connection when it is let go half a second after.
            let first = Task { try await store.ping() }
            try await Task.sleep(for: .seconds(2))
            let second = Task { try await store.ping() }
            await #expect(throws: (any Error).self) { try await first.value }
            try await Task.sleep(for: .milliseconds(500))
            letGo()
            try await second.value
            try await holder.value
            try await store.close()
        }
    }

    @Test("the driver logs nothing below debug, so no login's SCRAM exchange reaches a trace-level log")
    func driverLogsStopAtDebug() async throws {
        try await PostgresTestDatabase.with { database in
            let capture = LogCapture()
            let store = try await PostgresStore.connect(url: database.url, maximumConnections: 2,
                                                        logger: capture.logger(label: "twofold.postgres"))
            try await store.migrate()
            _ = try await store.applications()
            try await store.close()
            #expect(!capture.lines.isEmpty, "the store logged nothing: the capture is not wired")
            let trace = capture.lines.filter { $0.level == .trace }
            #expect(trace.isEmpty, "\(trace.count) trace records, the first: \(trace.first?.message ?? "")")
            let scram = capture.lines.filter { $0.text.localizedCaseInsensitiveContains("sasl") }
            #expect(scram.isEmpty, "\(scram.count) records of the SCRAM exchange")
        }
    }

    // MARK: URLs

    @Test("parses libpq URLs", arguments: [
        ("postgres://u:p%40ss@db.internal:6543/twofold?sslmode=verify-full&sslrootcert=/etc/twofold/db-ca.pem", "db.internal", 6543, "u", "p@ss" as String?, "twofold", PostgresURL.SSLMode.verifyFull),
        ("postgresql://u@127.0.0.1/app", "127.0.0.1", 5432, "u", nil, "app", .prefer),
        ("postgres://u:s3cr3t@[::1]:5433?sslmode=disable", "::1", 5433, "u", "s3cr3t", "u", .disable),
    ])
    func parsesURLs(_ text: String, host: String, port: Int, user: String, password: String?, database: String, mode: PostgresURL.SSLMode) throws {
        let url = try PostgresURL(text)
        #expect(url.host == host)
        #expect(url.port == port)
        #expect(url.username == user)
        #expect(url.password == password)
        #expect(url.database == database)
        #expect(url.sslMode == mode)
        #expect(!url.description.contains(password ?? "\u{0}"))
    }

    @Test("refuses bad URLs with a configuration error that hides the password", arguments: [
        "mysql://u:hunter2@host/db",
        "postgres://u:hunter2@/db",
        "postgres://:hunter2@host/db",
        "postgres://u:hunter2@host/db?sslmode=sometimes",
        "postgres://u:hunter2@host/db?pool=9",
        "postgres://u:hunter2@host/db/extra",
        "postgres://u:hunter2@host:99999/db",
        "not a url at all hunter2@",
    ])
    func refusesBadURLs(_ text: String) {
        #expect {
            _ = try PostgresURL(text)
        } throws: { error in
            guard let error = error as? TwofoldError else { return false }
            return error.code == .configuration && !error.message.contains("hunter2")
        }
    }

    private func audit(_ action: AuditAction) -> AuditAppend {
        AuditAppend(AuditDraft(time: start, applicationID: app, userID: alice, actor: "test", action: action, outcome: "success"),
                    chain: chain)
    }

    /// Alice's attempt whose `decide` accepts `step` of `factor`, through the batches' usual path
    /// (the request names its audit shard).
    private func acceptStep(_ step: UInt64, of factor: FactorRecord, on store: PostgresStore) async throws -> AttemptOutcome {
        let decision = Acceptance.acceptStep(factor.id, type: .totp, step: step, drift: 0, activate: false)
        return try await store.attempt(AttemptRequest(applicationID: app, userID: alice, purpose: .verify, now: start,
                                                      throttle: ThrottlePolicy(),
                                                      auditShard: chain.shard(applicationID: app, userID: alice)),
                                       decide: { _ in .accept(decision) }, audit: { _ in audit(.verification) })
    }

    private func accepted(_ step: UInt64, of factor: FactorRecord) -> AttemptOutcome {
        .accepted(.acceptStep(factor.id, type: .totp, step: step, drift: 0, activate: false))
    }
}

/// The users whose attempts were accepted so far, filled in by unstructured tasks.
private final class AcceptedUsers: Sendable {
    let users = Mutex<Set<UserID>>([])
}
