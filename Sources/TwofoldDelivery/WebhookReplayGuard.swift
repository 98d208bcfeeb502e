import Synchronization

/// The webhook callback signatures accepted within the last few minutes, so that each is
/// accepted once. Bounded: when full of signatures still within their window, it refuses
/// new ones rather than forget one that could then be replayed.
///
/// It is per process; behind several nodes a replay to another node is stopped only by the
/// signature's time window and by the challenge's own state.
final class WebhookReplayGuard: Sendable {
    enum Outcome: Equatable {
        case accepted
        case replayed
        case full
    }

    private let capacity: Int
    private let window: Int64
    private let seen = Mutex<[[UInt8]: Int64]>([:])

    init(capacity: Int, window: Int64) {
        self.capacity = capacity
        self.window = window
    }

    /// Records `signature` signed at `timestamp`, unless it was seen already: check and record
    /// happen under one lock.
    func admit(_ signature: [UInt8], timestamp: Int64, now: Int64) -> Outcome {
        seen.withLock { seen in
            if seen[signature] != nil { return .replayed }
            if seen.count >= capacity {
                // A signature older than the window is refused as stale anyway.
                seen = seen.filter { $0.value + window >= now }
                if seen.count >= capacity { return .full }
            }
            seen[signature] = timestamp
            return .accepted
        }
    }
}
