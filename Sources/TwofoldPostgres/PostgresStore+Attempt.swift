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

        /// Takes in one row of the snapshot (``AttemptBatchSnapshotStatement`` describes the kinds).
        mutating func add(_ row: AttemptBatchSnapshotStatement.AttemptRow, of request: AttemptRequest) throws {
            let (kind, t1, t2, t3, t4, t5, t6, n1, n2, n3, n4, n5, n6, n7, b) = row
            switch kind {
            case 0:
                hasState = true
                failures = Int(n1 ?? 0)
                lockedUntilMilliseconds = n2
            case 1:
                if let t1, let b { snapshot.dataKey = PostgresStore.wrappedKey(t1, b) }
            case 2:
                guard let t1, let t2, let t3, let t4, let t6, let n1, let n5, let n6, let n7, let b else {
                    throw TwofoldError(.unavailable, "a factor row of the attempt's snapshot is incomplete")
                }
                snapshot.factors.append(FactorRecord(
                    id: try PostgresStore.identifier(t1), applicationID: request.applicationID, userID: request.userID,
                    type: try PostgresStore.value(FactorType(rawValue: t2), "factor type", t2),
                    status: try PostgresStore.value(FactorStatus(rawValue: t3), "factor status", t3),
                    createdAt: PostgresColumn.date(n1), activatedAt: PostgresColumn.date(n2), expiresAt: PostgresColumn.date(n3),
                    label: t4, issuer: t5, algorithm: try PostgresStore.value(.init(rawValue: t6), "algorithm", t6),
                    digits: Int(n5), period: Int(n6), sealedSecret: PostgresColumn.bytes(b),
                    lastAcceptedStep: n4.map(PostgresColumn.step), drift: Int(n7)))
            case 3:
                guard let n1, let n2, let b else {
                    throw TwofoldError(.unavailable, "a recovery code row of the attempt's snapshot is incomplete")
                }
                snapshot.recoveryCodes.append(RecoveryCodeRecord(
                    index: Int(n1), hash: PostgresColumn.bytes(b), createdAt: PostgresColumn.date(n2), usedAt: PostgresColumn.date(n3)))
            case 5:
                apiKeyActive = true
            default:
                throw TwofoldError(.unavailable, "the attempt's snapshot has a row of unknown kind \(kind)")
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
        /// A lost compare-and-set, or this rejection, counts as a failure (`no_factors` does not).
        var countsAsFailure = false
        var failures: Int64
        var lockedUntil: Date?
        var hasState: Bool
        /// The reason given when the compare-and-set loses (or for a rejection).
        let denial: DenialReason

        init(_ decision: AttemptDecision, _ request: AttemptRequest, _ loaded: LoadedAttempt) {
            self.decision = decision
            switch decision {
            case .acceptStep(let id, let step, let drift, let activate):
                factorID = id.rawValue
                self.step = PostgresColumn.step(step)
                self.drift = Int64(drift)
                self.activate = activate
                countsAsFailure = true
                denial = .replayed
            case .acceptRecoveryCode(let index):
                codeIndex = Int64(index)
                countsAsFailure = true
                denial = .invalidCode
            case .reject(let reason):
                // With nothing to guess against, `no_factors` is not a failure.
                countsAsFailure = reason != .noFactors
                denial = reason
            }
            let failures = loaded.failures + 1
            self.failures = Int64(failures)
            lockedUntil = countsAsFailure
                ? request.throttle.lockDuration(afterFailures: failures).map { request.now.addingTimeInterval($0) } : nil
            hasState = loaded.hasState
        }

        /// Whether its compare-and-set wins against the rows `snapshot` holds: the factor in the
        /// status the decision expects, with an earlier step, or the recovery code unused. Under
        /// the user's lock, that is what the write will find; without it, the write checks.
        func wins(against snapshot: AttemptSnapshot) -> Bool {
            switch decision {
            case .acceptStep(let id, let step, _, let activate):
                return snapshot.factors.contains {
                    $0.id == id && $0.status == (activate ? .pending : .active) && ($0.lastAcceptedStep.map { $0 < step } ?? true)
                }
            case .acceptRecoveryCode(let index):
                return snapshot.recoveryCodes.contains { $0.index == index && $0.usedAt == nil }
            case .reject:
                return false
            }
        }

        func outcome(won: Bool) throws -> AttemptOutcome {
            guard won else { return .denied(denial, lockedUntil: lockedUntil) }
            if case .reject = decision {
                throw TwofoldError(.unavailable, "a rejection changed a factor or recovery code")
            }
            return .accepted(decision)
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
