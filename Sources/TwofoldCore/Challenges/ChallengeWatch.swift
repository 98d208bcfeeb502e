import Foundation
import Synchronization

/// Wakes long polls when a challenge changes on this node. Changes on another node are seen by
/// the poll's periodic re-read (``ChallengeService/status(_:_:wait:)``).
public final class ChallengeWatch: Sendable {
    private struct Waiters {
        var next = 0
        var byChallenge: [ChallengeID: [Int: CheckedContinuation<Void, Never>]] = [:]
    }

    private let waiters = Mutex(Waiters())

    public init() {}

    /// Wakes every poll waiting on `id`.
    public func changed(_ id: ChallengeID) {
        let woken = waiters.withLock { $0.byChallenge.removeValue(forKey: id) } ?? [:]
        for continuation in woken.values { continuation.resume() }
    }

    /// Returns when `id` changes on this node, after `timeout`, or when the task is cancelled.
    public func wait(for id: ChallengeID, timeout: Duration) async {
        await withTaskGroup(of: Void.self) { group in
            group.addTask { try? await Task.sleep(for: timeout) }
            group.addTask { await self.waitForChange(id) }
            await group.next()
            group.cancelAll()
        }
    }

    /// How many polls wait, for tests and metrics.
    public var waiting: Int {
        waiters.withLock { $0.byChallenge.values.reduce(0) { $0 + $1.count } }
    }

    private func waitForChange(_ id: ChallengeID) async {
        let token = waiters.withLock { state -> Int in
            state.next += 1
            return state.next
        }
        await withTaskCancellationHandler {
            await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
                let registered = waiters.withLock { state -> Bool in
                    // Cancelled before registering: the handler below already ran and found nothing.
                    guard !Task.isCancelled else { return false }
                    state.byChallenge[id, default: [:]][token] = continuation
                    return true
                }
                if !registered { continuation.resume() }
            }
        } onCancel: {
            let continuation = waiters.withLock { state -> CheckedContinuation<Void, Never>? in
                let removed = state.byChallenge[id]?.removeValue(forKey: token)
                if state.byChallenge[id]?.isEmpty == true { state.byChallenge[id] = nil }
                return removed
            }
            continuation?.resume()
        }
    }
}
