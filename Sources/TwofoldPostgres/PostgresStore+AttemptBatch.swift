import Foundation
import PostgresNIO
import Synchronization
import TwofoldCore

/// Group commit for attempts: the attempts waiting at the same moment are read in one statement
/// and written in one more, whatever their number, with one commit, instead of a transaction of
/// several round trips each.
///
/// Why: an attempt's work in PostgreSQL is a few index lookups and row writes; what costs is
/// everything around them: round trips, statements to bind, a commit, and the context switches
/// between this process and a backend, on a machine whose cores both also run the other. A batch
/// pays for those once, and two round trips cost less than seven even for a batch of one.
///
/// How (``PostgresStore/record(_:underLocks:)``), optimistically, without a transaction held
/// open across the decision: one statement reads every attempt's snapshot and the heads of the
/// shards their events go to; `decide` runs for each, and each event is chained onto its shard's
/// head here; then one call of `twofold_record_attempts_with_challenges`
/// (``PostgresMigration/challenges``, which extends ``PostgresMigration/recordAttempts``'s) takes
/// the users' advisory locks and the heads' row locks in the usual order, checks that the
/// throttle states and heads are still those read, and writes the compare-and-sets (steps,
/// recovery codes, challenges and the factors they activate), throttle updates, the wrong codes
/// counted against the snapshots' challenges, events and heads, or nothing. The compare-and-set
/// alone still refuses a replay: one that loses to another node (or to a challenge finished,
/// purged or canceled meanwhile) rolls the call back. The read holds no lock, so nothing waits
/// on a decision being made in this process.
///
/// Scheduling (``PostgresStore/queueAttempt(_:closures:)``): an attempt is queued, and a drain
/// starts if none runs; a drain takes the queued attempts (one per user per batch, in arrival
/// order), runs them, and goes on while there are some. A lone attempt therefore runs at once;
/// under load, batches grow by themselves. While many attempts wait, a second drain runs, and
/// the two split the shards between them, so that one batch's commit overlaps the other's
/// statements. No added latency. Where the pool has a connection to spare, a drain holds one for
/// as long as batches keep coming, and for ``PostgresStore/defaultDrainLinger`` after its last
/// one, woken by the first attempt it may take, because leasing a connection per batch starts two
/// timers each time (see ``PostgresStore/defaultDrainLinger``).
///
/// Change and failure: an attempt whose API key is revoked or whose `decide` throws fails alone,
/// having written nothing. A batch that could not be written as read (another node or an admin
/// changed one of its users or heads in between, or a shard has no head yet) runs again in a
/// transaction that first takes all its locks, then reads, decides and writes the same way: three
/// round trips more (BEGIN, the locks, COMMIT), but nothing can change under it, so a batch that
/// keeps meeting another node's writes still makes progress; and for a second after that, the
/// batches take their locks first (``PostgresStore/locksFirstAfterChange``). A batch that
/// fails that way too (a request without ``AttemptRequest/auditShard``, a doctored head, a
/// deadlock with a writer outside this order) is recorded again one attempt at a time, each as a
/// batch of its own under locks, so that one attempt's trouble is its own: its error is then its
/// answer. Without a connection, or when a write fails (whether it committed is not known),
/// every attempt of the batch hears that error.
extension PostgresStore {
    /// One queued attempt.
    struct QueuedAttempt: Sendable {
        let request: AttemptRequest
        let closures: AttemptClosures
        let continuation: CheckedContinuation<AttemptOutcome, any Error>
        /// The user's advisory lock key, which also tells one user from another.
        let userKey: String
        /// The audit shard its event goes to (``AttemptRequest/auditShard``, or a hash of the user
        /// when not given): two batches running at once never hold attempts of one shard.
        let shard: Int
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
        /// Each running drain, by number, with the shards of the batch it runs (none while it
        /// lingers or picks its next batch).
        var draining: [Int: Set<Int>] = [:]
        /// Drains waiting for attempts on the connection they hold (see ``drainLinger``), with
        /// when they began to.
        var lingering: [Int: (since: NIODeadline, continuation: CheckedContinuation<Bool, Never>)] = [:]
        /// Drains with a linger timer pending: one at a time each, which a linger that began
        /// after it was set moves on when it fires, so that a drain lingering between the
        /// batches of a steady load does not start a timer each time.
        var lingerTimers: Set<Int> = []
        /// Until when batches take their locks first, without trying a read without them: set
        /// when a batch found a change since its read (see ``locksFirstAfterChange``).
        var locksFirstUntil: ContinuousClock.Instant?
        var batches = 0
        var largestBatch = 0
        var recordedAsRead = 0
        var recordedUnderLocks = 0
        var recordedAlone = 0
        var connectionsLeased = 0
    }

