import Foundation
import PostgresNIO
import Synchronization
import TwofoldCore

/// Group commit for attempts: the attempts waiting at the same moment run together, in one
/// transaction of seven round trips whatever their number, instead of six round trips each.
///
/// Why: an attempt's work in PostgreSQL is a few index lookups and row writes; what costs is
/// everything around them: six round trips, six statements to parse and plan or bind, a commit,
/// and the context switches between this process and a backend, on a machine whose cores both
/// also run the other. A batch pays for those once.
///
/// How (``PostgresStore/attemptBatch(_:)``): the users' advisory locks, taken in one statement
/// in key order (so that two batches, on this node or another, never wait for each other in
/// opposite orders); one snapshot statement for every attempt; `decide` for each; one statement
/// doing every compare-and-set and throttle update; then the heads of the events' shards, locked
/// in shard order in one statement, the events chained in Swift, and every event and new head
/// written in one statement. Locks are taken in the same order as by one attempt: users, their
/// rows, shard heads. The compare-and-set alone still refuses a replay.
///
/// Scheduling (``PostgresStore/queueAttempt(_:closures:)``): each attempt belongs to one of
/// ``PostgresStore/attemptDrains`` lanes, by the shard of its audit event. An attempt is queued,
/// and its lane's drain starts if it is not running; a drain takes its lane's queued attempts
/// (one per user per batch, in arrival order), runs them, and goes on while there are some. A
/// lone attempt therefore runs at once, alone, through the single-attempt path; under load,
/// batches grow by themselves, and the lanes' batches run side by side without contending for
/// shard heads, so one batch's commit overlaps another's statements. No timer, no added latency.
///
/// Failure: an attempt whose API key is revoked or whose `decide` throws fails alone, having
/// written nothing. When the batch's transaction fails before its commit (a deadlock with a
/// transaction outside Twofold's order, a doctored shard head, a missing head), it was rolled
/// back, and each of its attempts runs again alone, so that one attempt's trouble is its own.
/// When the commit itself fails, every attempt hears that error (whether it committed is not
/// known).
extension PostgresStore {
    /// One queued attempt.
    struct QueuedAttempt: Sendable {
        let request: AttemptRequest
        let closures: AttemptClosures
        let continuation: CheckedContinuation<AttemptOutcome, any Error>
        /// The user's advisory lock key, which also tells one user from another.
        let userKey: String
        /// The drain that runs it (see ``PostgresStore/queueAttempt(_:closures:)``).
        let lane: Int
    }

    /// The caller's `decide` and `audit`, which the caller borrows (`withoutActuallyEscaping`):
    /// released by ``release()`` before the caller is resumed, whatever still holds this box.
    final class AttemptClosures: Sendable {
        typealias Decide = @Sendable (AttemptSnapshot) throws -> AttemptDecision
        typealias Audit = @Sendable (AttemptOutcome) -> AuditAppend
        private let closures: Mutex<(decide: Decide, audit: Audit)?>

        init(decide: @escaping Decide, audit: @escaping Audit) {
            closures = Mutex((decide, audit))
        }

        /// The closures, while the attempt runs.
        func borrow() throws -> (decide: Decide, audit: Audit) {
            guard let closures = closures.withLock({ $0 }) else {
                throw TwofoldError(.unavailable, "an attempt's closures were asked for after the attempt ended")
            }
            return closures
        }

        func release() {
            closures.withLock { $0 = nil }
        }
    }

    struct AttemptQueue: Sendable {
        var waiting: [QueuedAttempt] = []
        /// The lanes whose drain runs.
        var draining: Set<Int> = []
        var batches = 0
        var largestBatch = 0
    }

    /// What the attempt batches have done so far, for tests and diagnostics.
    struct AttemptBatchStatistics: Sendable, Equatable {
        /// Batches of two attempts or more run in one transaction.
        var batches: Int
        /// The most attempts one batch held.
        var largestBatch: Int
    }

    var attemptBatchStatistics: AttemptBatchStatistics {
        attemptQueue.withLock { AttemptBatchStatistics(batches: $0.batches, largestBatch: $0.largestBatch) }
    }

    /// Queues an attempt for its lane's next batch, and returns its outcome once that batch
    /// committed. Lanes split the shards of the audit log (``AttemptRequest/auditShard``, or the
    /// user when it is not given): batches of different lanes never wait for each other on a
    /// shard's head on this node, and each user's attempts run in one lane, in arrival order.
    func queueAttempt(_ request: AttemptRequest, closures: AttemptClosures) async throws -> AttemptOutcome {
        let userKey = UserLockStatement(request.applicationID, request.userID).key
        let lane = (request.auditShard ?? (userKey.hashValue & Int.max)) % attemptDrains
        return try await withCheckedThrowingContinuation { continuation in
            let startDrain = attemptQueue.withLock { queue in
                queue.waiting.append(QueuedAttempt(request: request, closures: closures, continuation: continuation,
                                                   userKey: userKey, lane: lane))
                return queue.draining.insert(lane).inserted
            }
            if startDrain {
                Task { await drainAttempts(lane: lane) }
            }
        }
    }

