import Foundation
import PostgresNIO
import TwofoldCore

/// Challenges and send budgets (``ChallengeStore``). Answering a challenge's code goes through
/// the attempts' batches (`PostgresStore+AttemptBatch.swift`).
///
/// Locks: a method that changes a challenge's status and appends an event takes the user's
/// advisory lock first, then the challenge's row, then the event's shard head: the order of an
/// attempt's batch, which holds users and heads and then writes challenges. A batch that runs
/// under its locks (see `PostgresStore+AttemptBatch.swift`) then finds its challenges as it
/// read them.
extension PostgresStore {
    /// Inserts the challenge, then spends each budget with one conditional upsert (see
    /// ``spend(_:now:on:)``), all in one transaction. Budgets are spent in the order of their
    /// keys, so that two sends sharing budgets never wait for each other's rows in opposite
    /// orders; a refusal names the budget the caller's order meets first among those with
    /// nothing left, and rolls everything back.
    /// - Throws: `conflict` when a challenge has that id, whatever the budgets hold.
    public func insertChallenge(_ challenge: ChallengeRecord, spending budgets: [SendBudget], audit: AuditAppend) async throws -> SendRefusal? {
        let now = StoredTime.milliseconds(challenge.createdAt)
        let context = try PostgresColumn.context(challenge.context)
        return try await withConnection("insert challenge \(challenge.id)") { [self] connection in
            do {
                try await inTransaction(on: connection) { connection in
                    try await connection.run(Self.insertChallenge(challenge, context: context), logger: logger)
                    let order = budgets.indices.sorted { (budgets[$0].key, $0) < (budgets[$1].key, $1) }
                    for (position, index) in order.enumerated() where !(try await spend(budgets[index], now: now, on: connection)) {
                        let unspent = order[position...].map { budgets[$0] }
                        throw RefusedSend(try await refusal(budgets, among: unspent, now: now, on: connection))
                    }
                    try await appendAudit(audit, on: connection)
                }
                return nil
            } catch let refused as RefusedSend {
                return refused.refusal
            }
        }
    }

    /// A refusal, carried out of the transaction to roll it back.
    private struct RefusedSend: Error {
        let refusal: SendRefusal
        init(_ refusal: SendRefusal) { self.refusal = refusal }
    }

    /// Takes one token from `budget`'s bucket if it has one at `now`, in one statement: a bucket
    /// without a row is full; otherwise its tokens are refilled by the time since it was last
    /// left (``SendBudget/available(tokens:updatedAt:now:)``, the same arithmetic in doubles),
    /// and spent only when at least one is available. Concurrent sends on any node queue on the
    /// row, and each sees the one before it.
    /// - Returns: Whether a token was taken.
    private func spend(_ budget: SendBudget, now: Int64, on connection: PostgresConnection) async throws -> Bool {
        var bindings = PostgresBindings(capacity: 4)
        bindings.append(budget.key)
        bindings.append(budget.capacity)
        bindings.append(now)
        bindings.append(budget.refillPerMillisecond)
        let available = "LEAST($2, b.tokens + GREATEST(0, $3 - b.updated_at)::DOUBLE PRECISION * $4)"
        let rows = try await connection.rows(PostgresQuery(unsafeSQL: """
            INSERT INTO send_budgets AS b (key, tokens, updated_at)
            SELECT $1, $2 - 1, $3 WHERE $2 >= 1
            ON CONFLICT (key) DO UPDATE SET tokens = \(available) - 1, updated_at = $3
            WHERE \(available) >= 1
            RETURNING 1
            """, binds: bindings), logger: logger)
        return !rows.isEmpty
    }

    /// The refusal for a send that one of `unspent` refused: the first budget of `budgets` (the
    /// caller's order) among them with less than one token, read in the transaction.
    private func refusal(_ budgets: [SendBudget], among unspent: [SendBudget], now: Int64,
                         on connection: PostgresConnection) async throws -> SendRefusal {
        let keys = Set(unspent.map(\.key))
        var buckets: [String: (tokens: Double, updatedAt: Int64)] = [:]
        for row in try await connection.rows("""
            SELECT key, tokens, updated_at FROM send_budgets WHERE key = ANY(\(Array(keys)))
            """, logger: logger) {
            let (key, tokens, updatedAt) = try row.decode((String, Double, Int64).self)
            buckets[key] = (tokens, updatedAt)
        }
        for budget in budgets where keys.contains(budget.key) {
            let available = buckets[budget.key].map { budget.available(tokens: $0.tokens, updatedAt: $0.updatedAt, now: now) }
                ?? budget.capacity
            if available < 1 {
                return SendRefusal(limit: budget.limit, retryAfter: Self.retryAfter(budget, available: available, now: now))
            }
        }
        throw TwofoldError(.unavailable, "a send budget refused a send, but none of them is empty when read again")
    }

