import Foundation
import GRDB
import Synchronization
import TwofoldCore

/// The ``TwofoldStore`` on one SQLite file: the single-node deployment.
///
/// One file in WAL mode, opened through a GRDB `DatabasePool`: one writer connection and a few
/// reader connections. A pool rather than a `DatabaseQueue` because WAL lets readers run while
/// the writer commits: listing factors, paging the audit log or the engine's follow-up reads
/// after a verification never wait behind a group commit's fsync, and readers on different
/// threads do not wait for each other. Writes are serialised on the pool's one writer anyway, and
/// they all go through ``SQLiteWriteBatcher``, which commits the writes waiting at the same time
/// in one transaction (group commit).
///
/// Several processes (or several `SQLiteStore`s) may open the same file: every write transaction
/// is `BEGIN IMMEDIATE`, which takes SQLite's write lock before reading anything, so the
/// snapshot an attempt decides on is the latest one and its compare-and-set cannot be lost
/// between processes; a busy timeout makes the other side wait instead of failing.
///
/// Errors: GRDB and SQLite errors surface as ``TwofoldError`` `unavailable` naming the
/// operation (never the statement's arguments, which hold sealed secrets and hashes); a
/// duplicate application name or id is `conflict`; errors thrown by an attempt's `decide` are
/// rethrown unchanged.
public final class SQLiteStore: TwofoldStore {
    /// The database file.
    public let path: String
    public let durability: SQLiteDurability
    let pool: DatabasePool
    let batcher: SQLiteWriteBatcher
    /// Checkpoints the WAL off the writer (``WALCheckpointer``).
    let checkpointer: WALCheckpointer
    /// The keys without a MAC when this instance applied ``SQLiteMigrations/apiKeyMACs``.
    let migratedAPIKeys = Mutex<[String]>([])

    /// How much of the file each connection reads through memory mapping instead of `pread`.
    ///
    /// A small store lives in SQLite's own page cache, and mapping it would only add every page
    /// the writer ever touches to the process's resident set (the audit log grows without end).
    /// In a large one an attempt's B-tree pages are rarely cached, and through the map each of
    /// them is a memory read instead of a `pread` call (about a dozen per verification with a
    /// million users). So a file already past ``mappingThreshold`` when the store opens is
    /// mapped, and a smaller one is not. Mapped pages are the kernel's page cache, shared and
    /// reclaimable, not copies.
    static func mappedBytes(forFileOfSize size: Int) -> Int {
        size >= mappingThreshold ? 1 << 36 : 0
    }

    static let mappingThreshold = 256 << 20

    /// How long a connection waits for another process's write lock before failing.
    static let busyTimeout: TimeInterval = 10

    /// Opens (creating if needed) the database at `path`. Call ``migrate()`` before use.
    ///
    /// A new file and its parent directories are created readable by the owner only (0600 and
    /// 0700); SQLite gives the `-wal` and `-shm` files the database file's permissions.
    /// - Parameters:
    ///   - path: The database file.
    ///   - durability: When commits reach stable storage; ``SQLiteDurability/full`` unless
    ///     you have decided otherwise.
    /// - Throws: `unavailable` when the directory or file cannot be created or opened.
    public convenience init(path: String, durability: SQLiteDurability = .full) throws {
        try self.init(path: path, durability: durability, checkpointer: WALCheckpointer(databasePath: path))
    }

    /// With the checkpointer's thresholds chosen (tests use small ones).
    init(path: String, durability: SQLiteDurability, checkpointer: WALCheckpointer) throws {
        self.path = path
        self.checkpointer = checkpointer
        self.durability = durability
        try SQLiteFile.createIfAbsent(path)
        let fileSize = (try? FileManager.default.attributesOfItem(atPath: path)[.size] as? Int) ?? 0
        let mappedBytes = Self.mappedBytes(forFileOfSize: fileSize)
        var configuration = Configuration()
        configuration.label = "TwofoldSQLite"
        configuration.busyMode = .timeout(Self.busyTimeout)
        configuration.foreignKeysEnabled = true
        configuration.prepareDatabase { db in
            try db.execute(sql: "PRAGMA mmap_size = \(mappedBytes)")
        }
        do {
            pool = try DatabasePool(path: path, configuration: configuration)
            // Per-connection settings of the writer. GRDB sets `synchronous = NORMAL` when it
            // turns WAL on, after `prepareDatabase` has run, so they are applied here.
            try pool.writeWithoutTransaction { db in
                // NORMAL for both: SQLite then syncs the WAL only before checkpoints, and with
                // `.full` the batcher's WALFlusher syncs it after every commit, off the writer.
                try db.execute(sql: "PRAGMA synchronous = NORMAL")
                // F_FULLFSYNC on Apple platforms (ignored elsewhere): fsync alone is not durable there.
                try db.execute(sql: "PRAGMA fullfsync = \(durability == .full ? "ON" : "OFF")")
                // Deleted rows (an erased user's data key, purged events) are overwritten, not left
                // in free pages.
                try db.execute(sql: "PRAGMA secure_delete = ON")
                if let connection = db.sqliteConnection { checkpointer.install(on: connection) }
            }
        } catch {
            throw TwofoldError(.unavailable, "cannot open the SQLite database \(path): \(Self.describe(error))")
        }
        batcher = SQLiteWriteBatcher(pool: pool, flusher: durability == .full ? WALFlusher(databasePath: path) : nil)
    }

