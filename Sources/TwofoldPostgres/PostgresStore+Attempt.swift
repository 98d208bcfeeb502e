import Foundation
import PostgresNIO
import TwofoldCore

extension PostgresStore {
    /// Queued for the next batch of attempts (see ``queueAttempt(_:closures:)``), which reads and
    /// writes them in two round trips (`PostgresStore+AttemptBatch.swift` tells what happens to a
    /// batch that cannot be recorded that way).
    public func attempt(
        _ request: AttemptRequest,
        decide: @Sendable (AttemptSnapshot) throws -> AttemptDecision,
        audit: @Sendable (AttemptOutcome) -> AuditAppend
    ) async throws -> AttemptOutcome {
        try await withoutActuallyEscaping(decide) { decide in
            try await withoutActuallyEscaping(audit) { audit in
                // Whatever still holds the box when this returns, it no longer holds the closures.
                let closures = AttemptClosures(decide: decide, audit: audit)
                defer { closures.release() }
                return try await queueAttempt(request, closures: closures)
            }
        }
    }

    /// What one attempt of a batch read (``AttemptBatchSnapshotStatement``).
    struct LoadedAttempt {
        var snapshot = AttemptSnapshot(factors: [], recoveryCodes: [], dataKey: nil)
        var hasState = false
        var failures = 0
        /// The end of the user's lock as stored, milliseconds since the epoch.
        var lockedUntilMilliseconds: Int64?
        var lockedUntil: Date? { PostgresColumn.date(lockedUntilMilliseconds) }
        /// Whether the request's API key exists unrevoked (read only when the request names one).
        var apiKeyActive = false

        /// Takes in one row of the snapshot.
        mutating func add(_ row: AttemptBatchSnapshotStatement.SnapshotRow, of request: AttemptRequest) throws {
            switch row {
            case .throttle(let failures, let lockedUntil):
                hasState = true
                self.failures = failures
                lockedUntilMilliseconds = lockedUntil
            case .dataKey(let key):
                snapshot.dataKey = key
            case .factor(let columns):
                snapshot.factors.append(columns.record(request.applicationID, request.userID))
            case .recoveryCode(let code):
                snapshot.recoveryCodes.append(code)
            case .challenge(let columns):
                snapshot.challenges.append(columns.record(request.applicationID, request.userID))
            case .apiKeyActive:
                apiKeyActive = true
            case .shardHead:
                throw TwofoldError(.unavailable, "a shard head was read as a row of an attempt")
            }
        }

        /// Puts the challenges newest first (creation, then id in byte order, both descending),
        /// once every row is in.
        mutating func finish() {
            snapshot.challenges.sort {
                $0.createdAt != $1.createdAt ? $0.createdAt > $1.createdAt
                    : $1.id.rawValue.utf8.lexicographicallyPrecedes($0.id.rawValue.utf8)
            }
        }
    }

    /// What applying a decision writes, and what it means when its compare-and-set wins or loses.
    struct AttemptPlan {
        let decision: AttemptDecision
        var factorID: String?
        var step: Int64?
        var drift: Int64?
        var activate = false
        var codeIndex: Int64?
        /// The challenge an acceptance approves.
        var challengeID: String?
        /// The pending factor that approval activates.
        var activatedFactorID: String?
        /// The snapshot's challenges, against which a counted failure counts a wrong code.
        var countedChallenges: [String] = []
        /// What the attempt answers and writes to the throttle when its compare-and-set loses
        /// (or for a rejection), by Core's rule; a win clears the throttle in the write itself.
        let lost: ThrottleTransition
        /// Whether losing counts a failure, and the failures and lock end it stores then.
        var countsAsFailure = false
        var failures: Int64 = 0
        var lockedUntilMilliseconds: Int64?

        /// The attempt's time: a challenge expiring then or before is not approved.
        let now: Date

        init(_ decision: AttemptDecision, _ request: AttemptRequest, _ loaded: LoadedAttempt) {
            self.decision = decision
            now = request.now
            switch decision {
            case .accept(.step(let accepted)):
                factorID = accepted.factorID.rawValue
                step = StoredStep.stored(accepted.step)
                drift = Int64(accepted.drift)
                activate = accepted.activate
            case .accept(.recoveryCode(let accepted)):
                codeIndex = Int64(accepted.index)
            case .accept(.challenge(let accepted)):
                challengeID = accepted.challengeID.rawValue
                activatedFactorID = accepted.activate ? accepted.factorID.rawValue : nil
            case .reject:
                break
            }
            lost = ThrottleTransition(decision, won: false, failures: loaded.failures, hasState: loaded.hasState, request: request)
            if case .set(let failures, let lockedUntil) = lost.change {
                countsAsFailure = true
                self.failures = Int64(failures)
                lockedUntilMilliseconds = lockedUntil
                countedChallenges = loaded.snapshot.challenges.map(\.id.rawValue)
            }
        }

        /// Whether its compare-and-set wins against the rows `snapshot` holds: the factor in the
        /// status the decision expects, with an earlier step; the recovery code unused; or the
        /// challenge among the snapshot's (the user's, pending and unexpired), and, when
        /// activating, its factor in the snapshot and pending. Under the user's lock, that is
        /// what the write will find; without it, the write checks. An acceptance of a challenge
        /// the snapshot does not hold loses without being tried: the write must know every
        /// outcome before it is sent, since the events it appends record them.
        func wins(against snapshot: AttemptSnapshot) -> Bool {
            switch decision {
            case .accept(.step(let accepted)):
                return snapshot.factors.contains {
                    $0.id == accepted.factorID && $0.status == (accepted.activate ? .pending : .active)
                        && ($0.lastAcceptedStep.map { $0 < accepted.step } ?? true)
                }
            case .accept(.recoveryCode(let accepted)):
                return snapshot.recoveryCodes.contains { $0.index == accepted.index && $0.usedAt == nil }
            case .accept(.challenge(let accepted)):
                let now = StoredTime.milliseconds(now)
                let open = snapshot.challenges.contains {
                    $0.id == accepted.challengeID && $0.status == .pending && StoredTime.milliseconds($0.expiresAt) > now
                }
                return open && (!accepted.activate || snapshot.factors.contains { $0.id == accepted.factorID && $0.status == .pending })
            case .reject:
                return false
            }
        }

        func outcome(won: Bool) throws -> AttemptOutcome {
            guard won else { return lost.outcome }
            guard case .accept(let acceptance) = decision else {
                throw TwofoldError(.unavailable, "a rejection changed a factor or recovery code")
            }
            return .accepted(acceptance)
        }
    }
}

extension AttemptRequest.Purpose {
    /// What the snapshot reads (``AttemptSnapshot``): the active factors or the one named, the
    /// unused recovery codes or none, and the open code challenges of a purpose (of the named
    /// factor, or the one named) or none.
    var snapshotScope: (activeFactors: Bool, factorID: FactorID?, recoveryCodes: Bool, challenges: ChallengePurpose?,
                        challengeID: ChallengeID?) {
        switch self {
        case .verify: (true, nil, true, .login, nil)
        case .activate(let id): (false, id, false, .enrollment, nil)
        case .resynchronize(let id): (false, id, false, nil, nil)
        case .answerChallenge(let id): (true, nil, false, .login, id)
        }
    }
}
