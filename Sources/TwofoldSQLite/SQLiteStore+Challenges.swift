import Foundation
import GRDB
import TwofoldCore

extension SQLiteStore {
    /// Spends each budget with one conditional upsert, then inserts the challenge and its event,
    /// all in one savepoint of a write transaction: a refusal rolls the savepoint back, budgets
    /// spent before it included. The transaction holds SQLite's write lock from its start, so
    /// concurrent sends, from this process or another, spend a bucket one after the other.
    /// - Throws: `conflict` when a challenge has that id (and then nothing was spent).
    public func insertChallenge(_ challenge: ChallengeRecord, spending budgets: [SendBudget], audit: AuditAppend) async throws -> SendRefusal? {
        do {
            try await batcher.write { db in
                try Self.insert(challenge, spending: budgets, audit: audit, db)
            }
            return nil
        } catch let refused as BudgetRefused {
            return refused.refusal
        } catch {
            throw Self.storeError(error, "insert a challenge")
        }
    }

    /// Thrown out of a write to roll its savepoint back, and turned into the answer.
    private struct BudgetRefused: Error {
        let refusal: SendRefusal
    }

    private static func insert(_ challenge: ChallengeRecord, spending budgets: [SendBudget], audit: AuditAppend, _ db: Database) throws {
        let now = StoredTime.milliseconds(challenge.createdAt)
        for budget in budgets {
            if let refusal = try spend(budget, now: now, db) { throw BudgetRefused(refusal: refusal) }
        }
        do {
            try db.directRun("INSERT INTO challenges (\(SQLiteCoding.challengeColumns)) VALUES (\(Self.challengeParameters))",
                             try SQLiteCoding.values(challenge))
        } catch let error as DatabaseError where error.extendedResultCode == .SQLITE_CONSTRAINT_PRIMARYKEY {
            throw TwofoldError(.conflict, "a challenge with id \(challenge.id) exists")
        }
        try appendAudit(audit, db)
    }

    private static let challengeParameters = Array(repeating: "?", count: 20).joined(separator: ", ")

    /// Takes one token from `budget`'s bucket at `now` (stored milliseconds), or returns why not.
    ///
    /// The bucket rule of ``SendBudget/available(tokens:updatedAt:now:)``, in SQL with the same
    /// operations in the same order (so the same IEEE result): `min(capacity, tokens + max(0, now -
    /// updated_at) * refill)`. A missing row is a full bucket. The upsert changes a row only when
    /// at least one token is available; otherwise the row is read back, in the same transaction,
    /// for the time of the next token.
    private static func spend(_ budget: SendBudget, now: Int64, _ db: Database) throws -> SendRefusal? {
        try db.directRun("""
            INSERT INTO send_budgets (key, tokens, updated_at) SELECT ?1, ?2 - 1, ?3 WHERE ?2 >= 1
            ON CONFLICT (key) DO UPDATE SET tokens = MIN(?2, tokens + MAX(0, ?3 - updated_at) * ?4) - 1, updated_at = ?3
            WHERE MIN(?2, tokens + MAX(0, ?3 - updated_at) * ?4) >= 1
            """, [.text(budget.key), .real(budget.capacity), .integer(now), .real(budget.refillPerMillisecond)])
        guard db.changesCount == 0 else { return nil }
        let stored = try db.directFetchOne("SELECT tokens, updated_at FROM send_budgets WHERE key = ?", [.text(budget.key)]) { row in
            (tokens: try row.double(0), updatedAt: try row.int64(1))
        }
        let available = stored.map { budget.available(tokens: $0.tokens, updatedAt: $0.updatedAt, now: now) } ?? budget.capacity
        return SendRefusal(limit: budget.limit, retryAfter: budget.retryAfter(available: available, now: now))
    }

    public func challenge(id: ChallengeID) async throws -> ChallengeRecord? {
        try await read("read a challenge") { db in
            try db.directFetchOne("SELECT \(SQLiteCoding.challengeColumns) FROM challenges WHERE id = ?", [.text(id.rawValue)],
                                  SQLiteCoding.challenge)
        }
    }

    /// Newest first: creation time, then id, both descending (`challenges_by_user`, read backwards).
    public func challenges(applicationID: ApplicationID, userID: UserID) async throws -> [ChallengeRecord] {
        try await read("list challenges") { db in
            try db.directFetchAll("""
                SELECT \(SQLiteCoding.challengeColumns) FROM challenges WHERE app_id = ? AND user_id = ? ORDER BY created_at DESC, id DESC
                """, [.text(applicationID.rawValue), .text(userID.rawValue)], SQLiteCoding.challenge)
        }
    }

    /// Appends `audit` only when the challenge was still pending: nothing changed otherwise.
    public func recordDelivery(_ id: ChallengeID, _ delivery: ChallengeDelivery, audit: AuditAppend?) async throws -> Bool {
        try await write("record a challenge's delivery") { db in
            try db.directRun("""
                UPDATE challenges SET delivery_provider = ?, delivery_status = ?, delivery_reference = ?, delivery_attempt = ?
                WHERE id = ? AND status = 'pending'
                """, SQLiteCoding.deliveryValues(delivery) + [.text(id.rawValue)])
            guard db.changesCount == 1 else { return false }
            if let audit { try Self.appendAudit(audit, db) }
            return true
        }
    }

    /// One compare-and-set `UPDATE`: of concurrent callers, the first to reach the writer moves
    /// the challenge and the others find it no longer pending.
    public func finishChallenge(_ id: ChallengeID, as status: ChallengeStatus, reason: ChallengeReason?, at date: Date,
                                audit: AuditAppend) async throws -> Bool {
        guard status != .pending else { throw TwofoldError(.invalidRequest, "a challenge cannot be finished as pending") }
        // An expired challenge may still be closed, but never approved or denied.
        let needsUnexpired = status == .approved || status == .denied
        return try await write("finish a challenge") { db in
            try db.directRun("""
                UPDATE challenges SET status = ?1, reason = ?2, finished_at = ?3
                WHERE id = ?4 AND status = 'pending' AND (?5 = 0 OR expires_at > ?3)
                """, [.text(status.rawValue), .optional(reason?.rawValue), .integer(StoredTime.milliseconds(date)), .text(id.rawValue),
                      .integer(needsUnexpired ? 1 : 0)])
            guard db.changesCount == 1 else { return false }
            try Self.appendAudit(audit, db)
            return true
        }
    }

    public func purgeChallenges(createdBefore date: Date) async throws -> Int {
        try await write("purge challenges") { db in
            try db.directRun("DELETE FROM challenges WHERE created_at < ?", [.integer(StoredTime.milliseconds(date))])
            return db.changesCount
        }
    }

    /// Ends the factor's pending challenges `canceled` (`factor_deleted`) at `date`, inside the
    /// transaction that deletes the factor.
    static func cancelChallenges(of factorID: FactorID, _ applicationID: ApplicationID, _ userID: UserID, at date: Date,
                                 _ db: Database) throws {
        try db.directRun("""
            UPDATE challenges SET status = 'canceled', reason = ?, finished_at = ?
            WHERE app_id = ? AND user_id = ? AND status = 'pending' AND factor_id = ?
            """, [.text(ChallengeReason.factorDeleted.rawValue), .integer(StoredTime.milliseconds(date)),
                  .text(applicationID.rawValue), .text(userID.rawValue), .text(factorID.rawValue)])
    }
}
