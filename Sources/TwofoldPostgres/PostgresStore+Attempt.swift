import Foundation
import PostgresNIO
import TwofoldCore

extension PostgresStore {
    /// Queued for the next batch of attempts (see ``queueAttempt(_:closures:)``), which reads and
    /// writes them in two round trips; an attempt whose batch cannot be recorded that way runs
    /// alone, in ``attemptInOwnTransaction(_:decide:audit:)``.
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

    /// One attempt in one READ COMMITTED transaction of six round trips (the way of an attempt
    /// whose batch could not be recorded otherwise):
    /// 1. BEGIN;
    /// 2. the user's advisory lock, which serialises attempts of one user (and the other calls that
    ///    change what an attempt reads), so the snapshot and the throttle update are consistent;
    /// 3. one statement reading the throttle state, the data key, the factors, the unused recovery
    ///    codes, the shard of the user's latest audit event and, when the request names an API
    ///    key, whether it is still unrevoked (``AttemptSnapshotStatement``);
    /// 4. after `decide`, one statement doing the compare-and-set, the throttle's update and the
    ///    lock of that shard's head (``AttemptApplyStatement``); for a locked user, the head's lock;
    /// 5. one statement writing the event and the new head (``AuditWriteStatement``);
    /// 6. COMMIT.
    /// A user without events yet, whose shard may have no head, costs a statement or two more.
    /// The three statements are prepared once per connection.
    ///
    /// The compare-and-set alone refuses a replay, whatever the locks. Only this user's rows and
    /// the user's shard head are locked, in one order (user, rows, head) as in every other method,
    /// so attempts neither deadlock with them nor wait for other users' attempts, but on the head
    /// of a shard they share, from step 4 to the commit.
    func attemptInOwnTransaction(
        _ request: AttemptRequest,
        decide: @Sendable (AttemptSnapshot) throws -> AttemptDecision,
        audit: @Sendable (AttemptOutcome) -> AuditAppend
    ) async throws -> AttemptOutcome {
        // The transaction runs in a child task that ends before this call returns, so the
        // closures never outlive it.
        try await withoutActuallyEscaping(decide) { decide in
            try await withoutActuallyEscaping(audit) { audit in
                try await transaction("record a verification attempt") { [self] connection in
                    try await lockUser(request.applicationID, request.userID, on: connection)
                    let loaded = try await loadAttempt(request, on: connection)
                    if request.apiKeyID != nil, !loaded.apiKeyActive {
                        throw TwofoldError(.unauthorized, "the API key is unknown or revoked")
                    }
                    let outcome: AttemptOutcome
                    let head: AuditShardHead?
                    if let lockedUntil = loaded.lockedUntil, lockedUntil > request.now {
                        outcome = .locked(until: lockedUntil)
                        head = nil
                    } else {
                        let decision: AttemptDecision
                        do {
                            decision = try decide(loaded.snapshot)
                        } catch {
                            throw DecisionError(underlying: error)
                        }
                        (outcome, head) = try await apply(decision, request, loaded, on: connection)
                    }
                    // The head `apply` locked is the shard of the user's earlier events: the one this
                    // event goes to, unless the user has none yet (or the rows were tampered with).
                    let append = audit(outcome)
                    if let head, head.shard == append.shard {
                        try await writeAudit(append, after: head, on: connection)
                    } else {
                        try await appendAudit(append, on: connection)
                    }
                    return outcome
                }
            }
        }
    }

    struct LoadedAttempt {
        var snapshot = AttemptSnapshot(factors: [], recoveryCodes: [], dataKey: nil)
        var hasState = false
        var failures = 0
        /// The end of the user's lock as stored, milliseconds since the epoch.
        var lockedUntilMilliseconds: Int64?
        var lockedUntil: Date? { PostgresColumn.date(lockedUntilMilliseconds) }
        /// The shard of the user's latest audit event, where this attempt's event goes too.
        var shard: Int?
        /// Whether the request's API key exists unrevoked (read only when the request names one).
        var apiKeyActive = false

        /// Takes in one row of a snapshot statement (``AttemptSnapshotStatement`` describes the kinds).
        mutating func add(_ row: AttemptSnapshotStatement.Row, of request: AttemptRequest) throws {
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
            case 4:
                shard = n1.map(Int.init)
            case 5:
                apiKeyActive = true
            default:
                throw TwofoldError(.unavailable, "the attempt's snapshot has a row of unknown kind \(kind)")
            }
        }
    }

    /// Everything the attempt reads, in one statement (see ``AttemptSnapshotStatement``).
    private func loadAttempt(_ request: AttemptRequest, on connection: PostgresConnection) async throws -> LoadedAttempt {
        let (verifying, factorID) = request.purpose.snapshotScope
        var loaded = LoadedAttempt()
        let statement = AttemptSnapshotStatement(
            applicationID: request.applicationID.rawValue, userID: request.userID.rawValue, verifying: verifying,
            factorID: factorID, apiKeyID: request.apiKeyID)
        for row in try await connection.rows(statement, logger: logger) {
            try loaded.add(row, of: request)
        }
        return loaded
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

    /// Applies `decision` in one statement (see ``AttemptApplyStatement``): the compare-and-set (of
    /// a factor's step, or of a recovery code), the throttle (a lost compare-and-set or a rejection
    /// counts a failure, except `no_factors`; a success deletes the user's state), and the lock of
    /// the head of the shard of the user's earlier events. Returns the outcome and that head, if any.
    private func apply(
        _ decision: AttemptDecision, _ request: AttemptRequest, _ loaded: LoadedAttempt, on connection: PostgresConnection
    ) async throws -> (AttemptOutcome, AuditShardHead?) {
        let plan = AttemptPlan(decision, request, loaded)
        var statement = AttemptApplyStatement(
            applicationID: request.applicationID.rawValue, userID: request.userID.rawValue, now: PostgresColumn.milliseconds(request.now))
        statement.factorID = plan.factorID
        statement.step = plan.step
        statement.drift = plan.drift
        statement.activate = plan.activate
        statement.codeIndex = plan.codeIndex
        statement.countsAsFailure = plan.countsAsFailure
        statement.failures = plan.failures
        statement.lockedUntil = plan.lockedUntil.map(PostgresColumn.milliseconds)
        statement.hasState = plan.hasState
        statement.shard = loaded.shard.map(Int64.init)
        guard let row = try await connection.rows(statement, logger: logger).first else {
            throw TwofoldError(.unavailable, "applying an attempt returned no row")
        }
        var head: AuditShardHead?
        if let shard = row.shard, let headSequence = row.headSequence, let headMAC = row.headMAC,
           let firstSequence = row.firstSequence, let firstPreviousMAC = row.firstPreviousMAC, let tag = row.tag {
            head = AuditShardHead(
                shard: shard, headSequence: headSequence, headMAC: PostgresColumn.bytes(headMAC), firstSequence: firstSequence,
                firstPreviousMAC: PostgresColumn.bytes(firstPreviousMAC), tag: PostgresColumn.bytes(tag))
        }
        return (try plan.outcome(won: row.won == 1), head)
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
