import Foundation
import TwofoldCore

extension InMemoryStore {
    /// One attempt under the store's lock (see ``AttemptStore/attempt(_:decide:audit:)`` for the
    /// algorithm): the API key check (when asked), the lock check, the snapshot, `decide`, the
    /// compare-and-set, the throttle update and the audit event.
    ///
    /// The compare-and-set's test and its write are apart, with the event's chaining between them
    /// (which may throw `audit_tampered`), so that an attempt that throws has written nothing;
    /// the lock held throughout makes the two one step, as a conditional `UPDATE` is in SQL.
    public func attempt(
        _ request: AttemptRequest,
        decide: @Sendable (AttemptSnapshot) throws -> AttemptDecision,
        audit: @Sendable (AttemptOutcome) -> AuditAppend
    ) async throws -> AttemptOutcome {
        try withState { state in
            try state.attempt(request, decide: decide, audit: audit)
        }
    }
}

extension InMemoryStore.State {
    /// What applying an attempt's decision writes, besides its audit event.
    private enum AttemptWrite: Equatable {
        case none
        /// The compare-and-set won: move the last accepted step of the user's factor at
        /// `position`, activating it when asked.
        case acceptStep(position: Int, step: UInt64, drift: Int, activate: Bool)
        /// The compare-and-set won: use up the recovery code.
        case useRecoveryCode(index: Int)
        /// The compare-and-set won: approve the challenge, and activate its factor at `position`
        /// when asked.
        case approveChallenge(InMemoryStore.ExactText, activatePosition: Int?)
    }

    mutating func attempt(
        _ request: AttemptRequest,
        decide: @Sendable (AttemptSnapshot) throws -> AttemptDecision,
        audit: @Sendable (AttemptOutcome) -> AuditAppend
    ) throws -> AttemptOutcome {
        let user = InMemoryStore.UserKey(request.applicationID, request.userID)
        // 0. A named API key must exist unrevoked.
        if let keyID = request.apiKeyID {
            guard let key = apiKeys[InMemoryStore.ExactText(keyID)], key.revokedAt == nil else {
                throw TwofoldError(.unauthorized, "the API key is unknown or revoked")
            }
        }
        let now = StoredTime.milliseconds(request.now)
        let throttle = throttles[user]

        // 1. A locked user's code is never evaluated.
        if let lockedUntil = throttle?.lockedUntil, lockedUntil > now {
            let outcome = AttemptOutcome.locked(until: StoredTime.date(milliseconds: lockedUntil))
            record(try chained(audit(outcome)))
            return outcome
        }

        // 2. Decide on the snapshot; a throwing `decide` leaves everything as it was.
        let snapshot = snapshot(for: request, of: user, now: now)
        let decision = try decide(snapshot)

        // 3. The compare-and-set's verdict; 4. the throttle's (Core's ThrottleTransition).
        var write = AttemptWrite.none
        switch decision {
        case .accept(.step(let accepted)):
            if let position = factorAccepting(accepted.step, of: accepted.factorID, activating: accepted.activate, for: user) {
                write = .acceptStep(position: position, step: accepted.step, drift: accepted.drift, activate: accepted.activate)
            }
        case .accept(.recoveryCode(let accepted)):
            if let code = recoveryCodes[user]?[accepted.index], code.usedAt == nil {
                write = .useRecoveryCode(index: accepted.index)
            }
        case .accept(.challenge(let accepted)):
            // Only a challenge the snapshot held: one of this user's, as the databases' stores
            // decide it before they write.
            let key = InMemoryStore.ExactText(accepted.challengeID.rawValue)
            if snapshot.challenges.contains(where: { $0.id == accepted.challengeID }),
               let challenge = challenges[key], challenge.status == .pending, StoredTime.milliseconds(challenge.expiresAt) > now {
                if !accepted.activate {
                    write = .approveChallenge(key, activatePosition: nil)
                } else if let position = factors[user]?.firstIndex(where: {
                    InMemoryStore.ExactText.same($0.id.rawValue, accepted.factorID.rawValue) && $0.status == .pending
                }) {
                    write = .approveChallenge(key, activatePosition: position)
                }
            }
        case .reject:
            break
        }
        let won = write != .none
        let transition = ThrottleTransition(decision, won: won, failures: throttle?.failures ?? 0, hasState: throttle != nil,
                                            request: request)
        let outcome = transition.outcome

        // 5. The event, chained before anything is written: from here on nothing throws.
        let event = try chained(audit(outcome))
        switch write {
        case .none:
            break
        case .acceptStep(let position, let step, let drift, let activate):
            factors[user]?[position].lastAcceptedStep = step
            factors[user]?[position].drift = drift
            if activate { activateFactor(of: user, at: position, now: now) }
        case .useRecoveryCode(let index):
            recoveryCodes[user]?[index]?.usedAt = StoredTime.date(milliseconds: now)
        case .approveChallenge(let key, let position):
            finish(key, as: .approved, reason: nil, at: now)
            if let position { activateFactor(of: user, at: position, now: now) }
        }
        switch transition.change {
        case .none:
            break
        case .clear:
            throttles[user] = nil
        case .set(let failures, let lockedUntil):
            throttles[user] = Throttle(failures: failures, lockedUntil: lockedUntil)
            countFailure(on: snapshot.challenges, at: now)
        }
        record(event)
        return outcome
    }

