import Foundation

/// What the challenge machinery reports for metrics. The HTTP layer's metrics implement it;
/// tests may record.
public protocol ChallengeObserver: Sendable {
    /// One provider's answer to one send: `outcome` is `sent` or a failure kind.
    func delivery(channel: ChallengeType, provider: String, outcome: String, seconds: Double)
    func challengeFinished(type: ChallengeType, status: ChallengeStatus)
    func sendRefused(channel: ChallengeType, limit: String)
    func fraudReported(channel: ChallengeType)
}

/// Reports nothing.
public struct NoChallengeObserver: ChallengeObserver {
    public init() {}
    public func delivery(channel: ChallengeType, provider: String, outcome: String, seconds: Double) {}
    public func challengeFinished(type: ChallengeType, status: ChallengeStatus) {}
    public func sendRefused(channel: ChallengeType, limit: String) {}
    public func fraudReported(channel: ChallengeType) {}
}
