import Foundation
import GRDB
import TwofoldCore

extension SQLiteStore {
    public func appendAudit(_ audit: AuditAppend) async throws {
        try await write("append an audit event") { db in
            try Self.appendAudit(audit, db)
        }
    }

    /// Newest first; `since` is inclusive, `beforeID` exclusive.
    public func auditEvents(_ query: AuditQuery) async throws -> [AuditEvent] {
        guard query.limit > 0 else { return [] }
        return try await read("list audit events") { db in
            var conditions: [String] = []
            var arguments = StatementArguments()
            if let applicationID = query.applicationID {
                conditions.append("app_id = ?")
                arguments += [applicationID.rawValue]
            }
            if let userID = query.userID {
                conditions.append("user_id = ?")
                arguments += [userID.rawValue]
            }
            if let since = query.since {
                conditions.append("time >= ?")
                arguments += [StoredTime.milliseconds(since)]
            }
            if let beforeID = query.beforeID {
                conditions.append("id < ?")
                arguments += [beforeID]
            }
            arguments += [query.limit]
            let filter = conditions.isEmpty ? "" : "WHERE " + conditions.joined(separator: " AND ")
            return try db.fetchRows(sql: "SELECT * FROM audit_events \(filter) ORDER BY id DESC LIMIT ?", arguments: arguments)
                .map(SQLiteCoding.event)
        }
    }

    public func auditShardHeads() async throws -> [AuditShardHead] {
        try await read("read audit shard heads") { db in
            try db.directFetchAll("SELECT \(SQLiteCoding.headColumns) FROM audit_shards ORDER BY shard", [], SQLiteCoding.head)
        }
    }

    public func auditEvents(shard: Int, fromSequence: Int64, limit: Int) async throws -> [AuditEvent] {
        guard limit > 0 else { return [] }
        return try await read("read an audit shard") { db in
            try db.fetchRows(sql: "SELECT * FROM audit_events WHERE shard = ? AND seq >= ? ORDER BY seq LIMIT ?",
                             arguments: [shard, fromSequence, limit]).map(SQLiteCoding.event)
        }
    }

    /// Purges one shard per transaction, so a long purge never holds the writer for long: each
    /// shard's deletion and its re-anchored head commit together, which is what keeps that chain
    /// verifiable.
    public func purgeAudit(before date: Date, chain: AuditChain) async throws -> Int {
        let cutoff = StoredTime.milliseconds(date)
        let shards = try await read("list audit shards") { db in
            try Int.fetchAll(db, sql: "SELECT shard FROM audit_shards ORDER BY shard")
        }
        var deleted = 0
        for shard in shards {
            deleted += try await write("purge audit events") { db in
                try Self.purge(shard: shard, before: cutoff, chain: chain, db)
            }
        }
        return deleted
    }

    /// Deletes the longest run of events older than `cutoff` at the start of the shard's chain,
    /// then anchors the chain at the first event left (or, when none is left, just after the head).
    private static func purge(shard: Int, before cutoff: Int64, chain: AuditChain, _ db: Database) throws -> Int {
        guard let head = try db.directFetchOne("SELECT \(SQLiteCoding.headColumns) FROM audit_shards WHERE shard = ?", [.integer(shard)],
                                               SQLiteCoding.head) else { return 0 }
        let end = try Int64.fetchOne(db, sql: "SELECT MIN(seq) FROM audit_events WHERE shard = ? AND seq >= ? AND time >= ?",
                                     arguments: [shard, head.firstSequence, cutoff])
        try db.run(sql: "DELETE FROM audit_events WHERE shard = ? AND seq >= ? AND seq < ?",
                       arguments: [shard, head.firstSequence, end ?? Int64.max])
        let deleted = db.changesCount
        guard deleted > 0 else { return 0 }
        let next: AuditShardHead
        if let first = try db.fetchRow(sql: "SELECT seq, prev_mac FROM audit_events WHERE shard = ? AND seq >= ? ORDER BY seq LIMIT 1",
                                        arguments: [shard, head.firstSequence]) {
            next = try chain.reanchored(head, firstSequence: try first.decode(Int64.self, forColumn: "seq"),
                                    firstPreviousMAC: try SQLiteCoding.bytes(first, "prev_mac"))
        } else {
            next = try chain.reanchored(head, firstSequence: head.headSequence + 1, firstPreviousMAC: head.headMAC)
        }
        try storeHead(next, db)
        return deleted
    }
}
