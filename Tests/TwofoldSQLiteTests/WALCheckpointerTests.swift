import Foundation
import Testing
import TwofoldCore
@testable import TwofoldSQLite

@Suite("SQLite WAL checkpoints")
struct WALCheckpointerTests {
    /// Frames the WAL file has room for: it is reused from the start after a complete
    /// checkpoint, so its size is the longest it ever grew.
    static func walFrames(_ path: String) throws -> Int {
        let size = try FileManager.default.attributesOfItem(atPath: path + "-wal")[.size] as? Int ?? 0
        return max(0, size - 32) / (4096 + 24)
    }

    /// Commits `count` audit appends one after the other, each its own transaction.
    static func commitOneByOne(_ count: Int, _ store: SQLiteStore) async throws {
        for _ in 0..<count {
            try await store.appendAudit(Fixtures.audit(.verification, nil))
        }
    }

    @Test("checkpoints run on their own connection as the WAL grows; the writer's own keeps it short")
    func checkpointsInTheBackground() async throws {
        try await TemporaryStores.with { stores in
            let path = stores.path("background.sqlite")
            let checkpointer = WALCheckpointer(databasePath: path, backgroundFrames: 16, writerFrames: 64)
            let store = try SQLiteStore(path: path, durability: .full, checkpointer: checkpointer)
            try await store.migrate()
            try await Self.commitOneByOne(300, store)
            // Counted only when it copied something readable (a connection that cannot read the
            // WAL reports a negative count, which is a failure).
            #expect(checkpointer.statistics.background > 0)
            // 300 commits of a few pages each, never checkpointed, would leave ~1,000 frames. The
            // writer's own checkpoint meets SQLITE_BUSY while the background one runs, so on a
            // loaded machine the WAL may pass `writerFrames` for a while.
            #expect(try Self.walFrames(path) < 300)
            // Every event is there, and the chain still verifies.
            #expect(try await store.auditShardHeads().map(\.headSequence).reduce(0, +) == 300)
            let report = try await verifyAuditChains(store)
            #expect(report.isIntact, "\(report.problems)")
            #expect(report.eventsChecked == 300)
            try await store.close()
            #expect(try Self.walFrames(path) == 0, "closing folds the WAL into the file")
        }
    }

    @Test("without the background checkpoint, the writer checkpoints in its place once the WAL is long")
    func writerBoundsTheWAL() async throws {
        try await TemporaryStores.with { stores in
            let path = stores.path("writer.sqlite")
            let checkpointer = WALCheckpointer(databasePath: path, backgroundFrames: .max, writerFrames: 32)
            let store = try SQLiteStore(path: path, durability: .full, checkpointer: checkpointer)
            try await store.migrate()
            try await Self.commitOneByOne(300, store)
            let statistics = checkpointer.statistics
            #expect(statistics.onWriter > 0)
            #expect(statistics.background == 0)
            #expect(try Self.walFrames(path) < 100)
            let report = try await verifyAuditChains(store)
            #expect(report.isIntact, "\(report.problems)")
            #expect(report.eventsChecked == 300)
            try await store.close()
        }
    }
}
