import Dispatch
import GRDBSQLite
import Synchronization
import TwofoldCore

/// Copies the WAL back into the database file on a connection and a thread of its own, so that
/// the writer never stops for a checkpoint.
///
/// Why: SQLite checkpoints from the connection that commits, once the WAL holds 1,000 pages:
/// the writer then copies those pages into the file and syncs the WAL and the file, while every
/// waiting write waits too, several times a second under load. A checkpoint needs no write
/// lock: SQLite lets one run on another connection while the writer commits (`PASSIVE`, which
/// never waits for anyone).
///
/// How: a WAL hook on the writer connection (which replaces SQLite's automatic checkpoint) hears
/// the WAL's size after each commit. Once ``backgroundFrames`` have been added since the last
/// checkpoint it asks for one here, once at a time (counting from the WAL's start instead, a
/// WAL that does not start over would be checkpointed again and again, each time for a few
/// frames and two syncs). SQLite starts the WAL over at the next write transaction once a checkpoint has
/// copied all of it, which a checkpoint running beside a writer that never pauses might never
/// do; so from ``writerFrames`` on the writer checkpoints in the hook itself, as SQLite would,
/// which bounds the WAL (it then has little left to copy).
///
/// Durability is SQLite's own: a checkpoint syncs the WAL before writing into the file and the
/// file before the WAL may be reused, whichever connection runs it.
final class WALCheckpointer: Sendable {
    /// SQLite's own default for its automatic checkpoint.
    static let defaultBackgroundFrames = 1_000
    static let defaultWriterFrames = 8_000

    let backgroundFrames: Int
    let writerFrames: Int

    private struct State: Sendable {
        var scheduled = false
        var closed = false
        /// How far into the WAL the last checkpoint copied, in frames (0 once the WAL started over).
        var checkpointed = 0
        var connection: Connection?
        var background = 0
        var onWriter = 0
        var failures = 0
    }

    /// The checkpointer's own connection, which only its queue opens, uses and closes.
    private struct Connection: @unchecked Sendable {
        let handle: OpaquePointer
    }

    private let path: String
    private let state = Mutex(State())
    private let queue = DispatchQueue(label: "TwofoldSQLite.WALCheckpointer")

    init(databasePath: String, backgroundFrames: Int = defaultBackgroundFrames, writerFrames: Int = defaultWriterFrames) {
        path = databasePath
        self.backgroundFrames = backgroundFrames
        self.writerFrames = writerFrames
    }

    /// What the checkpointer has done so far, for tests and diagnostics.
    struct Statistics: Sendable, Equatable {
        var background: Int
        var onWriter: Int
        var failures: Int
    }

    var statistics: Statistics {
        state.withLock { Statistics(background: $0.background, onWriter: $0.onWriter, failures: $0.failures) }
    }

    /// What the WAL hook holds: a weak reference, so that a store dropped without being closed
    /// still frees its checkpointer (and its connection); the box itself is released by
    /// ``uninstall(from:)``.
    private final class HookContext {
        weak var checkpointer: WALCheckpointer?
        init(_ checkpointer: WALCheckpointer) { self.checkpointer = checkpointer }
    }

    /// Installs the WAL hook on the writer connection, once. Call on the writer's queue.
    func install(on writer: OpaquePointer) {
        sqlite3_wal_hook(writer, { context, connection, _, frames in
            guard let context, let connection else { return SQLITE_OK }
            Unmanaged<HookContext>.fromOpaque(context).takeUnretainedValue().checkpointer?.committed(frames: Int(frames), on: connection)
            return SQLITE_OK
        }, Unmanaged.passRetained(HookContext(self)).toOpaque())
    }

    /// Removes the hook (SQLite no longer checkpoints by itself either; closing the last
    /// connection still folds the WAL into the file). Call on the writer's queue.
    func uninstall(from writer: OpaquePointer) {
        if let context = sqlite3_wal_hook(writer, nil, nil) {
            let box = Unmanaged<HookContext>.fromOpaque(context)
            if box.takeUnretainedValue().checkpointer === self { box.release() }
        }
    }