    /// What the attempt batches have done so far, for tests and diagnostics.
    struct AttemptBatchStatistics: Sendable, Equatable {
        /// Batches of two attempts or more run in one transaction.
        var batches: Int
        /// The most attempts one batch held.
        var largestBatch: Int
        /// Attempts written as first read, without locks held across the decision.
        var recordedAsRead: Int
        /// Attempts recorded in a batch that held its locks from the start, because written as
        /// first read they were not.
        var recordedUnderLocks: Int
        /// Attempts recorded again one at a time, because their batch could not be recorded either way.
        var recordedAlone: Int
        /// Connections the drains took from the pool, each for as long as batches kept coming.
        var connectionsLeased: Int
    }

    var attemptBatchStatistics: AttemptBatchStatistics {
        attemptQueue.withLock {
            AttemptBatchStatistics(batches: $0.batches, largestBatch: $0.largestBatch, recordedAsRead: $0.recordedAsRead,
                                   recordedUnderLocks: $0.recordedUnderLocks, recordedAlone: $0.recordedAlone,
                                   connectionsLeased: $0.connectionsLeased)
        }
    }

    /// How long batches take their locks first after one found a change since its read. Where
    /// another node writes to the same shards all the time, nearly every batch would find one,
    /// and pay for a read and a refused write before running under locks; where changes are
    /// rare, a second of five round trips per batch is soon over.
    static let locksFirstAfterChange: Duration = .seconds(1)

    /// Queues an attempt for the next batch, and returns its outcome once that batch committed.
    ///
    /// Drains split the shards of the audit log between them (drain `d` owns the shards `s` with
    /// `s % attemptDrains == d`), but a drain running alone takes every shard's attempts: one
    /// batch costs the same round trips whatever it holds, so while the load is light, one drain
    /// makes the largest batches. The first attempt starts its shard's drain; the other starts
    /// only when ``attemptsWaitingForSecondDrain`` attempts wait. While both run, each takes only
    /// its own shards; a drain never takes a shard the other's batch holds, so the two never wait
    /// for each other on a shard's head, nor find it moved by the other. Each user's attempts run
    /// one after the other, in arrival order (one per user per batch). A drain that lingers (see
    /// ``defaultDrainLinger``) is woken as soon as there is an attempt it may take: when one
    /// arrives, when the other drain's batch gives back its shards, or when the other drain ends.
    func queueAttempt(_ request: AttemptRequest, closures: AttemptClosures) async throws -> AttemptOutcome {
        let userKey = UserLockStatement(request.applicationID, request.userID).key
        let shard = request.auditShard ?? (userKey.hashValue & Int.max)
        return try await withCheckedThrowingContinuation { continuation in
            enum Next { case none, start(Int), wake([CheckedContinuation<Bool, Never>]) }
            let next = attemptQueue.withLock { queue -> Next in
                queue.waiting.append(QueuedAttempt(request: request, closures: closures, continuation: continuation,
                                                   userKey: userKey, shard: shard))
                let own = shard % attemptDrains
                let woken = Self.lingeringDrainsWithWork(in: &queue, drains: attemptDrains)
                if !woken.isEmpty { return .wake(woken) }
                if queue.draining.isEmpty {
                    queue.draining[own] = []
                    return .start(own)
                }
                guard queue.draining.count < attemptDrains, queue.waiting.count >= Self.attemptsWaitingForSecondDrain,
                      let idle = (0..<attemptDrains).first(where: { queue.draining[$0] == nil })
                else { return .none }
                queue.draining[idle] = []
                return .start(idle)
            }
            switch next {
            case .none: break
            case .start(let drain): Task { await drainAttempts(drain) }
            case .wake(let woken): for lingering in woken { lingering.resume(returning: true) }
            }
        }
    }

