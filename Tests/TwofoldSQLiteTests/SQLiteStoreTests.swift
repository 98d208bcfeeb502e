import Foundation
import GRDB
import Testing
import TwofoldCore
import TwofoldOTP
@testable import TwofoldSQLite

@Suite("SQLite store")
struct SQLiteStoreTests {
    @Test("migrating twice, or from a second store on the same file, changes nothing")
    func migrationsAreIdempotent() async throws {
        try await TemporaryStores.with { stores in
            let first = try stores.open()
            try await first.migrate()
            try await first.insertApplication(Application(id: Fixtures.app, name: "default", createdAt: Fixtures.start),
                                              audit: Fixtures.audit(.applicationCreated, nil))
            try await first.migrate()
            try await first.ping()
            let second = try stores.open()
            try await second.migrate()
            #expect(try await second.applications().map(\.name) == ["default"])
            #expect(try await first.appliedMigrations() == SQLiteMigrations.migrator.migrations)
        }
    }

    @Test("several stores migrating one new file at once all succeed, and share it")
    func concurrentMigrations() async throws {
        try await TemporaryStores.with { stores in
            for round in 0..<10 {
                let opened = try (0..<4).map { _ in try stores.open("race\(round).sqlite") }
                try await withThrowingTaskGroup(of: Void.self) { group in
                    for store in opened {
                        group.addTask { try await store.migrate() }
                    }
                    try await group.waitForAll()
                }
            }
            let opened = try (0..<4).map { _ in try stores.open("race0.sqlite") }
            for (index, store) in opened.enumerated() {
                try await store.appendAudit(Fixtures.audit(.verification, Fixtures.user(index)))
            }
            #expect(try await opened[0].auditEvents(AuditQuery()).count == 4)
        }
    }

    @Test("closing folds the WAL back into the file, so a stopped node leaves one file; closing twice is harmless")
    func closeCheckpoints() async throws {
        try await TemporaryStores.with { stores in
            let store = try stores.open()
            try await store.migrate()
            let application = Application(id: ApplicationID(rawValue: "app_aaaaaaaaaaaaaaaaaaaaaaaaaa")!, name: "shop", createdAt: Date())
            let chain = AuditChain(macKeyBytes: Array(repeating: 1, count: 32), pseudonymKeyBytes: Array(repeating: 2, count: 32))
            try await store.insertApplication(application, audit: AuditAppend(
                AuditDraft(time: Date(), applicationID: application.id, userID: nil, actor: "test", action: .applicationCreated, outcome: "success"),
                chain: chain))
            try await store.close()
            try await store.close()
            let wal = (try? FileManager.default.attributesOfItem(atPath: stores.path() + "-wal")[.size] as? NSNumber)?.intValue ?? 0
            #expect(wal == 0)
            let file = try #require(FileManager.default.contents(atPath: stores.path()))
            #expect(file.range(of: Data("shop".utf8)) != nil)
        }
    }

    @Test("durability settings reach the writer connection", arguments: SQLiteDurability.allCases)
    func durabilityPragmas(durability: SQLiteDurability) async throws {
        try await TemporaryStores.with { stores in
            let store = try await stores.fresh(durability: durability)
            // NORMAL in both modes: with `.full` the WAL flusher syncs after every commit.
            #expect(try await store.writerPragma("synchronous") == "1")
            #expect((store.batcher.flusher != nil) == (durability == .full))
            #expect(try await store.writerPragma("journal_mode") == "wal")
            #expect(try await store.writerPragma("foreign_keys") == "1")
            #expect(try await store.writerPragma("secure_delete") == "1")
        }
    }

    @Test("a new database and its parent directories are readable by the owner only")
    func filePermissions() async throws {
        try await TemporaryStores.with { stores in
            let path = stores.directory.appendingPathComponent("nested/deeper/twofold.sqlite").path
            let store = try SQLiteStore(path: path)
            try await store.migrate()
            try await store.appendAudit(Fixtures.audit(.verification, nil))
            for file in [path, path + "-wal", path + "-shm"] {
                let mode = try FileManager.default.attributesOfItem(atPath: file)[.posixPermissions] as? Int
                #expect(mode == 0o600, "\(file) has mode \(String(mode ?? 0, radix: 8))")
            }
            let directoryMode = try FileManager.default.attributesOfItem(atPath: (path as NSString).deletingLastPathComponent)[.posixPermissions] as? Int
            #expect(directoryMode == 0o700)
            try await store.close()
        }
    }