    /// Runs the lane's batches while it has attempts waiting.
    private func drainAttempts(lane: Int) async {
        while true {
            let batch = attemptQueue.withLock { queue -> [QueuedAttempt] in
                var batch: [QueuedAttempt] = []
                var taken = Set<String>()
                var left: [QueuedAttempt] = []
                left.reserveCapacity(queue.waiting.count)
                for attempt in queue.waiting {
                    // One attempt per user per batch; later ones wait for the next, in order.
                    if attempt.lane == lane, batch.count < Self.largestAttemptBatch, taken.insert(attempt.userKey).inserted {
                        batch.append(attempt)
                    } else {
                        if attempt.lane == lane { taken.insert(attempt.userKey) }
                        left.append(attempt)
                    }
                }
                queue.waiting = left
                if batch.isEmpty {
                    queue.draining.remove(lane)
                } else if batch.count > 1 {
                    queue.batches += 1
                    queue.largestBatch = max(queue.largestBatch, batch.count)
                }
                return batch
            }
            if batch.isEmpty { return }
            let results: [Result<AttemptOutcome, any Error>]
            if batch.count == 1 {
                results = [await attemptAlone(batch[0].request, batch[0].closures)]
            } else {
                results = await attemptBatch(batch)
            }
            for (attempt, result) in zip(batch, results) {
                attempt.closures.release()
                attempt.continuation.resume(with: result)
            }
        }
    }

    /// The batch's attempts in one transaction (see above); falls back to one transaction each.
    private func attemptBatch(_ batch: [QueuedAttempt]) async -> [Result<AttemptOutcome, any Error>] {
        let requests = batch.map(\.request)
        let closures = batch.map(\.closures)
        enum Phase { case waitingForConnection, running, committing }
        let phase = Mutex(Phase.waitingForConnection)
        do {
            return try await transaction("record a batch of verification attempts") { [self] connection in
                phase.withLock { $0 = .running }
                let results = try await attemptBatch(requests, closures, on: connection)
                phase.withLock { $0 = .committing }
                return results
            }
        } catch {
            // Without a connection (or a store) alone would fail the same way; after the commit
            // was sent, whether it took effect is unknown.
            if phase.withLock({ $0 }) != .running {
                return Array(repeating: .failure(error), count: batch.count)
            }
            logger.debug("a batch of attempts failed; running them one by one", metadata: ["error": "\(Self.describe(error))"])
            return await withTaskGroup(of: (Int, Result<AttemptOutcome, any Error>).self) { group in
                for (index, request) in requests.enumerated() {
                    group.addTask { [self] in
                        (index, await attemptAlone(request, closures[index]))
                    }
                }
                var results = [Result<AttemptOutcome, any Error>](repeating: .failure(CancellationError()), count: batch.count)
                for await (index, result) in group { results[index] = result }
                return results
            }
        }
    }

    private func attemptAlone(_ request: AttemptRequest, _ closures: AttemptClosures) async -> Result<AttemptOutcome, any Error> {
        do {
            let (decide, audit) = try closures.borrow()
            return .success(try await attemptInOwnTransaction(request, decide: decide, audit: audit))
        } catch {
            return .failure(error)
        }
    }

    /// The batch's statements, on a connection in a transaction. Throws (rolling the batch back)
    /// only for what concerns the whole batch; an attempt's own failure is its result.
    private func attemptBatch(
        _ requests: [AttemptRequest], _ closures: [AttemptClosures], on connection: PostgresConnection
    ) async throws -> [Result<AttemptOutcome, any Error>] {
        try await connection.run(UserLocksStatement(keys: requests.map { UserLockStatement($0.applicationID, $0.userID).key }),
                                 logger: logger)

        var snapshotStatement = AttemptBatchSnapshotStatement()
        for (index, request) in requests.enumerated() {
            let (verifying, factorID) = request.purpose.snapshotScope
            snapshotStatement.append(index, request.applicationID.rawValue, request.userID.rawValue, verifying: verifying,
                                     factorID: factorID, apiKeyID: request.apiKeyID)
        }
        var loaded = [LoadedAttempt](repeating: LoadedAttempt(), count: requests.count)
        for (index, row) in try await connection.rows(snapshotStatement, logger: logger) {
            guard loaded.indices.contains(index) else {
                throw TwofoldError(.unavailable, "a batch's snapshot has a row of attempt \(index), which it does not hold")
            }
            try loaded[index].add(row, of: requests[index])
        }

        var results = [Result<AttemptOutcome, any Error>?](repeating: nil, count: requests.count)
        var plans = [AttemptPlan?](repeating: nil, count: requests.count)
        var applyStatement = AttemptBatchApplyStatement()
        for (index, request) in requests.enumerated() {
            if request.apiKeyID != nil, !loaded[index].apiKeyActive {
                results[index] = .failure(TwofoldError(.unauthorized, "the API key is unknown or revoked"))
            } else if let lockedUntil = loaded[index].lockedUntil, lockedUntil > request.now {
                results[index] = .success(.locked(until: lockedUntil))
            } else {
                do {
                    let plan = AttemptPlan(try closures[index].borrow().decide(loaded[index].snapshot), request, loaded[index])
                    plans[index] = plan
                    applyStatement.append(index, request.applicationID.rawValue, request.userID.rawValue,
                                          now: PostgresColumn.milliseconds(request.now), plan)
                } catch {
                    results[index] = .failure(error)
                }
            }
        }
        if !applyStatement.isEmpty {
            let won = Set(try await connection.rows(applyStatement, logger: logger))
            for (index, plan) in plans.enumerated() {
                guard let plan else { continue }
                results[index] = .success(try plan.outcome(won: won.contains(index)))
            }
        }

        var appends: [AuditAppend] = []
        for (index, result) in results.enumerated() {
            if case .success(let outcome)? = result {
                appends.append(try closures[index].borrow().audit(outcome))
            }
        }
        try await appendAudit(appends, on: connection)
        return results.map { $0 ?? .failure(TwofoldError(.unavailable, "an attempt of a batch was left without a result")) }
    }
}