    /// Runs batches while there are attempts it may take (see ``queueAttempt(_:closures:)``), on
    /// one connection while it lasts; ends when none came during its linger (or at once, without
    /// one), waking the other drain if it lingers and may now take what is left.
    private func drainAttempts(_ drain: Int) async {
        var batch = takeBatchOrEnd(drain)
        while !batch.isEmpty {
            let first = batch
            let started = Mutex(false)
            do {
                batch = try await withConnection("record verification attempts") { connection in
                    started.withLock { $0 = true }
                    self.attemptQueue.withLock { $0.connectionsLeased += 1 }
                    return await self.runAttempts(drain, first: first, on: connection)
                }
            } catch {
                // No connection within `connectionWait`, or the store is closed: the batch hears why.
                if !started.withLock({ $0 }) {
                    for attempt in first {
                        attempt.closures.release()
                        attempt.continuation.resume(throwing: error)
                    }
                }
                batch = takeBatchOrEnd(drain)
            }
        }
    }

    /// Runs `first`, then (when the store lingers) the batches that follow, on `connection`,
    /// answering each attempt.
    /// - Returns: the batch to run on another connection (one that could not run on this one,
    ///   which closed, or the next one when the store does not linger); empty when the drain ended.
    private func runAttempts(_ drain: Int, first: [QueuedAttempt], on connection: PostgresConnection) async -> [QueuedAttempt] {
        var batch = first
        while true {
            // A connection that closed while the drain waited (its server process ended, say) is
            // never used again: a query sent on it was seen to wait for good.
            if connection.isClosed { return batch }
            guard let results = await record(batch, on: connection) else { return batch }
            for (attempt, result) in zip(batch, results) {
                attempt.closures.release()
                attempt.continuation.resume(with: result)
            }
            guard let drainLinger, !connection.isClosed else { return takeBatchOrEnd(drain) }
            batch = await nextBatch(for: drain, linger: drainLinger)
            if batch.isEmpty { return [] }
        }
    }

    /// The drain's next batch, or, with none, empty after ending the drain (waking the other
    /// one if it lingers and now has attempts to take).
    private func takeBatchOrEnd(_ drain: Int) -> [QueuedAttempt] {
        let (batch, woken) = attemptQueue.withLock { queue -> ([QueuedAttempt], [CheckedContinuation<Bool, Never>]) in
            let batch = Self.takeBatch(for: drain, from: &queue, drains: attemptDrains)
            if !batch.isEmpty { return (batch, []) }
            queue.draining[drain] = nil
            return (batch, Self.lingeringDrainsWithWork(in: &queue, drains: attemptDrains))
        }
        for lingering in woken { lingering.resume(returning: true) }
        return batch
    }

    /// The drain's next batch, waiting up to `linger` for one; empty when none came (the drain
    /// has then ended).
    private func nextBatch(for drain: Int, linger: TimeAmount) async -> [QueuedAttempt] {
        while true {
            let woken = await withCheckedContinuation { (continuation: CheckedContinuation<Bool, Never>) in
                enum Next { case work, wait, waitWithTimer }
                let now = NIODeadline.now()
                let (next, others) = attemptQueue.withLock { queue -> (Next, [CheckedContinuation<Bool, Never>]) in
                    // The last batch is answered: its shards are free again, for the other drain too.
                    queue.draining[drain] = []
                    if Self.hasAttempts(for: drain, in: queue, drains: attemptDrains) { return (.work, []) }
                    queue.lingering[drain] = (now, continuation)
                    let others = Self.lingeringDrainsWithWork(in: &queue, drains: attemptDrains)
                    return (queue.lingerTimers.insert(drain).inserted ? .waitWithTimer : .wait, others)
                }
                for other in others { other.resume(returning: true) }
                switch next {
                case .work: continuation.resume(returning: true)
                case .wait: break
                case .waitWithTimer: scheduleLingerTimer(for: drain, at: now + linger, linger: linger)
                }
            }
            guard woken else { return [] }
            let batch = attemptQueue.withLock { Self.takeBatch(for: drain, from: &$0, drains: attemptDrains) }
            if !batch.isEmpty { return batch }
        }
    }

