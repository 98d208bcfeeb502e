import Benchmark
import Foundation
import GRDB
import Synchronization
import TwofoldCore
import TwofoldSQLite

/// Verifications per second in-process (no HTTP), valid codes across many users, audit log on,
/// against each database's own limit measured in the same run:
/// - SQLite: bare single-row UPDATE transactions with the same journal (WAL) and synchronous
///   setting as the store;
/// - PostgreSQL: pgbench's single-row UPDATE at the same number of clients (run-store.sh runs it).
/// One iteration is 1,000 verifications of distinct users at a fresh TOTP step (scalingFactor
/// .kilo: figures are per verification), 64 in flight.
let benchmarks: @Sendable () -> Void = {
    Benchmark.defaultConfiguration = .init(
        metrics: [.throughput, .wallClock],
        timeUnits: .microseconds,
        scalingFactor: .kilo,
        maxDuration: .seconds(15),
        maxIterations: 40
    )
    let concurrency = 64
    // TWOFOLD_BENCH_USERS="1000 1000000" (the default) picks the enrolled-user counts.
    let userCounts = (ProcessInfo.processInfo.environment["TWOFOLD_BENCH_USERS"] ?? "1000 1000000")
        .split(separator: " ").compactMap { Int($0) }

    for durability in [SQLiteDurability.full, .normal] {
        let referenceName = "SQLite reference: single-row UPDATE transactions, WAL, synchronous=\(durability.rawValue)"
        Benchmark(referenceName) { benchmark in
            let pool = try State.shared.value(referenceName, as: DatabasePool.self)
            var id = 0
            for _ in benchmark.scaledIterations {
                id = (id + 1) % 1_000
                try pool.write { db in try db.execute(sql: "UPDATE t SET v = v + 1 WHERE id = ?", arguments: [id]) }
            }
        } setup: {
            let directory = VerificationFixture.root.appendingPathComponent("sqlite-reference")
            try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
            let pool = try DatabasePool(path: directory.appendingPathComponent("reference-\(durability.rawValue).sqlite").path)
            // Set on the writer after GRDB switched to WAL (which sets NORMAL), as the store does.
            try await pool.writeWithoutTransaction { db in
                try db.execute(sql: "PRAGMA synchronous = \(durability == .full ? "FULL" : "NORMAL")")
                let applied = try Int.fetchOne(db, sql: "PRAGMA synchronous")
                precondition(applied == (durability == .full ? 2 : 1), "synchronous was not applied")
            }
            try await pool.write { db in
                try db.execute(sql: "CREATE TABLE IF NOT EXISTS t (id INTEGER PRIMARY KEY, v INTEGER NOT NULL)")
                try db.execute(sql: """
                    WITH RECURSIVE n(x) AS (SELECT 0 UNION ALL SELECT x + 1 FROM n WHERE x < 999)
                    INSERT OR IGNORE INTO t (id, v) SELECT x, 0 FROM n
                    """)
            }
            State.shared.set(referenceName, pool)
        } teardown: {
            State.shared.remove(referenceName)
        }

        for users in userCounts {
            let name = "SQLite verifications, \(users) users, synchronous=\(durability.rawValue)"
            Benchmark(name) { benchmark in
                try await State.shared.value(name, as: VerificationFixture.self).measure(benchmark, concurrency: concurrency)
            } setup: {
                State.shared.set(name, try await VerificationFixture.sqlite(users: users, durability: durability))
            } teardown: {
                try await State.shared.value(name, as: VerificationFixture.self).store.close()
                State.shared.remove(name)
            }
        }
    }

    if let url = ProcessInfo.processInfo.environment["TWOFOLD_BENCH_POSTGRES_URL"] {
        for users in userCounts {
            let name = "PostgreSQL verifications, \(users) users, \(concurrency) clients"
            Benchmark(name) { benchmark in
                try await State.shared.value(name, as: VerificationFixture.self).measure(benchmark, concurrency: concurrency)
            } setup: {
                let base = url.split(separator: "?", maxSplits: 1).first.map(String.init) ?? url
                let database = String(base[..<(base.lastIndex(of: "/") ?? base.endIndex)]) + "/bench\(users)"
                State.shared.set(name, try await VerificationFixture.postgres(url: database, users: users))
            } teardown: {
                try await State.shared.value(name, as: VerificationFixture.self).store.close()
                State.shared.remove(name)
            }
        }
    }
}

extension VerificationFixture {
    func measure(_ benchmark: Benchmark, concurrency: Int) async throws {
        var random = SystemRandomNumberGenerator()
        let allowed = try await round(count: benchmark.scaledIterations.count, concurrency: concurrency, random: &random)
        precondition(allowed == benchmark.scaledIterations.count, "a valid code was refused")
    }
}

/// What setup hands to the measured closure (ordo-one's hooks return nothing).
final class State: Sendable {
    static let shared = State()
    private let values = Mutex<[String: any Sendable]>([:])

    func set(_ key: String, _ value: any Sendable) { values.withLock { $0[key] = value } }
    func remove(_ key: String) { _ = values.withLock { $0.removeValue(forKey: key) } }

    func value<T>(_ key: String, as type: T.Type) throws -> T {
        guard let value = values.withLock({ $0[key] }) as? T else {
            throw CocoaError(.featureUnsupported, userInfo: [NSLocalizedDescriptionKey: "no state for \(key)"])
        }
        return value
    }
}