    /// When `budget` has a token again: Core's rule, or never for a bucket that never refills
    /// (which that rule cannot express).
    private static func retryAfter(_ budget: SendBudget, available: Double, now: Int64) -> Date {
        guard budget.refillPerMillisecond > 0, budget.refillPerMillisecond.isFinite else { return .distantFuture }
        return budget.retryAfter(available: available, now: now)
    }

    private static func insertChallenge(_ challenge: ChallengeRecord, context: String) -> PostgresQuery {
        """
        INSERT INTO challenges (\(unescaped: challengeColumns))
        VALUES (\(challenge.id.rawValue), \(challenge.applicationID.rawValue), \(challenge.userID.rawValue),
                \(challenge.factorID.rawValue), \(challenge.type.rawValue), \(challenge.mode.rawValue), \(challenge.purpose.rawValue),
                \(challenge.status.rawValue), \(challenge.reason?.rawValue), \(StoredTime.milliseconds(challenge.createdAt)),
                \(StoredTime.milliseconds(challenge.expiresAt)), \(challenge.finishedAt.map(StoredTime.milliseconds)),
                \(challenge.codeHash.map(PostgresColumn.bytes)), \(challenge.failedAttempts), \(challenge.maxAttempts), \(context),
                \(challenge.delivery?.provider), \(challenge.delivery?.status), \(challenge.delivery?.providerReference),
                \(challenge.delivery?.attempt))
        """
    }

    public func challenge(id: ChallengeID) async throws -> ChallengeRecord? {
        try await withConnection("read challenge \(id)") { [self] connection in
            try await connection.rows("""
                SELECT \(unescaped: Self.challengeColumns) FROM challenges WHERE id = \(id.rawValue)
                """, logger: logger).first.map(Self.challenge)
        }
    }

    /// Newest first: creation time, then id in byte order, both descending.
    public func challenges(applicationID: ApplicationID, userID: UserID) async throws -> [ChallengeRecord] {
        try await withConnection("read challenges") { [self] connection in
            try await connection.rows("""
                SELECT \(unescaped: Self.challengeColumns) FROM challenges
                WHERE app_id = \(applicationID.rawValue) AND user_id = \(userID.rawValue)
                ORDER BY created_at DESC, id COLLATE "C" DESC
                """, logger: logger).map(Self.challenge)
        }
    }

    /// Without an event, one statement; with one, under the user's lock (see above).
    public func recordDelivery(_ id: ChallengeID, _ delivery: ChallengeDelivery, audit: AuditAppend?) async throws -> Bool {
        let update: PostgresQuery = """
            UPDATE challenges
            SET delivery_provider = \(delivery.provider), delivery_status = \(delivery.status),
                delivery_reference = \(delivery.providerReference), delivery_attempt = \(delivery.attempt)
            WHERE id = \(id.rawValue) AND status = 'pending'
            RETURNING 1
            """
        guard let audit else {
            return try await withConnection("record the delivery of challenge \(id)") { [self] connection in
                try await connection.rows(update, logger: logger).count == 1
            }
        }
        return try await transaction("record the delivery of challenge \(id)") { [self] connection in
            guard try await lockChallengeUser(id, on: connection),
                  try await connection.rows(update, logger: logger).count == 1 else { return false }
            try await appendAudit(audit, on: connection)
            return true
        }
    }

