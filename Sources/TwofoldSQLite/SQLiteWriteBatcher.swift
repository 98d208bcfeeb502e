import GRDB
import Synchronization
import TwofoldCore

/// Group commit: every write of an ``SQLiteStore`` goes through here, and the writes waiting at
/// the same moment are committed together, in one SQLite transaction.
///
/// Why: with ``SQLiteDurability/full`` every commit ends with an fsync of the WAL, which costs
/// far more than the handful of statements of a verification. Committed one by one, a hundred
/// concurrent verifications would queue behind a hundred fsyncs; committed together they pay for
/// one. This is how databases make durable commits cheap under load (PostgreSQL's
/// `commit_delay`, InnoDB's group commit), without weakening durability: no caller hears back
/// before its transaction is on disk.
///
/// How:
/// - ``write(_:)`` queues a request and, when no drain is scheduled, schedules one on the
///   pool's single writer connection (GRDB's serial writer queue).
/// - A drain takes *every* request queued at that moment and opens one `BEGIN IMMEDIATE`
///   transaction. Each request runs inside its own `SAVEPOINT`: one that throws (its `decide`
///   failed, a constraint failed) is rolled back to its savepoint alone and keeps its own error,
///   while the others go on. The drain then commits once and resumes every caller, each with its
///   own result, or with the commit's error when the commit failed (then nothing was written).
/// - With ``SQLiteDurability/full``, the callers of a committed batch are resumed by
///   ``WALFlusher`` once the WAL is synced, while the writer already drains the next batch.
/// - Requests arriving while a batch runs wait for the next drain, which starts as soon as this
///   one ends. Batches therefore grow with the load by themselves,
///   and a lone request is committed at once: there is no timer and no added latency.
/// - Requests run in arrival order, so within a batch a later request sees the effects of the
///   earlier ones: two attempts with the same code still race through one compare-and-set.
///
/// Guarantees: every caller is resumed exactly once. A request is owned by exactly one of the
/// queue (where a cancellation can still take it out and resume it with `CancellationError`,
/// before anything ran) or a drain (which resumes it after the commit, whether or not its task
/// was cancelled meanwhile); both moves happen under the mutex. A request's closure is released
/// before its caller is resumed, so closures borrowed with `withoutActuallyEscaping` never
/// outlive the call.
final class SQLiteWriteBatcher: Sendable {
    private struct Request: Sendable {
        let id: UInt64
        let body: @Sendable (Database) throws -> Void
        let continuation: CheckedContinuation<Void, any Error>
    }

    /// Where a request's body leaves its result for the caller to pick up after the commit.
    private final class ResultBox<T: Sendable>: Sendable {
        let value = Mutex<T?>(nil)
    }

    private enum Phase: Sendable {
        /// Known, not queued yet.
        case registered
        /// Cancelled before it was queued: the enqueue resumes it with `CancellationError`.
        case cancelled
        case queued
        /// Taken by a drain, which will resume it.
        case running
    }

    private struct State: Sendable {
        var queue: [Request] = []
        var phases: [UInt64: Phase] = [:]
        var nextID: UInt64 = 0
        var draining = false
        var closed = false
        var transactions = 0
        var largestBatch = 0
    }

    private let pool: DatabasePool
    private let state = Mutex(State())
    /// With ``SQLiteDurability/full``: syncs the WAL after each commit and only then resumes
    /// its callers, while the next batch runs. Nil with ``SQLiteDurability/normal``.
    let flusher: WALFlusher?

    init(pool: DatabasePool, flusher: WALFlusher?) {
        self.pool = pool
        self.flusher = flusher
    }

    /// What the batcher has done so far, for tests and diagnostics.
    struct Statistics: Sendable, Equatable {
        /// Write transactions begun.
        var transactions: Int
        /// The most requests one transaction held.
        var largestBatch: Int
        /// Requests waiting for the next drain right now.
        var queued: Int
    }

    var statistics: Statistics {
        state.withLock { Statistics(transactions: $0.transactions, largestBatch: $0.largestBatch, queued: $0.queue.count) }
    }

    /// Runs `body` inside a savepoint of the next group-commit transaction, and returns its
    /// result once that transaction is committed.
    /// - Throws: what `body` threw (its savepoint was rolled back), the commit's error, a
    ///   `CancellationError` when the task was cancelled before the request ran, or
    ///   `unavailable` once the store is closed.
    func write<T: Sendable>(_ body: @Sendable (Database) throws -> T) async throws -> T {
        let box = ResultBox<T>()
        try await withoutActuallyEscaping(body) { body in
            try await submit { db in
                let value = try body(db)
                box.value.withLock { $0 = value }
            }
        }
        guard let value = box.value.withLock({ $0 }) else {
            throw TwofoldError(.unavailable, "a write to the SQLite store finished without a result")
        }
        return value
    }

