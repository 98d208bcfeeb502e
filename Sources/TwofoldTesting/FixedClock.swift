import Foundation
import Synchronization
import TwofoldCore

/// A clock that stands still until a test moves it.
public final class FixedClock: WallClock, Sendable {
    private let current: Mutex<Date>

    public init(_ date: Date = Date(timeIntervalSince1970: 1_700_000_000)) {
        current = Mutex(date)
    }

    public func now() -> Date { current.withLock { $0 } }

    public func advance(by seconds: TimeInterval) {
        current.withLock { $0 = $0.addingTimeInterval(seconds) }
    }

    public func set(_ date: Date) {
        current.withLock { $0 = date }
    }
}