    @Test("the file holds exactly the sealed blob it was given, never the plaintext behind it")
    func storesOpaqueBlobsVerbatim() async throws {
        try await TemporaryStores.with { stores in
            let store = try stores.open()
            try await store.migrate()
            var generator = SystemRandomNumberGenerator()
            let plaintext = (0..<20).map { _ in UInt8.random(in: 0...255, using: &generator) }
            let pad = (0..<20).map { _ in UInt8.random(in: 0...255, using: &generator) }
            let sealed = [0x01] + zip(plaintext, pad).map { $0 ^ $1 } + Array(repeating: 0xAB, count: 16)
            let alice = Fixtures.user(0)
            let factor = Fixtures.factor(0, user: alice, sealedSecret: sealed)
            try await store.insertFactor(factor, audit: Fixtures.audit(.factorEnrolled, alice))
            #expect(try await store.factors(applicationID: Fixtures.app, userID: alice) == [factor])

            var contents = Data()
            for suffix in ["", "-wal"] {
                contents.append(try Data(contentsOf: URL(fileURLWithPath: stores.path() + suffix)))
            }
            #expect(contents.range(of: Data(sealed)) != nil, "the sealed blob is stored byte for byte")
            #expect(contents.range(of: Data(plaintext)) == nil)
            let base32 = try OTPSecret(bytes: plaintext).base32
            #expect(contents.range(of: Data(base32.utf8)) == nil)
        }
    }

    @Test("SQLite failures surface as unavailable, naming the operation")
    func errorsAreUnavailable() async throws {
        try await TemporaryStores.with { stores in
            let store = try stores.open()
            // Not migrated: there is no table to read.
            await #expect { try await store.applications() } throws: { error in
                guard let error = error as? TwofoldError else { return false }
                return error.code == .unavailable && error.message.contains("list applications")
            }
            await #expect { try await store.appendAudit(Fixtures.audit(.verification, nil)) } throws: { error in
                (error as? TwofoldError)?.code == .unavailable
            }
        }
    }

    // The tables are STRICT, so a value of the wrong type cannot be stored; these are values of
    // the right type that Twofold never writes.
    @Test("a stored value Twofold never writes is an unavailable store, not a crash or a guess",
          arguments: ["UPDATE factors SET status = 'bogus'", "UPDATE factors SET algorithm = 'md5'",
                      "UPDATE factors SET type = 'pigeon'", "UPDATE factors SET id = 'not-an-id'"])
    func damagedValuesAreUnavailable(damage: String) async throws {
        try await TemporaryStores.with { stores in
            let store = try stores.open()
            try await store.migrate()
            let alice = Fixtures.user(0)
            try await store.insertFactor(Fixtures.factor(0, user: alice), audit: Fixtures.audit(.factorEnrolled, alice))
            let editor = try DatabaseQueue(path: stores.path())
            try await editor.writeWithoutTransaction { db in
                try db.execute(sql: "PRAGMA ignore_check_constraints = ON")
                try db.execute(sql: damage)
            }
            try editor.close()
            await #expect { try await store.factors(applicationID: Fixtures.app, userID: alice) } throws: { error in
                (error as? TwofoldError)?.code == .unavailable
            }
        }
    }

    @Test("a direct row reads each type it is asked for and refuses every other, naming the column")
    func directRowTypes() throws {
        let queue = try DatabaseQueue()
        try queue.read { db in
            let read: Void? = try db.directFetchOne("SELECT 7 AS n, 'text' AS t, x'0102' AS b, x'' AS e, NULL AS z, 1.5 AS r",
                                                    []) { (row: DirectRow) throws -> Void in
                #expect(try row.int64(0) == 7)
                #expect(try row.int(0) == 7)
                #expect(try row.text(1) == "text")
                #expect(try row.bytes(2) == [1, 2])
                #expect(try row.bytes(3) == [])
                #expect(try row.optionalInt64(4) == nil)
                #expect(try row.optionalText(4) == nil)
                for wrongType in [{ _ = try row.int64(1) }, { _ = try row.text(0) }, { _ = try row.bytes(1) }, { _ = try row.int64(4) },
                             { _ = try row.text(4) }, { _ = try row.bytes(4) }, { _ = try row.int64(5) }, { _ = try row.text(2) }] {
                    #expect { try wrongType() } throws: { ($0 as? TwofoldError)?.code == .unavailable }
                }
                #expect { _ = try row.bytes(1) } throws: { ($0 as? TwofoldError)?.message.contains("column t") == true }
            }
            #expect(read != nil)
            // An empty blob goes in as an empty blob, not NULL, and a value count that does not
            // match the parameters is refused.
            #expect(try db.directFetchOne("SELECT typeof(?)", [.blob([])]) { try $0.text(0) } == "blob")
            #expect(throws: DatabaseError.self) { try db.directRun("SELECT ?", []) }
        }
    }

    @Test("a path that cannot be a database is refused as unavailable")
    func unusablePath() throws {
        try #require(throws: TwofoldError.self) {
            try SQLiteStore(path: "/proc/twofold/cannot/exist.sqlite")
        }
    }

    static let orderedSteps: [(UInt64, UInt64)] = [(0, 1), (1 << 63 - 1, 1 << 63), (1 << 63, .max - 1), (5, .max)]

    @Test("steps keep their unsigned order in SQL", arguments: orderedSteps)
    func stepEncodingKeepsOrder(lower: UInt64, higher: UInt64) {
        #expect(StoredStep.stored(lower) < StoredStep.stored(higher))
        #expect(StoredStep.step(stored: StoredStep.stored(higher)) == higher)
        #expect(StoredStep.step(stored: StoredStep.stored(lower)) == lower)
    }
}
