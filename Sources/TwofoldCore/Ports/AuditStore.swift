import Foundation

/// The tamper-evident audit trail: sharded hash chains of events.
public protocol AuditStore: Sendable {
    func appendAudit(_ audit: AuditAppend) async throws
    /// Events matching `query`, newest first (by id).
    func auditEvents(_ query: AuditQuery) async throws -> [AuditEvent]
    /// Every shard's head, by shard number.
    func auditShardHeads() async throws -> [AuditShardHead]
    /// Up to `limit` events of `shard` with sequence ≥ `fromSequence`, in sequence order.
    func auditEvents(shard: Int, fromSequence: Int64, limit: Int) async throws -> [AuditEvent]
    /// Deletes, per shard, the longest prefix of events older than `date`, re-anchoring the shard
    /// with `chain`; returns how many events were deleted.
    func purgeAudit(before date: Date, chain: AuditChain) async throws -> Int
}
