import Foundation

/// `{"consecutive_failures", "locked_until"}`: a user's failures and lock; `locked_until` is
/// `null` when the user is not locked (and was never refused).
public struct ThrottleJSON: Encodable, Sendable {
    public let consecutiveFailures: Int
    public let lockedUntil: Date?

    public init(consecutiveFailures: Int, lockedUntil: Date?) {
        self.consecutiveFailures = consecutiveFailures
        self.lockedUntil = lockedUntil
    }

    /// The throttle state a store holds, or none: no failure was ever recorded.
    public init(_ state: ThrottleState?) {
        self.init(consecutiveFailures: state?.failures ?? 0, lockedUntil: state?.lockedUntil)
    }

    public init(_ throttle: UserExport.Throttle) {
        self.init(consecutiveFailures: throttle.consecutiveFailures, lockedUntil: throttle.lockedUntil)
    }

    enum CodingKeys: String, CodingKey {
        case consecutiveFailures = "consecutive_failures"
        case lockedUntil = "locked_until"
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(consecutiveFailures, forKey: .consecutiveFailures)
        try container.encodeNullable(lockedUntil, forKey: .lockedUntil)
    }
}