    /// Refuses every later write. Requests already queued still run; the pool's own `close()`
    /// waits for them, since it runs on the same serial writer queue after the scheduled drain.
    /// - Returns: whether this call closed it (false when it was closed already).
    @discardableResult
    func close() -> Bool {
        state.withLock { state in
            defer { state.closed = true }
            return !state.closed
        }
    }

    // MARK: - Queueing

    private func submit(_ body: @escaping @Sendable (Database) throws -> Void) async throws {
        let id = state.withLock { state in
            state.nextID += 1
            state.phases[state.nextID] = .registered
            return state.nextID
        }
        try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
                enqueue(Request(id: id, body: body, continuation: continuation))
            }
        } onCancel: {
            cancel(id)
        }
    }

    private func enqueue(_ request: Request) {
        enum Next { case queued, refuse(any Error) }
        let failure = flusher?.failure
        let next: Next = state.withLock { state in
            if state.phases[request.id] == .cancelled {
                state.phases[request.id] = nil
                return .refuse(CancellationError())
            }
            if state.closed {
                state.phases[request.id] = nil
                return .refuse(TwofoldError(.unavailable, "the SQLite store is closed"))
            }
            if let failure {
                state.phases[request.id] = nil
                return .refuse(failure)
            }
            state.phases[request.id] = .queued
            state.queue.append(request)
            if !state.draining {
                state.draining = true
                // Scheduled under the lock (it only queues a block): a drain asked for before
                // `close()` is then on the writer queue ahead of the close's own block.
                pool.asyncWriteWithoutTransaction { [self] db in drain(db) }
            }
            return .queued
        }
        switch next {
        case .queued:
            break
        case .refuse(let error):
            // Resumed from inside `withCheckedThrowingContinuation`'s closure: the waiting task
            // continues only once this call has returned and released the request.
            request.continuation.resume(throwing: error)
        }
    }

    private func cancel(_ id: UInt64) {
        let continuation: CheckedContinuation<Void, any Error>? = state.withLock { state in
            switch state.phases[id] {
            case .registered:
                state.phases[id] = .cancelled
                return nil
            case .queued:
                state.phases[id] = nil
                guard let index = state.queue.firstIndex(where: { $0.id == id }) else { return nil }
                return state.queue.remove(at: index).continuation
            case .cancelled, .running, nil:
                return nil
            }
        }
        continuation?.resume(throwing: CancellationError())
    }

    // MARK: - Draining (on the pool's writer queue)

    private func drain(_ db: Database) {
        while true {
            var batch: [Request] = state.withLock { state in
                guard !state.queue.isEmpty else {
                    state.draining = false
                    return []
                }
                let batch = state.queue
                state.queue = []
                for request in batch { state.phases[request.id] = .running }
                state.transactions += 1
                state.largestBatch = max(state.largestBatch, batch.count)
                return batch
            }
            if batch.isEmpty { return }
            commit(&batch, db)
        }
    }

    /// Runs `batch` in one transaction, empties it (releasing every body), then resumes the callers.
    private func commit(_ batch: inout [Request], _ db: Database) {
        var errors = [(any Error)?](repeating: nil, count: batch.count)
        var commitError: (any Error)?
        do {
            try db.inTransaction(.immediate) {
                // Savepoints through the statement cache: `inSavepoint` compiles its statements
                // anew for every request, on the one writer.
                for index in batch.indices {
                    try db.run(sql: "SAVEPOINT request")
                    do {
                        try batch[index].body(db)
                        try db.run(sql: "RELEASE request")
                    } catch {
                        errors[index] = error
                        // Undo this request alone; if even that fails, the whole transaction does.
                        try db.run(sql: "ROLLBACK TO request")
                        try db.run(sql: "RELEASE request")
                    }
                }
                return .commit
            }
        } catch {
            commitError = error
        }
        let waiters = batch.map { ($0.id, $0.continuation) }
        batch.removeAll()
        state.withLock { state in
            for (id, _) in waiters { state.phases[id] = nil }
        }
        var committed: [CheckedContinuation<Void, any Error>] = []
        for (index, (_, continuation)) in waiters.enumerated() {
            if let error = errors[index] ?? commitError {
                continuation.resume(throwing: error)
            } else if flusher != nil {
                committed.append(continuation)
            } else {
                continuation.resume()
            }
        }
        flusher?.resumeWhenDurable(committed)
    }
}