    /// Ends the drain's linger if it has lasted `linger` by `deadline`; moves the timer on to the
    /// end of a linger that began later.
    private func scheduleLingerTimer(for drain: Int, at deadline: NIODeadline, linger: TimeAmount) {
        timerLoop.scheduleTask(deadline: deadline) { [self] in
            enum Next { case none, end(CheckedContinuation<Bool, Never>, work: Bool, others: [CheckedContinuation<Bool, Never>]),
                        reschedule(NIODeadline) }
            let next = attemptQueue.withLock { queue -> Next in
                guard let lingering = queue.lingering[drain] else {
                    queue.lingerTimers.remove(drain)
                    return .none
                }
                let end = lingering.since + linger
                if end > NIODeadline.now() { return .reschedule(end) }
                queue.lingering[drain] = nil
                queue.lingerTimers.remove(drain)
                // Every change that gives a drain work wakes it; should one have been missed, the
                // drain goes on rather than leave those attempts waiting.
                if Self.hasAttempts(for: drain, in: queue, drains: attemptDrains) { return .end(lingering.continuation, work: true, others: []) }
                queue.draining[drain] = nil
                // The other drain, alone now, may take every shard.
                return .end(lingering.continuation, work: false, others: Self.lingeringDrainsWithWork(in: &queue, drains: attemptDrains))
            }
            switch next {
            case .none: break
            case .end(let continuation, let work, let others):
                continuation.resume(returning: work)
                for other in others { other.resume(returning: true) }
            case .reschedule(let end): scheduleLingerTimer(for: drain, at: end, linger: linger)
            }
        }
    }

    /// How long a drain keeps its connection after its last batch, waiting for another attempt,
    /// unless a store is made with another. Only where the pool has a connection more than the
    /// drains can hold, so that everything else still finds one.
    ///
    /// Why: each lease of a pooled connection costs a wait timer here, and each return a
    /// keep-alive timer in PostgresNIO's pool (a `Task.sleep`, cancelled at the next lease but
    /// fired at its deadline anyway), so at a steady load with a batch or two in flight a lease
    /// per batch keeps a thread busy with timers. Far longer than the gaps between attempts
    /// under load, far shorter than anything a person waits for.
    public static let defaultDrainLinger: Duration = .milliseconds(5)

    /// The lingering drains that may now take attempts, taken out of `lingering`: resume each
    /// (with `true`) once the lock is released.
    private static func lingeringDrainsWithWork(in queue: inout AttemptQueue, drains: Int) -> [CheckedContinuation<Bool, Never>] {
        var woken: [CheckedContinuation<Bool, Never>] = []
        for drain in queue.lingering.keys.sorted() where hasAttempts(for: drain, in: queue, drains: drains) {
            if let lingering = queue.lingering.removeValue(forKey: drain) { woken.append(lingering.continuation) }
        }
        return woken
    }

    /// Whether ``takeBatch(for:from:drains:)`` would find anything for `drain` (without copying
    /// the queue: this runs for every attempt that arrives while a drain lingers).
    private static func hasAttempts(for drain: Int, in queue: AttemptQueue, drains: Int) -> Bool {
        let mayTake = takeable(by: drain, in: queue, drains: drains)
        var seen = Set<String>()
        for attempt in queue.waiting {
            if mayTake(attempt), !seen.contains(attempt.userKey) { return true }
            seen.insert(attempt.userKey)
        }
        return false
    }

    /// Whether `drain` may take an attempt by its shard: its own shards, or every one while no
    /// other drain is registered; never one another drain's batch holds.
    private static func takeable(by drain: Int, in queue: AttemptQueue, drains: Int) -> (QueuedAttempt) -> Bool {
        let others = queue.draining.filter { $0.key != drain }
        let busy = others.values.reduce(into: Set<Int>()) { $0.formUnion($1) }
        return { attempt in (others.isEmpty || attempt.shard % drains == drain) && !busy.contains(attempt.shard) }
    }

