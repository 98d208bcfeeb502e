import Foundation
import GRDB
import TwofoldCore

extension SQLiteStore {
    /// One conditional `UPDATE`: the bucket refilled to `date` and given one token, never above
    /// its capacity; a bucket without a row is full and keeps no row.
    public func refundSendBudget(_ budget: SendBudget, at date: Date) async throws {
        try await write("refund a send budget") { db in
            try db.directRun("""
                UPDATE send_budgets SET tokens = MIN(?2, MIN(?2, tokens + MAX(0, ?3 - updated_at) * ?4) + 1), updated_at = ?3
                WHERE key = ?1
                """, [.text(budget.key), .real(budget.capacity), .integer(StoredTime.milliseconds(date)), .real(budget.refillPerMillisecond)])
        }
    }
}
