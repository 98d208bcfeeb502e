import Foundation
import PostgresNIO
import TwofoldCore

extension PostgresStore {
    public func appendAudit(_ audit: AuditAppend) async throws {
        try await transaction("append an audit event") { [self] connection in
            try await appendAudit(audit, on: connection)
        }
    }

    public func auditEvents(_ query: AuditQuery) async throws -> [AuditEvent] {
        let app = query.applicationID?.rawValue
        let user = query.userID?.rawValue
        let since = query.since.map(StoredTime.milliseconds)
        // Unnamed statements are planned with their values, so a NULL filter drops out of the plan
        // and the (app_id, user_id, id) index serves a user's events.
        return try await withConnection("read audit events") { [self] connection in
            try await connection.rows("""
                SELECT \(unescaped: Self.auditEventColumns) FROM audit_events
                WHERE (\(app)::TEXT IS NULL OR app_id = \(app))
                  AND (\(user)::TEXT IS NULL OR user_id = \(user))
                  AND (\(since)::BIGINT IS NULL OR time >= \(since))
                  AND (\(query.beforeID)::BIGINT IS NULL OR id < \(query.beforeID))
                ORDER BY id DESC
                LIMIT \(max(0, query.limit))
                """, logger: logger).map(Self.auditEvent)
        }
    }

    public func auditShardHeads() async throws -> [AuditShardHead] {
        try await withConnection("read audit shard heads") { [self] connection in
            try await connection.rows("SELECT \(unescaped: Self.auditHeadColumns) FROM audit_shards ORDER BY shard", logger: logger)
                .map(Self.auditHead)
        }
    }

    public func auditEvents(shard: Int, fromSequence: Int64, limit: Int) async throws -> [AuditEvent] {
        try await withConnection("read audit shard \(shard)") { [self] connection in
            try await connection.rows("""
                SELECT \(unescaped: Self.auditEventColumns) FROM audit_events
                WHERE shard = \(shard) AND seq >= \(fromSequence)
                ORDER BY seq
                LIMIT \(max(0, limit))
                """, logger: logger).map(Self.auditEvent)
        }
    }

    /// Per shard, in its own transaction holding the shard's head: deletes the events from the
    /// chain's start up to the first one at or after `date`, and re-anchors the head on the first
    /// event left (or, when none is, past the head). The deletion and the new anchor are
    /// `twofold_purge_audit_shard`'s (``PostgresMigration/auditFunctions``).
    public func purgeAudit(before date: Date, chain: AuditChain) async throws -> Int {
        let cutoff = StoredTime.milliseconds(date)
        let shards = try await withConnection("list audit shards") { [self] connection in
            try await connection.rows("SELECT shard FROM audit_shards ORDER BY shard", logger: logger).map { try $0.decode(Int.self) }
        }
        var deleted = 0
        for shard in shards {
            deleted += try await transaction("purge audit shard \(shard)") { [self] connection in
                guard let head = try await lockAuditHead(shard: shard, on: connection) else { return 0 }
                let keep = try await connection.rows("""
                    SELECT seq, prev_mac FROM audit_events
                    WHERE shard = \(shard) AND seq >= \(head.firstSequence) AND time >= \(cutoff)
                    ORDER BY seq LIMIT 1
                    """, logger: logger).first.map { try $0.decode((Int64, ByteBuffer).self) }
                let end = keep?.0 ?? head.headSequence + 1
                guard end > head.firstSequence else { return 0 }
                let anchored = try chain.reanchored(head, firstSequence: end,
                                                firstPreviousMAC: keep.map { PostgresColumn.bytes($0.1) } ?? head.headMAC)
                // Deletes the events before `end` and writes the new anchor (migration 6: the
                // runtime role may not delete events itself).
                return try await connection.rows("""
                    SELECT twofold_purge_audit_shard(
                        \(shard)::INT, \(anchored.firstSequence), \(PostgresColumn.bytes(anchored.firstPreviousMAC)),
                        \(PostgresColumn.bytes(anchored.tag)))
                    """, logger: logger).first.map { try $0.decode(Int.self) } ?? 0
            }
        }
        return deleted
    }

    // MARK: Appending inside a transaction

    /// Appends `audit` to its shard's chain: locks the head, then writes the event and the new head.
    func appendAudit(_ audit: AuditAppend, on connection: PostgresConnection) async throws {
        let head = try await lockAuditHead(for: audit, on: connection)
        try await writeAudit(audit, after: head, on: connection)
    }

    /// Locks the head of the shard `audit` goes to, creating it (empty) if the shard has none,
    /// and returns it. The lock is the row's, until the transaction ends: appends to other shards
    /// do not wait.
    func lockAuditHead(for audit: AuditAppend, on connection: PostgresConnection) async throws -> AuditShardHead {
        if let head = try await lockAuditHead(shard: audit.shard, on: connection) {
            return head
        }
        let empty = audit.emptyHead()
        let created = try await connection.rows("""
            INSERT INTO audit_shards (\(unescaped: Self.auditHeadColumns))
            VALUES (\(empty.shard), \(empty.headSequence), \(PostgresColumn.bytes(empty.headMAC)), \(empty.firstSequence),
                    \(PostgresColumn.bytes(empty.firstPreviousMAC)), \(PostgresColumn.bytes(empty.tag)))
            ON CONFLICT (shard) DO NOTHING
            RETURNING 1
            """, logger: logger)
        if !created.isEmpty { return empty }
        // Another transaction created it first.
        guard let head = try await lockAuditHead(shard: audit.shard, on: connection) else {
            throw TwofoldError(.unavailable, "audit shard \(audit.shard) has no head row after creating one")
        }
        return head
    }

    /// Locks and returns a shard's head, if it has one.
    func lockAuditHead(shard: Int, on connection: PostgresConnection) async throws -> AuditShardHead? {
        try await connection.rows("""
            SELECT \(unescaped: Self.auditHeadColumns) FROM audit_shards WHERE shard = \(shard) FOR UPDATE
            """, logger: logger).first.map(Self.auditHead)
    }

    /// Writes the event following `head` (which this transaction holds) and the new head, in one statement.
    func writeAudit(_ audit: AuditAppend, after head: AuditShardHead, on connection: PostgresConnection) async throws {
        let (event, next) = try audit.append(after: head)
        try await connection.run(AuditWriteStatement(event: event, head: next), logger: logger)
    }
}
