import Foundation
import PostgresNIO
import TwofoldCore

extension PostgresStore {
    /// One attempt in one READ COMMITTED transaction of six round trips:
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
    public func attempt(
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

    private struct LoadedAttempt {
        var snapshot = AttemptSnapshot(factors: [], recoveryCodes: [], dataKey: nil)
        var hasState = false
        var failures = 0
        var lockedUntil: Date?
        /// The shard of the user's latest audit event, where this attempt's event goes too.
        var shard: Int?
        /// Whether the request's API key exists unrevoked (read only when the request names one).
        var apiKeyActive = false
    }

    /// Everything the attempt reads, in one statement (see ``AttemptSnapshotStatement``).
    private func loadAttempt(_ request: AttemptRequest, on connection: PostgresConnection) async throws -> LoadedAttempt {
        let app = request.applicationID.rawValue
        let user = request.userID.rawValue
        let verifying: Bool
        let factorID: String?
        switch request.purpose {
        case .verify:
            verifying = true
            factorID = nil
        case .activate(let id), .resynchronize(let id):
            verifying = false
            factorID = id.rawValue
        }
        var loaded = LoadedAttempt()
        let statement = AttemptSnapshotStatement(applicationID: app, userID: user, verifying: verifying, factorID: factorID,
                                                 apiKeyID: request.apiKeyID)
        for (kind, t1, t2, t3, t4, t5, t6, n1, n2, n3, n4, n5, n6, n7, b) in try await connection.rows(statement, logger: logger) {
            switch kind {
            case 0:
                loaded.hasState = true
                loaded.failures = Int(n1 ?? 0)
                loaded.lockedUntil = PostgresColumn.date(n2)
            case 1:
                if let t1, let b { loaded.snapshot.dataKey = Self.wrappedKey(t1, b) }
            case 2:
                guard let t1, let t2, let t3, let t4, let t6, let n1, let n5, let n6, let n7, let b else {
                    throw TwofoldError(.unavailable, "a factor row of the attempt's snapshot is incomplete")
                }
                loaded.snapshot.factors.append(FactorRecord(
                    id: try Self.identifier(t1), applicationID: request.applicationID, userID: request.userID,
                    type: try Self.value(FactorType(rawValue: t2), "factor type", t2),
                    status: try Self.value(FactorStatus(rawValue: t3), "factor status", t3),
                    createdAt: PostgresColumn.date(n1), activatedAt: PostgresColumn.date(n2), expiresAt: PostgresColumn.date(n3),
                    label: t4, issuer: t5, algorithm: try Self.value(.init(rawValue: t6), "algorithm", t6),
                    digits: Int(n5), period: Int(n6), sealedSecret: PostgresColumn.bytes(b),
                    lastAcceptedStep: n4.map(PostgresColumn.step), drift: Int(n7)))
            case 3:
                guard let n1, let n2, let b else {
                    throw TwofoldError(.unavailable, "a recovery code row of the attempt's snapshot is incomplete")
                }
                loaded.snapshot.recoveryCodes.append(RecoveryCodeRecord(
                    index: Int(n1), hash: PostgresColumn.bytes(b), createdAt: PostgresColumn.date(n2), usedAt: PostgresColumn.date(n3)))
            case 4:
                loaded.shard = n1.map(Int.init)
            case 5:
                loaded.apiKeyActive = true
            default:
                throw TwofoldError(.unavailable, "the attempt's snapshot has a row of unknown kind \(kind)")
            }
        }
        return loaded
    }

    /// Applies `decision` in one statement (see ``AttemptApplyStatement``): the compare-and-set (of
    /// a factor's step, or of a recovery code), the throttle (a lost compare-and-set or a rejection
    /// counts a failure, except `no_factors`; a success deletes the user's state), and the lock of
    /// the head of the shard of the user's earlier events. Returns the outcome and that head, if any.
    private func apply(
        _ decision: AttemptDecision, _ request: AttemptRequest, _ loaded: LoadedAttempt, on connection: PostgresConnection
    ) async throws -> (AttemptOutcome, AuditShardHead?) {
        var statement = AttemptApplyStatement(
            applicationID: request.applicationID.rawValue, userID: request.userID.rawValue, now: PostgresColumn.milliseconds(request.now))
        let denial: DenialReason
        switch decision {
        case .acceptStep(let factorID, let step, let drift, let activate):
            statement.factorID = factorID.rawValue
            statement.step = PostgresColumn.step(step)
            statement.drift = Int64(drift)
            statement.activate = activate
            statement.countsAsFailure = true
            denial = .replayed
        case .acceptRecoveryCode(let index):
            statement.codeIndex = Int64(index)
            statement.countsAsFailure = true
            denial = .invalidCode
        case .reject(let reason):
            // With nothing to guess against, `no_factors` is not a failure.
            statement.countsAsFailure = reason != .noFactors
            denial = reason
        }
        let failures = loaded.failures + 1
        let lockedUntil = statement.countsAsFailure
            ? request.throttle.lockDuration(afterFailures: failures).map { request.now.addingTimeInterval($0) } : nil
        statement.failures = Int64(failures)
        statement.lockedUntil = lockedUntil.map(PostgresColumn.milliseconds)
        statement.hasState = loaded.hasState
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
        let won = row.won
        if won == 1, case .reject = decision {
            throw TwofoldError(.unavailable, "a rejection changed a factor or recovery code")
        }
        return (won == 1 ? .accepted(decision) : .denied(denial, lockedUntil: lockedUntil), head)
    }
}
