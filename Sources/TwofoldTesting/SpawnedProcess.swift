import Foundation
import Synchronization

/// A child process started with `posix_spawn`, for the tests that start `twofold` and talk to
/// it while it runs: Foundation's `Process.run()` on Linux crashed inside `memcpy` when tests
/// started processes concurrently, even with every launch serialised, so no test uses it. The calls mirror
/// `Process`'s (`isRunning`, `terminate()`, `interrupt()`, `waitUntilExit()`,
/// `terminationStatus`), with ``exited()`` to wait as a task.
public final class SpawnedProcess: Sendable {
    public let processIdentifier: pid_t
    /// The raw wait status once reaped.
    private let reaped = Mutex<Int32?>(nil)

    /// Starts `executable` with `arguments` and exactly `environment`, in `directory` when given,
    /// its standard input read from `input` and its output appended to `output` and `error`
    /// (paths; `/dev/null` to discard).
    public init(_ executable: String, arguments: [String], environment: [String: String], directory: String? = nil,
                input: String = "/dev/null", output: String, error: String) throws {
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, input, O_RDONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 1, output, O_WRONLY | O_APPEND, 0)
        posix_spawn_file_actions_addopen(&actions, 2, error, O_WRONLY | O_APPEND, 0)
        // Swift does not import posix_spawn_file_actions_addchdir_np: env(1) changes folder, then
        // execs the program in its place.
        let command = directory.map { ["/usr/bin/env", "-C", $0, executable] + arguments } ?? [executable] + arguments
        let argv = command.map { strdup($0) }
        let envp = environment.map { strdup("\($0.key)=\($0.value)") }
        defer {
            argv.forEach { free($0) }
            envp.forEach { free($0) }
        }
        var pid = pid_t()
        let status = posix_spawn(&pid, command[0], &actions, nil, argv + [nil], envp + [nil])
        guard status == 0 else {
            throw CocoaError(.fileReadUnknown, userInfo: [NSLocalizedDescriptionKey: "posix_spawn \(executable): \(String(cString: strerror(status)))"])
        }
        processIdentifier = pid
    }

    /// Whether it still runs (reaping it, without waiting, if it ended).
    public var isRunning: Bool { reap() == nil }

    /// Waits for it to end without holding a thread: it looks, then sleeps as a task between
    /// looks. A test that blocked a thread here would take one of the few threads every
    /// concurrent test's tasks run on. If the waiting task is cancelled, the process is killed.
    public func exited() async {
        var pause = 500
        while reap() == nil {
            do {
                try await Task.sleep(for: .microseconds(pause))
            } catch {
                kill(processIdentifier, SIGKILL)
                waitUntilExit()
                return
            }
            pause = min(pause * 2, 10_000)
        }
    }

    /// Waits for it to end, blocking the calling thread: for `deinit` and `defer`, where
    /// ``exited()`` cannot be awaited. Polls, so that no lock is held while it runs and another
    /// thread may still signal it.
    public func waitUntilExit() {
        var pause: UInt32 = 500
        while reap() == nil {
            usleep(pause)
            pause = min(pause * 2, 10_000)
        }
    }

    /// The exit code, or the signal that ended it; 0 while it runs.
    public var terminationStatus: Int32 {
        // WIFEXITED / WEXITSTATUS / WTERMSIG, which Swift does not import as functions.
        guard let status = reap() else { return 0 }
        return status & 0x7F == 0 ? (status >> 8) & 0xFF : status & 0x7F
    }

    /// Whether a signal ended it.
    public var signaled: Bool {
        guard let status = reap() else { return false }
        return status & 0x7F != 0
    }

    /// SIGTERM.
    public func terminate() { signal(SIGTERM) }

    /// SIGINT, as Ctrl-C.
    public func interrupt() { signal(SIGINT) }

    private func signal(_ number: Int32) {
        if isRunning { kill(processIdentifier, number) }
    }

    /// The raw wait status if it ended (reaped now or before), without waiting.
    private func reap() -> Int32? {
        reaped.withLock { reaped in
            if let reaped { return reaped }
            var status: Int32 = 0
            var result: pid_t
            repeat {
                result = waitpid(processIdentifier, &status, WNOHANG)
            } while result == -1 && errno == EINTR
            guard result == processIdentifier else { return nil }
            reaped = status
            return status
        }
    }

    deinit {
        if reap() == nil {
            kill(processIdentifier, SIGKILL)
            waitUntilExit()
        }
    }
}
