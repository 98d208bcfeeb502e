import Foundation
import GRDB
import Testing
import TwofoldCore
@testable import TwofoldSQLite

@Suite("SQLite migration v5")
struct SQLitePushMigrationTests {
    @Test("v5 keeps every challenge and its indexes through the rebuild, takes push challenges, and turns number matching on")
    func pushDevices() async throws {
        try await TemporaryStores.with { stores in
            let path = stores.path("v4.sqlite")
            try FileManager.default.createDirectory(at: stores.directory, withIntermediateDirectories: true)
            let alice = Fixtures.user(0)
            let factor = Fixtures.factor(1, user: alice)
            let delivered = ChallengeRecord(
                id: ChallengeID(rawValue: "chl_bbbbbbbbbbbbbbbbbbbbbbbbbb")!, applicationID: Fixtures.app, userID: alice, factorID: factor.id,
                type: .voice, mode: .approve, purpose: .login, status: .approved, createdAt: Fixtures.start,
                expiresAt: Fixtures.start.addingTimeInterval(300), finishedAt: Fixtures.start.addingTimeInterval(20), codeHash: nil,
                failedAttempts: 1, maxAttempts: 3, context: ChallengeContext(ip: "192.0.2.1"),
                delivery: ChallengeDelivery(provider: "twilio", status: "completed", providerReference: "CA1", attempt: 0))
            let pending = ChallengeRecord(
                id: ChallengeID(rawValue: "chl_cccccccccccccccccccccccccc")!, applicationID: Fixtures.app, userID: alice, factorID: factor.id,
                type: .sms, mode: .code, purpose: .enrollment, createdAt: Fixtures.start.addingTimeInterval(1),
                expiresAt: Fixtures.start.addingTimeInterval(301), codeHash: [1, 2], maxAttempts: 5)
            let v4 = try DatabaseQueue(path: path)
            try SQLiteMigrations.migrator.migrate(v4, upTo: "v4-challenges")
            try await v4.write { db in
                try db.execute(sql: "INSERT INTO applications (id, name, created_at, sms_template, domain) VALUES (?, 'default', 5, 'Code {code}', NULL)",
                               arguments: [Fixtures.app.rawValue])
                for challenge in [delivered, pending] {
                    try db.directRun("INSERT INTO challenges (\(SQLiteCoding.challengeColumns)) VALUES (\(Array(repeating: "?", count: 20).joined(separator: ", ")))",
                                     try SQLiteCoding.values(challenge))
                }
            }
            try v4.close()

            let store = try SQLiteStore(path: path)
            #expect(try await store.migrate() == Array(5...SQLiteMigrations.migrator.migrations.count))
            #expect(try await store.challenge(id: delivered.id) == delivered)
            #expect(try await store.challenge(id: pending.id) == pending)
            let application = try #require(try await store.application(named: "default"))
            #expect(application.pushNumberMatching)
            #expect(application.smsTemplate == "Code {code}")
            var pushed = pending
            pushed.id = ChallengeID(rawValue: "chl_dddddddddddddddddddddddddd")!
            pushed.type = .push
            pushed.mode = .approve
            #expect(try await store.insertChallenge(pushed, spending: [], audit: Fixtures.audit(.challengeCreated, alice)) == nil)
            #expect(try await store.challenge(id: pushed.id) == pushed)
            try await store.close()

            let check = try DatabaseQueue(path: path)
            #expect(try await SchemaChecks.hasRowid("challenges", in: check) == false, "challenges has a rowid")
            let indexes = try await check.read { db in
                try String.fetchAll(db, sql: "SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = 'challenges' AND sql IS NOT NULL ORDER BY name")
            }
            #expect(indexes == ["challenges_by_creation", "challenges_by_user", "challenges_pending"])
            let tables = try await check.read { db in
                try String.fetchAll(db, sql: "SELECT name FROM sqlite_master WHERE type = 'table' AND name LIKE 'challenges%' ORDER BY name")
            }
            #expect(tables == ["challenges"])
            try check.close()
        }
    }
}