    /// Takes the next batch of `drain` out of `queue` (one attempt per user, in arrival order, of
    /// the shards it may take, see ``takeable(by:in:drains:)``) and records its shards as busy.
    /// With none, the drain stays registered, holding no shard.
    private static func takeBatch(for drain: Int, from queue: inout AttemptQueue, drains: Int) -> [QueuedAttempt] {
        let mayTake = takeable(by: drain, in: queue, drains: drains)
        var batch: [QueuedAttempt] = []
        var taken = Set<String>()
        var left: [QueuedAttempt] = []
        left.reserveCapacity(queue.waiting.count)
        for attempt in queue.waiting {
            // One attempt per user per batch; later ones wait for the next, in order.
            if batch.count < largestAttemptBatch, mayTake(attempt), taken.insert(attempt.userKey).inserted {
                batch.append(attempt)
            } else {
                taken.insert(attempt.userKey)
                left.append(attempt)
            }
        }
        queue.waiting = left
        queue.draining[drain] = Set(batch.map(\.shard))
        if batch.count > 1 {
            queue.batches += 1
            queue.largestBatch = max(queue.largestBatch, batch.count)
        }
        return batch
    }

    /// Each attempt's result, trying the ways described above in turn; nil when `connection`
    /// closed before the batch was recorded, which may then run on another connection.
    private func record(_ batch: [QueuedAttempt], on connection: PostgresConnection) async -> [Result<AttemptOutcome, any Error>]? {
        let locksFirst = attemptQueue.withLock { queue in queue.locksFirstUntil.map { $0 > .now } ?? false }
        if !locksFirst, let recorded = await record(batch, underLocks: false, on: connection) {
            attemptQueue.withLock { $0.recordedAsRead += batch.count }
            return recorded
        }
        if connection.isClosed { return nil }
        if let recorded = await record(batch, underLocks: true, on: connection) {
            attemptQueue.withLock { queue in
                queue.recordedUnderLocks += batch.count
                if !locksFirst { queue.locksFirstUntil = .now + Self.locksFirstAfterChange }
            }
            return recorded
        }
        if connection.isClosed { return nil }
        attemptQueue.withLock { $0.recordedAlone += batch.count }
        return await recordEachAlone(batch, on: connection)
    }

    /// The batch's attempts read in one statement and written in another (see above), or nil
    /// when nothing of them was written and they must run another way. Under locks, in a
    /// transaction that takes them all first, so that nothing can change between the read and the
    /// write; otherwise without (the write then checks that nothing did).
    ///
    /// `alone`: the last way, for a batch of one attempt under locks, whose failure is its answer
    /// (never nil). Its shard may be unknown (no ``AttemptRequest/auditShard``): the head is then
    /// locked once its event is known, after the user's lock, which is the order of every writer.
    private func record(_ batch: [QueuedAttempt], underLocks: Bool, alone: Bool = false,
                        on connection: PostgresConnection) async -> [Result<AttemptOutcome, any Error>]? {
        precondition(!alone || (underLocks && batch.count == 1), "only a batch of one under locks is recorded alone")
        guard alone || batch.allSatisfy({ $0.request.auditShard != nil }) else { return nil }
        let shards = Set(batch.compactMap(\.request.auditShard)).sorted()
        let requests = batch.map(\.request)
        let closures = batch.map(\.closures)
        let writing = Mutex(false)
        let body: @Sendable (PostgresConnection) async throws -> [Result<AttemptOutcome, any Error>]? = { [self] connection in
            if underLocks {
                try await connection.run(AttemptLocksStatement(
                    userKeys: requests.map { UserLockStatement($0.applicationID, $0.userID).key }, shards: shards.map(Int32.init)),
                                         logger: logger)
            }
            let (statement, results) = try await recordStatement(requests, closures, shards: shards, underLocks: underLocks,
                                                                 on: connection)
            if statement.isEmpty { return results }
            writing.withLock { $0 = true }
            do {
                guard try await connection.rows(statement, logger: logger).first == true else {
                    if alone { throw Self.changedUnderLocks }
                    return nil
                }
            } catch let error as PSQLError where error.serverInfo?[.sqlState] == RecordAttemptsStatement.lostCompareAndSet {
                if alone { throw Self.changedUnderLocks }
                return nil
            }
            return results
        }
        do {
            return underLocks ? try await inTransaction(on: connection, body) : try await body(connection)
        } catch {
            // Once the write was sent, whether it committed is unknown; before, nothing was
            // written (a transaction was rolled back): the attempts may run another way.
            if alone || writing.withLock({ $0 }) {
                return Array(repeating: .failure(storeError(error, while: "record verification attempts")), count: batch.count)
            }
            logger.debug("a batch of attempts failed before its write", metadata: ["error": "\(Self.describe(error))"])
            return nil
        }
    }