    /// Compare-and-set under the user's lock (see above).
    /// - Throws: `invalid_request` when `status` is `pending`, which is not an end.
    public func finishChallenge(_ id: ChallengeID, as status: ChallengeStatus, reason: ChallengeReason?, at date: Date,
                                audit: AuditAppend) async throws -> Bool {
        guard status.isFinal else {
            throw TwofoldError(.invalidRequest, "a challenge cannot be finished as pending")
        }
        let at = StoredTime.milliseconds(date)
        // Approving or denying answers the challenge, which its expiry rules out; expiring,
        // failing or canceling it does not.
        let evenExpired = status != .approved && status != .denied
        return try await transaction("finish challenge \(id)") { [self] connection in
            guard try await lockChallengeUser(id, on: connection) else { return false }
            let moved = try await connection.rows("""
                UPDATE challenges SET status = \(status.rawValue), reason = \(reason?.rawValue), finished_at = \(at)
                WHERE id = \(id.rawValue) AND status = 'pending' AND (\(evenExpired) OR expires_at > \(at))
                RETURNING 1
                """, logger: logger).count == 1
            if moved {
                try await appendAudit(audit, on: connection)
            }
            return moved
        }
    }

    /// One statement, without the users' locks: an attempt whose challenge it deletes finds it
    /// gone when it writes, and is recorded again.
    public func purgeChallenges(createdBefore date: Date) async throws -> Int {
        try await withConnection("purge challenges") { [self] connection in
            try await connection.rows("""
                WITH deleted AS (
                    DELETE FROM challenges WHERE created_at < \(StoredTime.milliseconds(date)) RETURNING 1
                )
                SELECT count(*) FROM deleted
                """, logger: logger).first.map { try $0.decode(Int.self) } ?? 0
        }
    }

    /// One conditional update: the bucket refilled to `date` and given one token, never above
    /// its capacity; a bucket without a row is full and keeps no row.
    public func refundSendBudget(_ budget: SendBudget, at date: Date) async throws {
        var bindings = PostgresBindings(capacity: 4)
        bindings.append(budget.key)
        bindings.append(budget.capacity)
        bindings.append(StoredTime.milliseconds(date))
        bindings.append(budget.refillPerMillisecond)
        let query = PostgresQuery(unsafeSQL: """
            UPDATE send_budgets AS b
            SET tokens = LEAST($2, LEAST($2, b.tokens + GREATEST(0, $3 - b.updated_at)::DOUBLE PRECISION * $4) + 1), updated_at = $3
            WHERE key = $1
            """, binds: bindings)
        try await withConnection("refund send budget") { [self] connection in
            _ = try await connection.rows(query, logger: logger)
        }
    }

    /// Takes the advisory lock of the challenge's user (``lockUser(_:_:on:)``'s, from the row's
    /// application and user, which never change); false when there is no such challenge.
    private func lockChallengeUser(_ id: ChallengeID, on connection: PostgresConnection) async throws -> Bool {
        try await connection.rows("""
            SELECT pg_advisory_xact_lock(hashtextextended(app_id || user_id, 0)) FROM challenges WHERE id = \(id.rawValue)
            """, logger: logger).count == 1
    }

    // MARK: Rows

    static let challengeColumns = """
        id, app_id, user_id, factor_id, type, mode, purpose, status, reason, created_at, expires_at, finished_at,
        code_hash, failed_attempts, max_attempts, context, delivery_provider, delivery_status, delivery_reference, delivery_attempt
        """

    static func challenge(_ row: PostgresRow) throws -> ChallengeRecord {
        let (id, app, user, factor, type, mode, purpose, status, reason, createdAt, expiresAt, finishedAt,
             codeHash, failedAttempts, maxAttempts, context, provider, deliveryStatus, reference, attempt) = try row.decode(
            (String, String, String, String, String, String, String, String, String?, Int64, Int64, Int64?,
             ByteBuffer?, Int, Int, String, String?, String?, String?, Int64?).self)
        return ChallengeRecord(
            id: try identifier(id), applicationID: try identifier(app), userID: try userID(user), factorID: try identifier(factor),
            type: try value(ChallengeType(rawValue: type), "challenge type", type),
            mode: try value(ChallengeMode(rawValue: mode), "challenge mode", mode),
            purpose: try value(ChallengePurpose(rawValue: purpose), "challenge purpose", purpose),
            status: try value(ChallengeStatus(rawValue: status), "challenge status", status),
            reason: reason.map(ChallengeReason.init(rawValue:)),
            createdAt: PostgresColumn.date(createdAt), expiresAt: PostgresColumn.date(expiresAt),
            finishedAt: PostgresColumn.date(finishedAt), codeHash: codeHash.map(PostgresColumn.bytes),
            failedAttempts: failedAttempts, maxAttempts: maxAttempts, context: try PostgresColumn.context(context),
            delivery: try PostgresColumn.delivery(provider: provider, status: deliveryStatus, reference: reference, attempt: attempt))
    }
}