    // MARK: - Lifecycle

    /// Creates or upgrades the schema. Idempotent; safe to run from several processes on one file
    /// at once (see ``SQLiteMigrations``).
    /// - Returns: The versions this call applied, in order; a migration's version is its place
    ///   in ``SQLiteMigrations`` counting from 1 (`v1-schema` is 1). They are the migrations
    ///   missing before the call and recorded after it, less any another process was caught
    ///   applying meanwhile; one that another process applied in the instant between this call's
    ///   reading of the list and its first migration would be counted too.
    @discardableResult
    public func migrate() async throws -> [Int] {
        let migrator = SQLiteMigrations.migrator
        let before = try await read("list applied migrations") { db in try migrator.appliedIdentifiers(db) }
        var appliedElsewhere = Set<String>()
        for _ in 0..<SQLiteMigrations.attempts {
            do {
                let after = try await runMigrator()
                if !before.contains(SQLiteMigrations.apiKeyMACs), after.contains(SQLiteMigrations.apiKeyMACs),
                   !appliedElsewhere.contains(SQLiteMigrations.apiKeyMACs) {
                    let ids = try await read("list the keys of the previous version") { db in
                        try String.fetchAll(db, sql: "SELECT id FROM api_keys WHERE mac IS NULL ORDER BY rowid")
                    }
                    migratedAPIKeys.withLock { $0 = ids }
                }
                return migrator.migrations.enumerated().compactMap { index, identifier in
                    after.contains(identifier) && !before.contains(identifier) && !appliedElsewhere.contains(identifier) ? index + 1 : nil
                }
            } catch let error as SQLiteMigrations.AppliedConcurrently {
                appliedElsewhere.insert(error.identifier)
                continue
            } catch {
                throw Self.storeError(error, "migrate the schema")
            }
        }
        throw TwofoldError(.unavailable, "cannot migrate the SQLite database \(path): other processes keep migrating it")
    }

