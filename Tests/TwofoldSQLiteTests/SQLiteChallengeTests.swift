import Foundation
import GRDB
import Testing
import TwofoldCore
@testable import TwofoldSQLite

/// What the conformance suite cannot see of the SQLite store's challenges: the migration, the
/// stored form, the query plans of the verification path, and refusals inside a group commit.
@Suite("SQLite challenges")
struct SQLiteChallengeTests {
    static let alice = Fixtures.user(0)

    static func challenge(_ index: Int, user: UserID = alice, factor: FactorID = Fixtures.factorID(0),
                          context: ChallengeContext = ChallengeContext()) -> ChallengeRecord {
        ChallengeRecord(id: ChallengeID(rawValue: "chl_" + Fixtures.factorID(index).rawValue.dropFirst(4))!, applicationID: Fixtures.app,
                        userID: user, factorID: factor, type: .sms, mode: .code, purpose: .login, createdAt: Fixtures.start,
                        expiresAt: Fixtures.start.addingTimeInterval(300), codeHash: [1, 2], maxAttempts: 5, context: context)
    }

    static func phoneFactor(_ index: Int, user: UserID = alice) -> FactorRecord {
        var factor = Fixtures.factor(index, user: user, sealedSecret: [0x01, 0xAB])
        factor.type = .sms
        factor.label = "+1•••••4567"
        return factor
    }

    @Test("v4 adds challenges and send budgets to a v3 file, keeps its factors, and takes SMS and voice factors")
    func migrationFromV3() async throws {
        try await TemporaryStores.with { stores in
            let path = stores.path("v3.sqlite")
            try FileManager.default.createDirectory(at: stores.directory, withIntermediateDirectories: true)
            let v3 = try DatabaseQueue(path: path)
            try SQLiteMigrations.migrator.migrate(v3, upTo: "v3-clustered-factors")
            try v3.close()
            let store = try stores.open("v3.sqlite")
            try await store.insertFactor(Fixtures.factor(1, user: Self.alice), audit: Fixtures.audit(.factorEnrolled, Self.alice))
            // v4, and the migrations released after it.
            #expect(try await store.migrate() == Array(4...SQLiteMigrations.migrator.migrations.count))
            #expect(try await store.factors(applicationID: Fixtures.app, userID: Self.alice).map(\.id) == [Fixtures.factorID(1)])
            var voice = Self.phoneFactor(2)
            voice.type = .voice
            for factor in [Self.phoneFactor(0), voice] {
                try await store.insertFactor(factor, audit: Fixtures.audit(.factorEnrolled, Self.alice))
            }
            #expect(try await store.factors(applicationID: Fixtures.app, userID: Self.alice).map(\.type) == [.totp, .sms, .voice])
            let budget = SendBudget(limit: "destination", key: "k", capacity: 1, period: 60)
            #expect(try await store.insertChallenge(Self.challenge(1), spending: [budget], audit: Fixtures.audit(.challengeCreated, Self.alice)) == nil)
            #expect(try await store.challenge(id: Self.challenge(1).id) == Self.challenge(1))

            let check = try DatabaseQueue(path: path)
            for table in ["challenges", "send_budgets"] {
                #expect(try await SchemaChecks.hasRowid(table, in: check) == false, "\(table) has a rowid")
            }
            try check.close()
        }
    }

