import Foundation

/// One stored recovery code: only a keyed hash of it, never the code.
public struct RecoveryCodeRecord: Sendable, Equatable {
    /// Position in its set (0–9), unique per user.
    public var index: Int
    /// HMAC-SHA-256 of the normalised code under a key derived from the user's data key.
    public var hash: [UInt8]
    public var createdAt: Date
    public var usedAt: Date?

    public init(index: Int, hash: [UInt8], createdAt: Date, usedAt: Date? = nil) {
        self.index = index
        self.hash = hash
        self.createdAt = createdAt
        self.usedAt = usedAt
    }
}