    private mutating func activateFactor(of user: InMemoryStore.UserKey, at position: Int, now: Int64) {
        factors[user]?[position].status = .active
        factors[user]?[position].activatedAt = StoredTime.date(milliseconds: now)
        factors[user]?[position].expiresAt = nil
    }

    /// `.verify`: the active factors, the unused recovery codes, the open login code challenges
    /// and the data key. `.activate`: the named factor of this user, whatever its status, its
    /// open enrollment code challenges and the data key; `.resynchronize` the same without
    /// challenges. `.answerChallenge`: the active factors, the named challenge if it is an open
    /// login code challenge of this user, and the data key.
    private func snapshot(for request: AttemptRequest, of user: InMemoryStore.UserKey, now: Int64) -> AttemptSnapshot {
        let held = factors(of: user)
        switch request.purpose {
        case .verify:
            return AttemptSnapshot(factors: held.filter { $0.status == .active },
                                   recoveryCodes: recoveryCodes(of: user).filter { $0.usedAt == nil },
                                   challenges: openCodeChallenges(of: user, now: now) { $0.purpose == .login },
                                   dataKey: dataKeys[user])
        case .activate(let factorID):
            return AttemptSnapshot(factors: held.filter { InMemoryStore.ExactText.same($0.id.rawValue, factorID.rawValue) },
                                   recoveryCodes: [],
                                   challenges: openCodeChallenges(of: user, now: now) {
                                       $0.purpose == .enrollment && InMemoryStore.ExactText.same($0.factorID.rawValue, factorID.rawValue)
                                   },
                                   dataKey: dataKeys[user])
        case .resynchronize(let factorID):
            return AttemptSnapshot(factors: held.filter { InMemoryStore.ExactText.same($0.id.rawValue, factorID.rawValue) },
                                   recoveryCodes: [], dataKey: dataKeys[user])
        case .answerChallenge(let challengeID):
            return AttemptSnapshot(factors: held.filter { $0.status == .active }, recoveryCodes: [],
                                   challenges: openCodeChallenges(of: user, now: now) {
                                       $0.purpose == .login && InMemoryStore.ExactText.same($0.id.rawValue, challengeID.rawValue)
                                   },
                                   dataKey: dataKeys[user])
        }
    }

    /// The replay compare-and-set's test, as the SQLite store's `UPDATE … WHERE` states it: the
    /// user's factor with that id, if its last accepted step is below `step` (none counts as
    /// below) and, when activating, it is still pending (its status is not checked otherwise).
    /// - Returns: the factor's position among the user's, when the compare-and-set wins.
    private func factorAccepting(_ step: UInt64, of factorID: FactorID, activating: Bool, for user: InMemoryStore.UserKey) -> Int? {
        factors[user]?.firstIndex { factor in
            InMemoryStore.ExactText.same(factor.id.rawValue, factorID.rawValue)
                && factor.lastAcceptedStep.map { $0 < step } ?? true
                && factor.status == (activating ? .pending : .active)
        }
    }
}
