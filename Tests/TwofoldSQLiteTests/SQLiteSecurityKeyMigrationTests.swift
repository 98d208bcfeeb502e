import Foundation
import GRDB
import Testing
import TwofoldCore
@testable import TwofoldSQLite

@Suite("SQLite migration v7: security keys")
struct SQLiteSecurityKeyMigrationTests {
    @Test("v7 keeps every challenge and its indexes through the rebuild, drops the CHECK on its type, and adds no relying party")
    func securityKeys() async throws {
        try await TemporaryStores.with { stores in
            let path = stores.path("v6.sqlite")
            try FileManager.default.createDirectory(at: stores.directory, withIntermediateDirectories: true)
            let alice = Fixtures.user(0)
            let factor = Fixtures.factor(1, user: alice)
            let delivered = ChallengeRecord(
                id: ChallengeID(rawValue: "chl_bbbbbbbbbbbbbbbbbbbbbbbbbb")!, applicationID: Fixtures.app, userID: alice, factorID: factor.id,
                type: .push, mode: .approve, purpose: .login, status: .approved, createdAt: Fixtures.start,
                expiresAt: Fixtures.start.addingTimeInterval(300), finishedAt: Fixtures.start.addingTimeInterval(20), codeHash: [4],
                failedAttempts: 1, maxAttempts: 3, context: ChallengeContext(ip: "192.0.2.1"),
                delivery: ChallengeDelivery(provider: "webpush", status: "sent", providerReference: "r1", attempt: 0))
            let pending = ChallengeRecord(
                id: ChallengeID(rawValue: "chl_cccccccccccccccccccccccccc")!, applicationID: Fixtures.app, userID: alice, factorID: factor.id,
                type: .sms, mode: .code, purpose: .enrollment, createdAt: Fixtures.start.addingTimeInterval(1),
                expiresAt: Fixtures.start.addingTimeInterval(301), codeHash: [1, 2], maxAttempts: 5)
            let v6 = try DatabaseQueue(path: path)
            try SQLiteMigrations.migrator.migrate(v6, upTo: SQLiteMigrations.apiKeyMACs)
            try await v6.write { db in
                try db.execute(sql: """
                    INSERT INTO applications (id, name, created_at, sms_template, domain, push_number_matching)
                    VALUES (?, 'default', 5, 'Code {code}', 'shop.example.com', 0)
                    """, arguments: [Fixtures.app.rawValue])
                for challenge in [delivered, pending] {
                    try db.directRun("INSERT INTO challenges (\(SQLiteCoding.challengeColumns)) VALUES (\(Array(repeating: "?", count: 20).joined(separator: ", ")))",
                                     try SQLiteCoding.values(challenge))
                }
            }
            try v6.close()

            let store = try SQLiteStore(path: path)
            #expect(try await store.migrate().first == 7)
            #expect(try await store.challenge(id: delivered.id) == delivered)
            #expect(try await store.challenge(id: pending.id) == pending)
            #expect(try await store.application(named: "default") == Application(
                id: Fixtures.app, name: "default", createdAt: StoredTime.date(milliseconds: 5), smsTemplate: "Code {code}",
                domain: "shop.example.com", pushNumberMatching: false, relyingPartyID: nil, origins: []))
            var ceremony = pending
            ceremony.id = ChallengeID(rawValue: "chl_dddddddddddddddddddddddddd")!
            ceremony.type = .webauthn
            ceremony.mode = .approve
            #expect(try await store.insertChallenge(ceremony, spending: [], audit: Fixtures.audit(.challengeCreated, alice)) == nil)
            #expect(try await store.challenge(id: ceremony.id) == ceremony)
            try await store.close()

            let check = try DatabaseQueue(path: path)
            #expect(try await SchemaChecks.hasRowid("challenges", in: check) == false, "challenges has a rowid")
            #expect(try await SchemaChecks.hasRowid("security_keys", in: check) == false, "security_keys has a rowid")
            let indexes = try await check.read { db in
                try Row.fetchAll(db, sql: """
                    SELECT name, sql FROM sqlite_master WHERE type = 'index' AND tbl_name = 'challenges' AND sql IS NOT NULL ORDER BY name
                    """).map { (try $0.decode(String.self, forColumn: "name"), try $0.decode(String.self, forColumn: "sql")) }
            }
            #expect(indexes.map(\.0) == ["challenges_by_creation", "challenges_by_user", "challenges_pending"])
            #expect(indexes.last?.1.hasSuffix("WHERE status = 'pending'") == true, "\(indexes)")
            let tables = try await check.read { db in
                try String.fetchAll(db, sql: "SELECT name FROM sqlite_master WHERE type = 'table' AND name LIKE 'challenges%' ORDER BY name")
            }
            #expect(tables == ["challenges"])

            // A type this build does not know is stored, and read as an invalid value; the other CHECKs stay.
            var later = try SQLiteCoding.values(pending)
            later[0] = .text("chl_eeeeeeeeeeeeeeeeeeeeeeeeee")
            later[4] = .text("carrier-pigeon")
            var badMode = try SQLiteCoding.values(pending)
            badMode[0] = .text("chl_ffffffffffffffffffffffffff")
            badMode[5] = .text("telepathy")
            let (unknownType, refusedMode) = (later, badMode)
            try await check.write { db in
                let insert = "INSERT INTO challenges (\(SQLiteCoding.challengeColumns)) VALUES (\(Array(repeating: "?", count: 20).joined(separator: ", ")))"
                try db.directRun(insert, unknownType)
                #expect(throws: DatabaseError.self) { try db.directRun(insert, refusedMode) }
            }
            try check.close()
            let reopened = try SQLiteStore(path: path)
            #expect(try await reopened.migrate() == [])
            let error = await #expect(throws: TwofoldError.self) {
                try await reopened.challenge(id: ChallengeID(rawValue: "chl_eeeeeeeeeeeeeeeeeeeeeeeeee")!)
            }
            #expect(error?.code == .unavailable)
            try await reopened.close()
        }
    }
}
