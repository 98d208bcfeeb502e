import Foundation
import GRDB
import TwofoldCore

extension SQLiteStore {
    /// One attempt, in one savepoint of a group-commit transaction (see ``AttemptStore/attempt(_:decide:audit:)``
    /// for the algorithm): the API key check (when asked), throttle check, snapshot, `decide`, compare-and-set, throttle update,
    /// audit event. The transaction is `BEGIN IMMEDIATE`, so it holds SQLite's write lock from its
    /// first read: the snapshot is the latest committed state, in this process or another.
    public func attempt(
        _ request: AttemptRequest,
        decide: @Sendable (AttemptSnapshot) throws -> AttemptDecision,
        audit: @Sendable (AttemptOutcome) -> AuditAppend
    ) async throws -> AttemptOutcome {
        try await write("record an attempt") { db in
            try Self.attempt(request, decide: decide, audit: audit, db)
        }
    }

    private static func attempt(
        _ request: AttemptRequest,
        decide: @Sendable (AttemptSnapshot) throws -> AttemptDecision,
        audit: @Sendable (AttemptOutcome) -> AuditAppend,
        _ db: Database
    ) throws -> AttemptOutcome {
        if let keyID = request.apiKeyID {
            let active = try db.directFetchOne("SELECT 1 FROM api_keys WHERE id = ? AND revoked_at IS NULL", [.text(keyID)]) { _ in true } != nil
            guard active else { throw TwofoldError(.unauthorized, "the API key is unknown or revoked") }
        }
        let now = StoredTime.milliseconds(request.now)
        let state = try db.directFetchOne("SELECT failures, locked_until FROM user_state WHERE app_id = ? AND user_id = ?",
                                          [.text(request.applicationID.rawValue), .text(request.userID.rawValue)]) { row in
            (failures: try row.int(0), lockedUntil: try row.optionalInt64(1))
        }
        let failures = state?.failures ?? 0
        let lockedUntil = state?.lockedUntil

        // 1. A locked user's code is never evaluated.
        if let lockedUntil, lockedUntil > now {
            let outcome = AttemptOutcome.locked(until: StoredTime.date(milliseconds: lockedUntil))
            try appendAudit(audit(outcome), db)
            return outcome
        }

        // 2. Decide on the snapshot read inside this transaction.
        let snapshot = try self.snapshot(for: request, db)
        let decision: AttemptDecision
        do {
            decision = try decide(snapshot)
        } catch {
            throw DecisionFailure(underlying: error)
        }

        // 3. Apply with compare-and-set; 4. update the throttle (Core's ThrottleTransition).
        let won: Bool
        switch decision {
        case .accept(.step(let accepted)):
            won = try consumeStep(request, accepted, now: now, db)
        case .accept(.recoveryCode(let accepted)):
            try db.directRun("""
                UPDATE recovery_codes SET used_at = ? WHERE app_id = ? AND user_id = ? AND idx = ? AND used_at IS NULL
                """, [.integer(now), .text(request.applicationID.rawValue), .text(request.userID.rawValue), .integer(accepted.index)])
            won = db.changesCount == 1
        case .reject:
            won = false
        }
        let transition = ThrottleTransition(decision, won: won, failures: failures, hasState: state != nil, request: request)
        try apply(transition.change, request, db)
        let outcome = transition.outcome

        // 5. The audit event, in the same transaction.
        try appendAudit(audit(outcome), db)
        return outcome
    }

    /// `.verify`: the active factors, the unused recovery codes and the data key.
    /// `.activate` and `.resynchronize`: the named factor of this user, whatever its status, and the data key.
    private static func snapshot(for request: AttemptRequest, _ db: Database) throws -> AttemptSnapshot {
        let app = SQLiteValue.text(request.applicationID.rawValue)
        let user = SQLiteValue.text(request.userID.rawValue)
        let dataKey = try dataKey(request.applicationID, request.userID, db)
        switch request.purpose {
        case .verify:
            let factors = try db.directFetchAll("""
                SELECT \(SQLiteCoding.factorColumns) FROM factors WHERE app_id = ? AND user_id = ? AND status = 'active' ORDER BY created_at, seq
                """, [app, user], SQLiteCoding.factor)
            let codes = try db.directFetchAll("""
                SELECT \(SQLiteCoding.recoveryCodeColumns) FROM recovery_codes WHERE app_id = ? AND user_id = ? AND used_at IS NULL ORDER BY idx
                """, [app, user], SQLiteCoding.recoveryCode)
            return AttemptSnapshot(factors: factors, recoveryCodes: codes, dataKey: dataKey)
        case .activate(let factorID), .resynchronize(let factorID):
            // `+id`: through the table's own key (the user's rows), not the index on ids.
            let factors = try db.directFetchAll("SELECT \(SQLiteCoding.factorColumns) FROM factors WHERE app_id = ? AND user_id = ? AND +id = ?",
                                                [app, user, .text(factorID.rawValue)], SQLiteCoding.factor)
            return AttemptSnapshot(factors: factors, recoveryCodes: [], dataKey: dataKey)
        }
    }

    /// The replay compare-and-set: moves the factor's last accepted step forward only if it is
    /// still below `step`, and the factor is still pending when activating, active otherwise.
    ///
    /// Through the table's own key (the user's rows, whose page the snapshot has just read) rather
    /// than the index on factor ids, which SQLite would pick for `id = ?` (`+id` keeps it off it):
    /// with a million users that saves a read of a random page of a second B-tree on every
    /// accepted code.
    private static func consumeStep(_ request: AttemptRequest, _ accepted: StepAcceptance, now: Int64, _ db: Database) throws -> Bool {
        let stored = SQLiteValue.integer(StoredStep.stored(accepted.step))
        let drift = accepted.drift
        let factor: [SQLiteValue] = [.text(request.applicationID.rawValue), .text(request.userID.rawValue), .text(accepted.factorID.rawValue)]
        if accepted.activate {
            try db.directRun("""
                UPDATE factors SET last_step = ?, drift = ?, status = 'active', activated_at = ?, expires_at = NULL
                WHERE app_id = ? AND user_id = ? AND +id = ? AND (last_step IS NULL OR last_step < ?) AND status = 'pending'
                """, [stored, .integer(drift), .integer(now)] + factor + [stored])
        } else {
            try db.directRun("""
                UPDATE factors SET last_step = ?, drift = ?
                WHERE app_id = ? AND user_id = ? AND +id = ? AND (last_step IS NULL OR last_step < ?) AND status = 'active'
                """, [stored, .integer(drift)] + factor + [stored])
        }
        return db.changesCount == 1
    }

    /// Writes the throttle change. The transaction holds the write lock since it read the
    /// failures it was computed from, so no concurrent failure can be lost.
    private static func apply(_ change: ThrottleTransition.Change, _ request: AttemptRequest, _ db: Database) throws {
        let user: [SQLiteValue] = [.text(request.applicationID.rawValue), .text(request.userID.rawValue)]
        switch change {
        case .none:
            break
        case .clear:
            try db.directRun("DELETE FROM user_state WHERE app_id = ? AND user_id = ?", user)
        case .set(let failures, let lockedUntil):
            try db.directRun("""
                INSERT INTO user_state (app_id, user_id, failures, locked_until) VALUES (?, ?, ?, ?)
                ON CONFLICT (app_id, user_id) DO UPDATE SET failures = excluded.failures, locked_until = excluded.locked_until
                """, user + [.integer(Int64(failures)), .optional(lockedUntil)])
        }
    }
}
