import Foundation

/// At most a few short-lived child processes (tools, `twofold` commands, curl) run at once in a
/// test process. Tests wait for their children as tasks, so nothing else bounds how many start
/// together: without this, a whole suite's processes would start at once on a machine of two
/// cores, and every timing in it would stretch.
public actor ProcessSlots {
    /// One slot per core, shared by every test in the process.
    public static let shared = ProcessSlots(width: max(2, ProcessInfo.processInfo.activeProcessorCount))

    private var free: Int
    private var waiting: [CheckedContinuation<Void, Never>] = []

    public init(width: Int) {
        free = width
    }

    /// Runs `body` holding a slot, waiting (as a task) for one to be free.
    public func withSlot<Value: Sendable>(_ body: @Sendable () async throws -> Value) async throws -> Value {
        await acquire()
        defer { release() }
        return try await body()
    }

    private func acquire() async {
        if free > 0 {
            free -= 1
            return
        }
        await withCheckedContinuation { waiting.append($0) }
    }

    private func release() {
        if waiting.isEmpty {
            free += 1
        } else {
            waiting.removeFirst().resume()
        }
    }
}
