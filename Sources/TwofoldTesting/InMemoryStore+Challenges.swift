import Foundation
import TwofoldCore

extension InMemoryStore {
    /// Spends every budget, then inserts: a refusal leaves the buckets, the challenges and the
    /// audit trail as they were.
    /// - Throws: `conflict` when a challenge has that id.
    public func insertChallenge(_ challenge: ChallengeRecord, spending budgets: [SendBudget], audit: AuditAppend) async throws -> SendRefusal? {
        try withState { state in
            let id = ExactText(challenge.id.rawValue)
            guard state.challenges[id] == nil else { throw TwofoldError(.conflict, "a challenge with id \(challenge.id) exists") }
            let now = StoredTime.milliseconds(challenge.createdAt)
            var spent: [ExactText: State.Bucket] = [:]
            for budget in budgets {
                let key = ExactText(budget.key)
                let bucket = spent[key] ?? state.budgets[key]
                let available = bucket.map { budget.available(tokens: $0.tokens, updatedAt: $0.updatedAt, now: now) } ?? budget.capacity
                guard available >= 1 else {
                    return SendRefusal(limit: budget.limit, retryAfter: budget.retryAfter(available: available, now: now))
                }
                spent[key] = State.Bucket(tokens: available - 1, updatedAt: now)
            }
            let event = try state.chained(audit)
            state.budgets.merge(spent) { $1 }
            state.challenges[id] = AsStored.record(challenge)
            state.challengeOrder.append(id)
            state.record(event)
            return nil
        }
    }

    public func challenge(id: ChallengeID) async throws -> ChallengeRecord? {
        try withState { state in state.challenges[ExactText(id.rawValue)] }
    }

    /// Newest first: creation time, then id, both descending.
    public func challenges(applicationID: ApplicationID, userID: UserID) async throws -> [ChallengeRecord] {
        try withState { state in state.challenges(of: UserKey(applicationID, userID)) }
    }

    public func recordDelivery(_ id: ChallengeID, _ delivery: ChallengeDelivery, audit: AuditAppend?) async throws -> Bool {
        try withState { state in
            let key = ExactText(id.rawValue)
            guard state.challenges[key]?.status == .pending else { return false }
            let event = try audit.map { try state.chained($0) }
            state.challenges[key]?.delivery = delivery
            if let event { state.record(event) }
            return true
        }
    }

    public func finishChallenge(_ id: ChallengeID, as status: ChallengeStatus, reason: ChallengeReason?, at date: Date,
                                audit: AuditAppend) async throws -> Bool {
        guard status != .pending else { throw TwofoldError(.invalidRequest, "a challenge cannot be finished as pending") }
        return try withState { state in
            let key = ExactText(id.rawValue)
            let at = StoredTime.milliseconds(date)
            guard let challenge = state.challenges[key], challenge.status == .pending else { return false }
            if status == .approved || status == .denied {
                guard StoredTime.milliseconds(challenge.expiresAt) > at else { return false }
            }
            let event = try state.chained(audit)
            state.finish(key, as: status, reason: reason, at: at)
            state.record(event)
            return true
        }
    }

    public func refundSendBudget(_ budget: SendBudget, at date: Date) async throws {
        try withState { state in
            let key = ExactText(budget.key)
            guard let bucket = state.budgets[key] else { return }
            let now = StoredTime.milliseconds(date)
            let available = budget.available(tokens: bucket.tokens, updatedAt: bucket.updatedAt, now: now)
            state.budgets[key] = State.Bucket(tokens: min(budget.capacity, available + 1), updatedAt: now)
        }
    }

    public func purgeChallenges(createdBefore date: Date) async throws -> Int {
        try withState { state in
            let cutoff = StoredTime.milliseconds(date)
            let purged = state.challengeOrder.filter { state.challenges[$0].map { StoredTime.milliseconds($0.createdAt) < cutoff } ?? false }
            state.deleteChallenges(Set(purged))
            return purged.count
        }
    }
}

extension InMemoryStore.State {
    /// A token bucket as stored: tokens left at `updatedAt` (stored milliseconds).
    struct Bucket: Equatable {
        var tokens: Double
        var updatedAt: Int64
    }

    /// The user's challenges, newest first (creation time, then id, descending).
    func challenges(of user: InMemoryStore.UserKey) -> [ChallengeRecord] {
        challengeOrder.compactMap { challenges[$0] }
            .filter { InMemoryStore.UserKey($0.applicationID, $0.userID) == user }
            .sorted { ($0.createdAt, InMemoryStore.ExactText($0.id.rawValue)) > ($1.createdAt, InMemoryStore.ExactText($1.id.rawValue)) }
    }

    mutating func finish(_ key: InMemoryStore.ExactText, as status: ChallengeStatus, reason: ChallengeReason?, at: Int64) {
        challenges[key]?.status = status
        challenges[key]?.reason = reason
        challenges[key]?.finishedAt = StoredTime.date(milliseconds: at)
    }

    mutating func deleteChallenges(_ keys: Set<InMemoryStore.ExactText>) {
        guard !keys.isEmpty else { return }
        for key in keys { challenges[key] = nil }
        challengeOrder.removeAll { keys.contains($0) }
    }

    /// Deletes every challenge of the user (erasure, reset).
    mutating func deleteChallenges(of user: InMemoryStore.UserKey) {
        deleteChallenges(Set(challenges(of: user).map { InMemoryStore.ExactText($0.id.rawValue) }))
    }

    /// The factor's pending challenges end `canceled` (its deletion).
    mutating func cancelChallenges(of factorID: FactorID, at: Int64) {
        for key in challengeOrder where challenges[key].map({
            $0.status == .pending && InMemoryStore.ExactText.same($0.factorID.rawValue, factorID.rawValue)
        }) ?? false {
            finish(key, as: .canceled, reason: .factorDeleted, at: at)
        }
    }

    /// The snapshot's challenges (see ``AttemptSnapshot/challenges``): pending code challenges
    /// not expired at `now` that `include` picks, newest first.
    func openCodeChallenges(of user: InMemoryStore.UserKey, now: Int64, where include: (ChallengeRecord) -> Bool) -> [ChallengeRecord] {
        challenges(of: user).filter { challenge in
            challenge.status == .pending && challenge.mode == .code && challenge.codeHash != nil
                && StoredTime.milliseconds(challenge.expiresAt) > now && include(challenge)
        }
    }

    /// A counted failure: one more wrong attempt on each challenge still pending; those that
    /// reach their maximum end `denied` (`too_many_attempts`).
    mutating func countFailure(on snapshot: [ChallengeRecord], at now: Int64) {
        for challenge in snapshot {
            let key = InMemoryStore.ExactText(challenge.id.rawValue)
            guard var stored = challenges[key], stored.status == .pending else { continue }
            stored.failedAttempts += 1
            challenges[key] = stored
            if stored.failedAttempts >= stored.maxAttempts {
                finish(key, as: .denied, reason: .tooManyAttempts, at: now)
            }
        }
    }
}

extension InMemoryStore.AsStored {
    static func record(_ challenge: ChallengeRecord) -> ChallengeRecord {
        var challenge = challenge
        challenge.createdAt = date(challenge.createdAt)
        challenge.expiresAt = date(challenge.expiresAt)
        challenge.finishedAt = date(challenge.finishedAt)
        return challenge
    }
}