    @Test("the context is stored as JSON with sorted keys, absent fields left out")
    func contextIsSortedJSON() async throws {
        try await TemporaryStores.with { stores in
            let store = try await stores.fresh()
            let context = ChallengeContext(ip: "192.0.2.1", userAgent: "curl/8", location: nil, appName: "ACME")
            try #require(try await store.insertChallenge(Self.challenge(1, context: context), spending: [],
                                                         audit: Fixtures.audit(.challengeCreated, Self.alice)) == nil)
            let stored = try await store.read("read a context") { db in
                try String.fetchOne(db, sql: "SELECT context FROM challenges")
            }
            #expect(stored == #"{"app_name":"ACME","ip":"192.0.2.1","user_agent":"curl/8"}"#)
        }
    }

    @Test("a verification finds its challenges with one search of challenges_pending, in order; an answer by primary key",
          arguments: [(SQLiteStore.loginChallenges, "challenges_pending"), (SQLiteStore.enrollmentChallenges, "challenges_pending"),
                      (SQLiteStore.namedLoginChallenge, "PRIMARY KEY")])
    func queryPlans(sql: String, index: String) async throws {
        try await TemporaryStores.with { stores in
            let store = try await stores.fresh()
            let plan = try await store.read("explain a query") { db in
                try Row.fetchAll(db, sql: "EXPLAIN QUERY PLAN " + sql, arguments: StatementArguments(
                    Array(repeating: DatabaseValue.null, count: sql.count(where: { $0 == "?" }))))
                    .map { row -> String in row["detail"] }
            }
            #expect(plan.count == 1, "\(plan)")
            #expect(plan.first?.hasPrefix("SEARCH challenges USING ") == true, "\(plan)")
            #expect(plan.first?.contains(index) == true, "\(plan)")
        }
    }

    @Test("a send refused in a group commit rolls back its own spending only; the writes beside it commit")
    func refusalInsideABatch() async throws {
        try await TemporaryStores.with { stores in
            let store = try await stores.fresh()
            let wide = SendBudget(limit: "application", key: "wide", capacity: 10, period: 3600)
            let narrow = SendBudget(limit: "destination", key: "narrow", capacity: 1, period: 3600)
            let (gate, holder) = try await WriterGate.close(store)
            let sends = (1...4).map { index in
                Task {
                    try await store.insertChallenge(Self.challenge(index), spending: [wide, narrow],
                                                    audit: Fixtures.audit(.challengeCreated, Self.alice))
                }
            }
            let audit = Task { try await store.appendAudit(Fixtures.audit(.verification, Self.alice)) }
            try await waitUntil("the sends are queued") { store.batcher.statistics.queued == 5 }
            gate.open()
            try await holder.value
            var refusals: [SendRefusal?] = []
            for send in sends { refusals.append(try await send.value) }
            try await audit.value
            #expect(refusals.filter { $0 == nil }.count == 1)
            #expect(refusals.compactMap { $0?.limit } == Array(repeating: "destination", count: 3))
            #expect(try await store.challenges(applicationID: Fixtures.app, userID: Self.alice).count == 1)
            #expect(try await store.auditEvents(AuditQuery()).count == 2)
            // `wide` lost one token, not four.
            let tokens = try await store.read("read a budget") { db in
                try Double.fetchOne(db, sql: "SELECT tokens FROM send_budgets WHERE key = 'wide'")
            }
            #expect(tokens == 9)
        }
    }

    @Test("a stored challenge value Twofold never writes is an unavailable store, and its context is not quoted",
          arguments: ["UPDATE challenges SET status = 'bogus'", "UPDATE challenges SET purpose = 'fun'",
                      "UPDATE challenges SET context = '{\"ip\": 1, \"secret\": \"hunter2\"}'", "UPDATE challenges SET id = 'chl_x'"])
    func damagedChallengesAreUnavailable(damage: String) async throws {
        try await TemporaryStores.with { stores in
            let store = try stores.open()
            try await store.migrate()
            try #require(try await store.insertChallenge(Self.challenge(1), spending: [], audit: Fixtures.audit(.challengeCreated, Self.alice)) == nil)
            let editor = try DatabaseQueue(path: stores.path())
            try await editor.writeWithoutTransaction { db in
                try db.execute(sql: "PRAGMA ignore_check_constraints = ON")
                try db.execute(sql: damage)
            }
            try editor.close()
            await #expect { try await store.challenges(applicationID: Fixtures.app, userID: Self.alice) } throws: { error in
                guard let error = error as? TwofoldError else { return false }
                return error.code == .unavailable && !error.message.contains("hunter2")
            }
        }
    }
}
