import Foundation
import Synchronization

/// Work started off the request path (deliveries, wake-ups) that a graceful shutdown waits for.
final class BackgroundWork: Sendable {
    private struct Running {
        var next = 0
        var tasks: [Int: Task<Void, Never>] = [:]
    }

    private let running = Mutex(Running())

    /// Starts `work` and returns at once.
    func start(_ work: @escaping @Sendable () async -> Void) {
        running.withLock { state in
            let token = state.next
            state.next += 1
            state.tasks[token] = Task {
                await work()
                _ = self.running.withLock { $0.tasks.removeValue(forKey: token) }
            }
        }
    }

    /// Waits for everything started; past `grace`, cancels what is left (a peer that hangs must
    /// not hold a shutdown for its timeouts and retries). `nil` waits for ever.
    func drain(grace: Duration? = nil) async {
        let deadline = grace.map { ContinuousClock.now + $0 }
        while true {
            let tasks = running.withLock { Array($0.tasks.values) }
            guard !tasks.isEmpty else { return }
            guard let deadline else {
                for task in tasks { await task.value }
                continue
            }
            if ContinuousClock.now >= deadline {
                for task in tasks { task.cancel() }
                for task in tasks { await task.value }
                continue
            }
            // Awaiting a task's value cannot be interrupted: look again shortly instead.
            try? await Task.sleep(for: .milliseconds(20))
        }
    }
}
