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
            case .apiKeyActive:
                apiKeyActive = true
            case .shardHead:
                throw TwofoldError(.unavailable, "a shard head was read as a row of an attempt")
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
        /// What the attempt answers and writes to the throttle when its compare-and-set loses
        /// (or for a rejection), by Core's rule; a win clears the throttle in the write itself.
        let lost: ThrottleTransition
        /// Whether losing counts a failure, and the failures and lock end it stores then.
        var countsAsFailure = false
        var failures: Int64 = 0
        var lockedUntilMilliseconds: Int64?

        init(_ decision: AttemptDecision, _ request: AttemptRequest, _ loaded: LoadedAttempt) {
            self.decision = decision
            switch decision {
            case .accept(.step(let accepted)):
                factorID = accepted.factorID.rawValue
                step = StoredStep.stored(accepted.step)
                drift = Int64(accepted.drift)
                activate = accepted.activate
            case .accept(.recoveryCode(let accepted)):
                codeIndex = Int64(accepted.index)
            case .reject:
                break
            }
            lost = ThrottleTransition(decision, won: false, failures: loaded.failures, hasState: loaded.hasState, request: request)
            if case .set(let failures, let lockedUntil) = lost.change {
                countsAsFailure = true
                self.failures = Int64(failures)
                lockedUntilMilliseconds = lockedUntil
            }
        }

        /// Whether its compare-and-set wins against the rows `snapshot` holds: the factor in the
        /// status the decision expects, with an earlier step, or the recovery code unused. Under
        /// the user's lock, that is what the write will find; without it, the write checks.
        func wins(against snapshot: AttemptSnapshot) -> Bool {
            switch decision {
            case .accept(.step(let accepted)):
                return snapshot.factors.contains {
                    $0.id == accepted.factorID && $0.status == (accepted.activate ? .pending : .active)
                        && ($0.lastAcceptedStep.map { $0 < accepted.step } ?? true)
                }
            case .accept(.recoveryCode(let accepted)):
                return snapshot.recoveryCodes.contains { $0.index == accepted.index && $0.usedAt == nil }
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
    /// What the snapshot reads: the active factors and unused codes (verification), or one factor.
    var snapshotScope: (verifying: Bool, factorID: String?) {
        switch self {
        case .verify: (true, nil)
        case .activate(let id), .resynchronize(let id): (false, id.rawValue)
        }
    }
}
