import Foundation
import TwofoldCore

extension InMemoryStore {
    public func appendAudit(_ audit: AuditAppend) async throws {
        try withState { state in
            state.record(try state.chained(audit))
        }
    }

    /// Newest first; `since` is inclusive, `beforeID` exclusive.
    public func auditEvents(_ query: AuditQuery) async throws -> [AuditEvent] {
        try withState { state in
            guard query.limit > 0 else { return [] }
            let since = query.since.map(StoredTime.milliseconds)
            var found: [AuditEvent] = []
            for event in state.events.reversed() {
                if let applicationID = query.applicationID, !ExactText.same(event.applicationID, applicationID.rawValue) { continue }
                if let userID = query.userID, !ExactText.same(event.userID, userID.rawValue) { continue }
                if let since, event.timeMilliseconds < since { continue }
                if let beforeID = query.beforeID, event.id >= beforeID { continue }
                found.append(event)
                if found.count == query.limit { break }
            }
            return found
        }
    }

    public func auditShardHeads() async throws -> [AuditShardHead] {
        try withState { state in
            state.heads.values.sorted { $0.shard < $1.shard }
        }
    }

    public func auditEvents(shard: Int, fromSequence: Int64, limit: Int) async throws -> [AuditEvent] {
        try withState { state in
            guard limit > 0 else { return [] }
            // In sequence order, as the databases read them: ids follow sequences only while no
            // one has tampered with the events (``InMemoryStore/tamperWithAudit(_:)``).
            let events = state.events.filter { $0.shard == shard && $0.sequence >= fromSequence }
                .sorted { ($0.sequence, $0.id) < ($1.sequence, $1.id) }
            return Array(events.prefix(limit))
        }
    }

    /// One shard at a time, as the SQLite store purges one shard per transaction: each shard's
    /// deletion and its re-anchored head are written together, which keeps that chain verifiable.
    public func purgeAudit(before date: Date, chain: AuditChain) async throws -> Int {
        let cutoff = StoredTime.milliseconds(date)
        let shards = try withState { state in state.heads.keys.sorted() }
        var deleted = 0
        for shard in shards {
            deleted += try withState { state in
                try state.purge(shard: shard, before: cutoff, chain: chain)
            }
        }
        return deleted
    }
}

extension InMemoryStore.State {
    /// The event `audit` appends, chained onto its shard's head (or the shard's first head), and
    /// the head after it. Writes nothing, so a method can fail here having changed nothing.
    /// - Throws: `audit_tampered` when the head's tag is not valid under the event's chain.
    func chained(_ audit: AuditAppend) throws(TwofoldError) -> (event: AuditEvent, head: AuditShardHead) {
        try audit.append(after: heads[audit.shard] ?? audit.emptyHead())
    }

    /// Stores an event from ``chained(_:)`` with the next id, and its shard's new head.
    mutating func record(_ chained: (event: AuditEvent, head: AuditShardHead)) {
        var event = chained.event
        event.id = nextEventID
        nextEventID += 1
        events.append(event)
        heads[chained.head.shard] = chained.head
    }

    /// Deletes the longest run of events older than `cutoff` at the start of the shard's chain,
    /// then anchors the chain at the first event left (or, when none is left, just after the head).
    /// - Returns: how many events were deleted; when none, the head is left as it was.
    /// - Throws: `audit_tampered` when the head's tag is not valid under `chain` (nothing deleted).
    mutating func purge(shard: Int, before cutoff: Int64, chain: AuditChain) throws(TwofoldError) -> Int {
        guard let head = heads[shard] else { return 0 }
        let inChain = { (event: AuditEvent) in event.shard == shard && event.sequence >= head.firstSequence }
        let end = events.lazy.filter { inChain($0) && $0.timeMilliseconds >= cutoff }.map(\.sequence).min() ?? .max
        let purged = { (event: AuditEvent) in inChain(event) && event.sequence < end }
        let deleted = events.count(where: purged)
        guard deleted > 0 else { return 0 }
        let next: AuditShardHead
        if let first = events.lazy.filter({ inChain($0) && !purged($0) }).min(by: { $0.sequence < $1.sequence }) {
            next = try chain.reanchored(head, firstSequence: first.sequence, firstPreviousMAC: first.previousMAC)
        } else {
            next = try chain.reanchored(head, firstSequence: head.headSequence + 1, firstPreviousMAC: head.headMAC)
        }
        events.removeAll(where: purged)
        heads[shard] = next
        return deleted
    }
}