    deinit {
        // Nothing is queued any more (a queued checkpoint holds this object).
        if let connection = state.withLock({ $0.connection }) { sqlite3_close_v2(connection.handle) }
    }

    /// Waits for a running checkpoint, then closes this checkpointer's connection for good.
    /// (`SQLITE_BUSY` in ``Statistics/failures`` is mostly a checkpoint that met the other one.)
    func close() {
        state.withLock { $0.closed = true }
        queue.sync {
            let connection = state.withLock { state -> Connection? in
                defer { state.connection = nil }
                return state.connection
            }
            if let connection { sqlite3_close_v2(connection.handle) }
        }
    }

    /// On the writer, after each commit, with the number of frames now in the WAL.
    private func committed(frames: Int, on writer: OpaquePointer) {
        if frames >= writerFrames {
            var copied: Int32 = 0
            let code = sqlite3_wal_checkpoint_v2(writer, nil, SQLITE_CHECKPOINT_PASSIVE, nil, &copied)
            state.withLock { state in
                guard code == SQLITE_OK else { return state.failures += 1 }
                state.onWriter += 1
                state.checkpointed = Int(copied)
            }
            return
        }
        let schedule = state.withLock { state in
            if frames < state.checkpointed { state.checkpointed = 0 }
            guard frames - state.checkpointed >= backgroundFrames, !state.scheduled, !state.closed else { return false }
            state.scheduled = true
            return true
        }
        if schedule {
            queue.async { [self] in checkpoint() }
        }
    }

    /// On the queue, which alone opens, uses and closes the connection.
    /// Once it starts, a commit may ask for the next one, which then runs right after it if
    /// ``backgroundFrames`` more have come meanwhile: under load the checkpointer keeps close to
    /// the WAL's end, so the writer's own checkpoint past ``writerFrames`` finds little to copy.
    /// Asking only once it has ended would leave the writer's own checkpoint up to a thousand
    /// pages to copy and sync while every write waits.
    private func checkpoint() {
        let (known, closed) = state.withLock { state in
            state.scheduled = false
            return (state.connection, state.closed)
        }
        guard !closed, let connection = known ?? open() else { return }
        var copied: Int32 = 0
        let code = sqlite3_wal_checkpoint_v2(connection.handle, nil, SQLITE_CHECKPOINT_PASSIVE, nil, &copied)
        // SQLITE_BUSY: the writer's own checkpoint is running; the next commit asks again.
        // A negative count: the connection could not read the WAL, so it is opened afresh.
        state.withLock { state in
            guard code == SQLITE_OK, copied >= 0 else {
                state.failures += 1
                if code == SQLITE_OK {
                    sqlite3_close_v2(connection.handle)
                    state.connection = nil
                }
                return
            }
            state.background += 1
            state.checkpointed = Int(copied)
        }
    }

    /// Opens the checkpointer's connection. A failure is counted and tried again at the next
    /// request; meanwhile the writer's own checkpoint still bounds the WAL.
    private func open() -> Connection? {
        var connection: OpaquePointer?
        guard sqlite3_open_v2(path, &connection, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX, nil) == SQLITE_OK, let connection else {
            sqlite3_close_v2(connection)
            state.withLock { $0.failures += 1 }
            return nil
        }
        // FULL syncs at every checkpoint (as NORMAL would); F_FULLFSYNC where a plain sync is not
        // durable (Apple platforms; ignored elsewhere). Reading the schema also checks that the
        // connection can read the file.
        guard sqlite3_exec(connection, "PRAGMA synchronous = FULL; PRAGMA fullfsync = ON; SELECT count(*) FROM sqlite_schema",
                           nil, nil, nil) == SQLITE_OK else {
            sqlite3_close_v2(connection)
            state.withLock { $0.failures += 1 }
            return nil
        }
        state.withLock { $0.connection = Connection(handle: connection) }
        return Connection(handle: connection)
    }
}
