import Foundation
import Synchronization

/// Starts child processes one at a time. Foundation's `Process.run()` on Linux is not safe to
/// call from several threads at once (a test run crashed inside it, in `memcpy`, with many
/// command-line tests starting `twofold` concurrently); the processes themselves still run in
/// parallel, only their launch is serialised.
public enum ProcessLauncher {
    private static let lock = Mutex(())

    public static func launch(_ process: Process) throws {
        try lock.withLock { _ in try process.run() }
    }

    /// Runs `spawn` (a `posix_spawn` of ours) under the same lock, so that no process starts
    /// while `Process.run()` runs: with launches of `Process` alone serialised, a run still
    /// crashed inside it while other tests spawned their tools.
    static func whileNoneLaunches<T>(_ spawn: () throws -> T) rethrows -> T {
        try lock.withLock { _ in try spawn() }
    }
}
