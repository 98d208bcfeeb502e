import Dispatch
import Synchronization
import TwofoldCore
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Makes group commits durable without holding up the next one: after the writer commits a
/// batch, the flusher syncs the WAL file to stable storage and only then resumes that batch's
/// callers, while the writer already runs the next batch.
///
/// Why: SQLite's `synchronous = FULL` syncs the WAL inside `COMMIT`, on the single writer, so
/// nothing else is written during the sync, which under load comes hundreds of times a
/// second. With the writer at `synchronous = NORMAL`
/// (which never syncs at commit, and syncs before every checkpoint) and this flusher, commits
/// and syncs overlap — the pipelining of PostgreSQL's WAL writer or InnoDB's group commit —
/// while the guarantee stays the same: no caller hears back before its transaction is on disk.
/// One sync covers every batch committed before it, so under load a sync serves several batches.
///
/// A committed batch is visible to later transactions before its sync ends; they are answered
/// only after a later sync, which covers it too.
///
/// A failed sync is final. Linux reports a write-back error once and then marks the pages clean,
/// so a later sync of the same file would succeed without making anything durable, and WAL
/// frames after a lost one are discarded by recovery. So after one failure every waiting and
/// later caller gets `unavailable`, and the store refuses writes (``failure``) until the process
/// is restarted and SQLite's recovery decides what survived — PostgreSQL's answer to the same
/// problem.
final class WALFlusher: Sendable {
    typealias Waiter = CheckedContinuation<Void, any Error>

    private struct State: Sendable {
        var pending: [Waiter] = []
        var flushing = false
        /// The WAL's descriptor, opened at the first sync (the file exists once something was
        /// committed) and kept: SQLite resets the WAL in place, never replacing the file while
        /// connections are open.
        var descriptor: Int32 = -1
        var syncs = 0
        /// The first failed sync, after which nothing is answered as durable.
        var failure: TwofoldError?
        /// Set by ``finish()``: the WAL is not opened again.
        var finished = false
    }

    private let walPath: String
    private let state = Mutex(State())
    private let queue = DispatchQueue(label: "TwofoldSQLite.WALFlusher")

    init(databasePath: String) {
        walPath = databasePath + "-wal"
    }

    /// How many syncs have run, for tests and diagnostics.
    var syncs: Int { state.withLock { $0.syncs } }

    /// The failed sync that stopped this flusher, if one did: writes must be refused from then on.
    var failure: TwofoldError? { state.withLock { $0.failure } }

    /// Resumes `waiters` once everything committed so far is on stable storage.
    func resumeWhenDurable(_ waiters: [Waiter]) {
        guard !waiters.isEmpty else { return }
        enum Next { case none, start, fail(TwofoldError) }
        let next: Next = state.withLock { state in
            if let failure = state.failure { return .fail(failure) }
            state.pending.append(contentsOf: waiters)
            if state.flushing { return .none }
            state.flushing = true
            return .start
        }
        switch next {
        case .none: break
        case .start: queue.async { [self] in run() }
        case .fail(let failure): for waiter in waiters { waiter.resume(throwing: failure) }
        }
    }

    /// Waits until every sync asked for so far has ended and its callers are resumed, then
    /// closes the WAL's descriptor. Call after the writer has stopped.
    func finish() {
        queue.sync {}
        state.withLock { state in
            state.finished = true
            if state.descriptor >= 0 { _ = close(state.descriptor) }
            state.descriptor = -1
        }
    }

    private func run() {
        while true {
            let waiters: [Waiter] = state.withLock { state in
                let taken = state.pending
                state.pending = []
                if taken.isEmpty { state.flushing = false }
                return taken
            }
            if waiters.isEmpty { return }
            let failure = sync()
            if let failure { state.withLock { $0.failure = $0.failure ?? failure } }
            for waiter in waiters {
                if let failure { waiter.resume(throwing: failure) } else { waiter.resume() }
            }
        }
    }

    /// One sync of the WAL file: `fdatasync`, or `F_FULLFSYNC` on Apple platforms, where a plain
    /// sync does not reach the medium.
    private func sync() -> TwofoldError? {
        let (known, finished, failure) = state.withLock { ($0.descriptor, $0.finished, $0.failure) }
        if let failure { return failure }
        var descriptor = known
        if descriptor < 0 {
            if finished {
                return TwofoldError(.unavailable, "the SQLite store closed before its last writes were synced")
            }
            descriptor = open(walPath, O_RDONLY | O_CLOEXEC)
            if descriptor < 0 {
                let code = errno
                return TwofoldError(.unavailable, "cannot open the SQLite WAL \(walPath) to sync it (errno \(code))")
            }
            state.withLock { $0.descriptor = descriptor }
        }
        #if canImport(Darwin)
        let result = fcntl(descriptor, F_FULLFSYNC)
        #else
        let result = fdatasync(descriptor)
        #endif
        let code = errno
        state.withLock { $0.syncs += 1 }
        guard result == 0 else {
            return TwofoldError(.unavailable, "syncing the SQLite WAL \(walPath) failed (errno \(code)); the last writes may not be durable, and the store takes no more writes until Twofold restarts")
        }
        return nil
    }
}