    /// Reads the batch's snapshots and heads, decides each attempt and chains its event: the
    /// write that records them all, and each attempt's result if it succeeds. Throws when the
    /// batch cannot be written as one (a failed read, a shard without a head, a doctored head);
    /// under locks, it creates a head a shard lacks.
    private func recordStatement(
        _ requests: [AttemptRequest], _ closures: [AttemptClosures], shards: [Int], underLocks: Bool, on connection: PostgresConnection
    ) async throws -> (statement: RecordAttemptsStatement, results: [Result<AttemptOutcome, any Error>]) {
        var snapshotStatement = AttemptBatchSnapshotStatement()
        for (index, request) in requests.enumerated() {
            snapshotStatement.append(index, request)
        }
        snapshotStatement.shards = shards.map(Int32.init)
        var loaded = [LoadedAttempt](repeating: LoadedAttempt(), count: requests.count)
        var seenHeads: [Int: AuditShardHead] = [:]
        for (index, row) in try await connection.rows(snapshotStatement, logger: logger) {
            if case .shardHead(let head) = row {
                seenHeads[head.shard] = head
                continue
            }
            guard loaded.indices.contains(index) else {
                throw TwofoldError(.unavailable, "a batch's snapshot has a row of attempt \(index), which it does not hold")
            }
            try loaded[index].add(row, of: requests[index])
        }
        for index in loaded.indices {
            loaded[index].finish()
        }

        var statement = RecordAttemptsStatement()
        var results = [Result<AttemptOutcome, any Error>](
            repeating: .failure(TwofoldError(.unavailable, "an attempt of a batch was left without a result")), count: requests.count)
        var heads = seenHeads
        for (index, request) in requests.enumerated() {
            let outcome: AttemptOutcome
            let plan: AttemptPlan?
            var wins = false
            if request.apiKeyID != nil, !loaded[index].apiKeyActive {
                results[index] = .failure(TwofoldError(.unauthorized, "the API key is unknown or revoked"))
                continue
            } else if let lockedUntil = loaded[index].lockedUntil, lockedUntil > request.now {
                outcome = .locked(until: lockedUntil)
                plan = nil
            } else {
                do {
                    let decided = AttemptPlan(try closures[index].borrow().decide(loaded[index].snapshot), request, loaded[index])
                    // The outcome the rows read give; if the write finds them changed, it writes nothing.
                    wins = decided.wins(against: loaded[index].snapshot)
                    outcome = try decided.outcome(won: wins)
                    plan = decided
                } catch {
                    results[index] = .failure(error)
                    continue
                }
            }
            let append = try closures[index].borrow().audit(outcome)
            if heads[append.shard] == nil, underLocks {
                // A shard without events yet gets its head now (once in a store's life).
                let created = try await lockAuditHead(for: append, on: connection)
                seenHeads[append.shard] = created
                heads[append.shard] = created
            }
            guard let head = heads[append.shard] else {
                throw TwofoldError(.unavailable, "audit shard \(append.shard) has no head to chain a batch's event onto")
            }
            let (event, next) = try append.append(after: head)
            heads[append.shard] = next
            statement.append(index, request, plan, wins: wins, seen: loaded[index])
            statement.append(event)
            results[index] = .success(outcome)
        }
        for (shard, seen) in seenHeads.sorted(by: { $0.key < $1.key }) {
            if let next = heads[shard], next.headSequence != seen.headSequence {
                statement.append(head: seen, next: next)
            }
        }
        return (statement, results)
    }

    /// Each attempt recorded as a batch of its own under locks, one after the other on the
    /// drain's connection.
    private func recordEachAlone(_ batch: [QueuedAttempt], on connection: PostgresConnection) async -> [Result<AttemptOutcome, any Error>] {
        var results: [Result<AttemptOutcome, any Error>] = []
        for attempt in batch {
            results.append(await record([attempt], underLocks: true, alone: true, on: connection)?.first ?? .failure(Self.changedUnderLocks))
        }
        return results
    }

    /// What holding every lock should rule out: rows that changed between the read and the write.
    /// Another writer that does not take the user's lock (a hand-made change) can cause it.
    static let changedUnderLocks = TwofoldError(
        .unavailable, "an attempt's rows changed while its locks were held; nothing of it was recorded")
}
