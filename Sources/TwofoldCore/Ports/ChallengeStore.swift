import Foundation

/// Challenges (codes and calls Twofold delivers) and the send budgets that keep their cost in
/// check. Answering a challenge's code goes through ``AttemptStore`` like every code.
public protocol ChallengeStore: Sendable {
    /// Spends one unit of each budget and inserts `challenge` with `audit`, in one transaction.
    /// Each budget is one conditional write (never read, then write), so concurrent sends on any
    /// node cannot overspend it.
    /// - Returns: `nil` when inserted; otherwise the first budget that had nothing left, and then
    ///   nothing was written, not even `audit`.
    /// - Throws: `conflict` when a challenge has that id (whatever the budgets hold).
    func insertChallenge(_ challenge: ChallengeRecord, spending budgets: [SendBudget], audit: AuditAppend) async throws -> SendRefusal?
    func challenge(id: ChallengeID) async throws -> ChallengeRecord?
    /// The user's challenges, newest first (by creation, then id).
    func challenges(applicationID: ApplicationID, userID: UserID) async throws -> [ChallengeRecord]
    /// Records how delivery stands, if the challenge is still `pending`; returns whether it was.
    func recordDelivery(_ id: ChallengeID, _ delivery: ChallengeDelivery, audit: AuditAppend?) async throws -> Bool
    /// Moves a `pending` challenge to a final status (compare-and-set: of concurrent callers one
    /// wins) and appends `audit`; returns whether this call moved it. A challenge past its expiry
    /// may still be finished as `expired`, `failed` or `canceled`, never `approved` or `denied`.
    /// - Throws: `invalid_request` for `pending`, which is no final status.
    func finishChallenge(_ id: ChallengeID, as status: ChallengeStatus, reason: ChallengeReason?, at date: Date,
                         audit: AuditAppend) async throws -> Bool
    /// Deletes challenges created before `date`; returns how many.
    func purgeChallenges(createdBefore date: Date) async throws -> Int
    /// Gives one token back to `budget`'s bucket at `date` (never above its capacity), in one
    /// conditional write; a bucket without a row is full and stays so.
    func refundSendBudget(_ budget: SendBudget, at date: Date) async throws
}

/// A token bucket: `capacity` sends at once, refilled at `capacity` per `period`. One row per
/// `key` in the store.
public struct SendBudget: Sendable, Equatable {
    /// What the budget limits, for refusals, audit and metrics (`user_channel`, `destination`, …).
    public var limit: String
    /// An opaque key (a keyed hash): the store never sees whose budget it is.
    public var key: String
    public var capacity: Double
    public var period: TimeInterval

    public init(limit: String, key: String, capacity: Double, period: TimeInterval) {
        self.limit = limit
        self.key = key
        self.capacity = capacity
        self.period = period
    }

    /// Tokens per millisecond.
    public var refillPerMillisecond: Double { capacity / (period * 1000) }

    /// The bucket rule every store applies: the tokens available at `now` (stored milliseconds)
    /// in a bucket last left with `tokens` at `updatedAt`.
    public func available(tokens: Double, updatedAt: Int64, now: Int64) -> Double {
        min(capacity, tokens + Double(max(0, now - updatedAt)) * refillPerMillisecond)
    }

    /// When one token will be available again, given `available` now; the distant future for
    /// a bucket that never refills.
    public func retryAfter(available: Double, now: Int64) -> Date {
        let wait = (max(0, 1 - available) / refillPerMillisecond).rounded(.up)
        guard wait.isFinite, wait < Double(Int64.max / 2) else { return .distantFuture }
        let (sum, overflow) = now.addingReportingOverflow(Int64(wait))
        return overflow ? .distantFuture : StoredTime.date(milliseconds: sum)
    }
}

/// A send refused because a budget had nothing left.
public struct SendRefusal: Sendable, Equatable {
    public var limit: String
    public var retryAfter: Date

    public init(limit: String, retryAfter: Date) {
        self.limit = limit
        self.retryAfter = retryAfter
    }
}
