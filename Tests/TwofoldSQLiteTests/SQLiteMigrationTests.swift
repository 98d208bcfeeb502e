import Foundation
import GRDB
import Testing
import TwofoldCore
@testable import TwofoldSQLite

@Suite("SQLite migrations")
struct SQLiteMigrationTests {
    @Test("v2 keeps every data key, recovery code and throttle row, and clusters those tables by user")
    func clusteredUserRows() async throws {
        try await TemporaryStores.with { stores in
            let path = stores.path("v1.sqlite")
            try FileManager.default.createDirectory(at: stores.directory, withIntermediateDirectories: true)
            let alice = Fixtures.user(0)
            let v1 = try DatabaseQueue(path: path)
            try SQLiteMigrations.migrator.migrate(v1, upTo: "v1-schema")
            try await v1.write { db in
                try db.execute(sql: "INSERT INTO data_keys (app_id, user_id, key_id, wrapped, created_at) VALUES (?, ?, 'mk_1', x'010203', 5)",
                               arguments: [Fixtures.app.rawValue, alice.rawValue])
                for index in 0..<3 {
                    try db.execute(sql: "INSERT INTO recovery_codes (app_id, user_id, idx, hash, created_at, used_at) VALUES (?, ?, ?, x'AA', 7, ?)",
                                   arguments: [Fixtures.app.rawValue, alice.rawValue, index, index == 1 ? 9 : nil])
                }
                try db.execute(sql: "INSERT INTO user_state (app_id, user_id, failures, locked_until) VALUES (?, ?, 6, 60000)",
                               arguments: [Fixtures.app.rawValue, alice.rawValue])
            }
            try v1.close()

            let store = try SQLiteStore(path: path)
            try await store.migrate()
            #expect(try await store.wrappedDataKey(applicationID: Fixtures.app, userID: alice) == WrappedKey(keyID: "mk_1", bytes: [1, 2, 3]))
            let codes = try await store.recoveryCodes(applicationID: Fixtures.app, userID: alice)
            #expect(codes.map(\.index) == [0, 1, 2])
            #expect(codes.map { $0.usedAt != nil } == [false, true, false])
            let state = try await store.throttleState(applicationID: Fixtures.app, userID: alice)
            #expect(state == ThrottleState(failures: 6, lockedUntil: Date(timeIntervalSince1970: 60)))
            #expect(try await store.keyUsage() == ["mk_1": 1])
            try await store.close()

            let check = try DatabaseQueue(path: path)
            for table in ["data_keys", "recovery_codes", "user_state"] {
                // A WITHOUT ROWID table has no rowid column to select.
                #expect(try await SchemaChecks.hasRowid(table, in: check) == false, "\(table) still has a rowid")
            }
            let index = try await check.read { db in
                try Bool.fetchOne(db, sql: "SELECT 1 FROM sqlite_master WHERE type = 'index' AND name = 'data_keys_by_key_id'")
            }
            #expect(index == true)
            try check.close()
        }
    }

    @Test("v3 keeps every factor in the order it was added, clusters factors by user, and ids stay unique")
    func clusteredFactors() async throws {
        try await TemporaryStores.with { stores in
            let path = stores.path("v2.sqlite")
            try FileManager.default.createDirectory(at: stores.directory, withIntermediateDirectories: true)
            let alice = Fixtures.user(0), bob = Fixtures.user(1)
            // Added in this order, all at the same instant: bob's, alice's second id first, then her first.
            let added = [Fixtures.factor(7, user: bob), Fixtures.factor(2, user: alice), Fixtures.factor(1, user: alice)]
            let v2 = try DatabaseQueue(path: path)
            try SQLiteMigrations.migrator.migrate(v2, upTo: "v2-clustered-user-rows")
            try await v2.write { db in
                for factor in added {
                    try db.execute(sql: """
                        INSERT INTO factors (id, app_id, user_id, type, status, created_at, label, issuer, algorithm, digits,
                                             period, sealed_secret, last_step, drift)
                        VALUES (?, ?, ?, 'totp', 'active', ?, ?, 'ACME', 'sha1', 6, 30, ?, ?, 0)
                        """, arguments: [factor.id.rawValue, factor.applicationID.rawValue, factor.userID.rawValue,
                                         StoredTime.milliseconds(factor.createdAt), factor.label, Data(factor.sealedSecret),
                                         StoredStep.stored(41)])
                }
            }
            try v2.close()

            let store = try SQLiteStore(path: path)
            try await store.migrate()
            let aliceFactors = try await store.factors(applicationID: Fixtures.app, userID: alice)
            #expect(aliceFactors.map(\.id) == [added[1].id, added[2].id])
            #expect(aliceFactors.allSatisfy { $0.lastAcceptedStep == 41 && $0.sealedSecret == Array("opaque".utf8) })
            #expect(try await store.factors(applicationID: Fixtures.app, userID: bob).map(\.id) == [added[0].id])
            // A factor added after the migration comes after the migrated ones; a taken id is a conflict.
            let third = Fixtures.factor(3, user: alice)
            try await store.insertFactor(third, audit: Fixtures.audit(.factorEnrolled, alice))
            #expect(try await store.factors(applicationID: Fixtures.app, userID: alice).map(\.id) == [added[1].id, added[2].id, third.id])
            await #expect { try await store.insertFactor(Fixtures.factor(7, user: alice), audit: Fixtures.audit(.factorEnrolled, alice)) }
                throws: { ($0 as? TwofoldError)?.code == .conflict }
            try await store.close()

            let check = try DatabaseQueue(path: path)
            #expect(try await SchemaChecks.hasRowid("factors", in: check) == false, "factors still has a rowid")
            try check.close()
        }
    }
}
