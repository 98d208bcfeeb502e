import Foundation

/// The time, injected so that tests control it (expiry, lockouts, TOTP steps).
public protocol WallClock: Sendable {
    func now() -> Date
}

/// The system clock.
public struct SystemWallClock: WallClock {
    public init() {}
    public func now() -> Date { Date() }
}