    /// Runs the migrations the file lacks; returns the identifiers recorded once they ran, read
    /// on the writer before it lets anything else in.
    private func runMigrator() async throws -> Set<String> {
        try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Set<String>, any Error>) in
            SQLiteMigrations.migrator.asyncMigrate(pool) { result in
                continuation.resume(with: Result { try SQLiteMigrations.migrator.appliedIdentifiers(try result.get()) })
            }
        }
    }

    public func ping() async throws {
        try await read("answer a ping") { db in
            _ = try Int.fetchOne(db, sql: "SELECT 1")
        }
    }

    /// Refuses new writes, lets the queued ones commit, then closes every connection.
    public func close() async throws {
        // Only the first close folds the WAL and closes the pool; a closed pool is never touched again.
        guard batcher.close() else { return }
        let pool = self.pool
        let flusher = batcher.flusher
        let checkpointer = self.checkpointer
        do {
            // `DatabasePool.close()` blocks until the writer queue is idle: not on a task's thread.
            try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
                DispatchQueue.global().async {
                    do {
                        // Fold the WAL back into the main file, so a stopped node leaves one
                        // self-contained file. Another process still using the database keeps
                        // the WAL busy; then it stays, which SQLite handles, and that is fine.
                        checkpointer.close()
                        do {
                            _ = try pool.writeWithoutTransaction { db in
                                if let connection = db.sqliteConnection { checkpointer.uninstall(from: connection) }
                                return try db.checkpoint(.truncate)
                            }
                        } catch let error as DatabaseError where error.resultCode == .SQLITE_BUSY || error.resultCode == .SQLITE_LOCKED {
                        }
                        // The writer is idle now: let the last syncs end and their callers go.
                        flusher?.finish()
                        try pool.close()
                        continuation.resume()
                    } catch {
                        continuation.resume(throwing: error)
                    }
                }
            }
        } catch {
            throw Self.storeError(error, "close the database")
        }
    }

    // MARK: - Access

    /// A read on one of the pool's reader connections, in a deferred transaction (a consistent
    /// snapshot that never waits for the writer).
    func read<T: Sendable>(_ operation: String, _ body: @Sendable (Database) throws -> T) async throws -> T {
        do {
            return try await pool.read(body)
        } catch {
            throw Self.storeError(error, operation)
        }
    }

    /// A write, committed with the other writes waiting at the same time (``SQLiteWriteBatcher``).
    func write<T: Sendable>(_ operation: String, _ body: @Sendable (Database) throws -> T) async throws -> T {
        do {
            return try await batcher.write(body)
        } catch {
            throw Self.storeError(error, operation)
        }
    }

    // MARK: - Diagnostics

    /// The value of `PRAGMA name` on the writer connection, the one whose settings matter.
    func writerPragma(_ name: String) async throws -> String? {
        try await write("read a setting") { db in
            try String.fetchOne(db, sql: "PRAGMA \(name)")
        }
    }

    /// The migrations recorded in the file, in the order they were applied.
    func appliedMigrations() async throws -> [String] {
        try await read("list applied migrations") { db in
            try SQLiteMigrations.migrator.appliedMigrations(db)
        }
    }

    // MARK: - Errors

    /// Carries an error thrown by an attempt's `decide` through the write path untouched.
    struct DecisionFailure: Error {
        let underlying: any Error
    }

    /// The error a caller sees: `decide`'s own errors and ``TwofoldError``s as they are,
    /// cancellation as it is, everything else (GRDB, SQLite, decoding) as `unavailable`.
    static func storeError(_ error: any Error, _ operation: String) -> any Error {
        switch error {
        case let failure as DecisionFailure:
            return failure.underlying
        case is TwofoldError, is CancellationError:
            return error
        default:
            return TwofoldError(.unavailable, "the SQLite store could not \(operation): \(describe(error))")
        }
    }

    /// SQLite's message and code, without the statement's arguments.
    static func describe(_ error: any Error) -> String {
        if let error = error as? DatabaseError {
            return "\(error.message ?? "error") (SQLite code \(error.extendedResultCode.rawValue))"
        }
        return String(describing: type(of: error))
    }

    // MARK: - Audit

    /// Appends `audit` to its shard inside the current transaction: reads the shard's head (or
    /// starts the shard), inserts the event, stores the new head.
    static func appendAudit(_ audit: AuditAppend, _ db: Database) throws {
        let shard = audit.shard
        let head = try db.directFetchOne("SELECT \(SQLiteCoding.headColumns) FROM audit_shards WHERE shard = ?", [.integer(shard)],
                                         SQLiteCoding.head) ?? audit.emptyHead()
        let (event, next) = try audit.append(after: head)
        try db.directRun("""
            INSERT INTO audit_events (shard, seq, time, app_id, user_id, user_ref, actor, action, outcome, reason,
                                      factor_id, details, prev_mac, mac)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
            """, [.integer(event.shard), .integer(event.sequence), .integer(event.timeMilliseconds), .optional(event.applicationID),
                  .optional(event.userID), .optional(event.userReference), .text(event.actor), .text(event.action),
                  .text(event.outcome), .optional(event.reason), .optional(event.factorID), .text(event.details),
                  .blob(event.previousMAC), .blob(event.mac)])
        try storeHead(next, db)
    }

    static func storeHead(_ head: AuditShardHead, _ db: Database) throws {
        try db.directRun("""
            INSERT INTO audit_shards (shard, head_seq, head_mac, first_seq, first_prev_mac, tag)
            VALUES (?, ?, ?, ?, ?, ?)
            ON CONFLICT (shard) DO UPDATE SET
                head_seq = excluded.head_seq, head_mac = excluded.head_mac, first_seq = excluded.first_seq,
                first_prev_mac = excluded.first_prev_mac, tag = excluded.tag
            """, [.integer(head.shard), .integer(head.headSequence), .blob(head.headMAC), .integer(head.firstSequence),
                  .blob(head.firstPreviousMAC), .blob(head.tag)])
    }
}
