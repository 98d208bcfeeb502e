import Foundation
import GRDB
import TwofoldCore

extension SQLiteStore {
    /// One attempt, in one savepoint of a group-commit transaction (see ``AttemptStore/attempt(_:decide:audit:)``
    /// for the algorithm): the API key check (when asked), throttle check, snapshot, `decide`, compare-and-set, throttle update
    /// (with the failure count of the snapshot's challenges), audit event. The transaction is `BEGIN IMMEDIATE`, so it
    /// holds SQLite's write lock from its first read: the snapshot is the latest committed state, in this process or another.
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
        let snapshot = try self.snapshot(for: request, now: now, db)
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
        case .accept(.challenge(let accepted)):
            won = try consumeChallenge(request, accepted, now: now, db)
        case .reject:
            won = false
        }
        let transition = ThrottleTransition(decision, won: won, failures: failures, hasState: state != nil, request: request)
        try apply(transition.change, request, db)
        // A counted failure is also a wrong attempt on each challenge the code was checked against.
        if case .set = transition.change {
            for challenge in snapshot.challenges {
                try countFailure(on: challenge.id, now: now, db)
            }
        }
        let outcome = transition.outcome

        // 5. The audit event, in the same transaction.
        try appendAudit(audit(outcome), db)
        return outcome
    }

    /// `.verify`: the active factors, the unused recovery codes, the open `login` challenges and the data key.
    /// `.answerChallenge`: the active factors, that challenge if it is open, the user's and a `login` one, and the data key.
    /// `.activate`: the named factor of this user, whatever its status, its open `enrollment` challenges and the data key.
    /// `.resynchronize`: the named factor of this user, whatever its status, and the data key.
    /// Open challenges are pending code challenges not expired at `now`, newest first.
    private static func snapshot(for request: AttemptRequest, now: Int64, _ db: Database) throws -> AttemptSnapshot {
        let app = SQLiteValue.text(request.applicationID.rawValue)
        let user = SQLiteValue.text(request.userID.rawValue)
        let dataKey = try dataKey(request.applicationID, request.userID, db)
        switch request.purpose {
        case .verify:
            let codes = try db.directFetchAll("""
                SELECT \(SQLiteCoding.recoveryCodeColumns) FROM recovery_codes WHERE app_id = ? AND user_id = ? AND used_at IS NULL ORDER BY idx
                """, [app, user], SQLiteCoding.recoveryCode)
            let challenges = try db.directFetchAll(loginChallenges, [app, user, .integer(now)], SQLiteCoding.challenge)
            return AttemptSnapshot(factors: try activeFactors(app, user, db), recoveryCodes: codes, challenges: challenges, dataKey: dataKey)
        case .answerChallenge(let challengeID):
            let challenges = try db.directFetchAll(namedLoginChallenge, [.text(challengeID.rawValue), app, user, .integer(now)],
                                                   SQLiteCoding.challenge)
            return AttemptSnapshot(factors: try activeFactors(app, user, db), recoveryCodes: [], challenges: challenges, dataKey: dataKey)
        case .activate(let factorID):
            let challenges = try db.directFetchAll(enrollmentChallenges, [app, user, .text(factorID.rawValue), .integer(now)],
                                                   SQLiteCoding.challenge)
            return AttemptSnapshot(factors: try namedFactor(factorID, app, user, db), recoveryCodes: [], challenges: challenges,
                                   dataKey: dataKey)
        case .resynchronize(let factorID):
            return AttemptSnapshot(factors: try namedFactor(factorID, app, user, db), recoveryCodes: [], dataKey: dataKey)
        }
    }

    /// The conditions of a challenge a code may still answer: pending, in code mode with a code,
    /// and not expired at the one parameter, `now`. `status = 'pending'` is written out so that
    /// SQLite can search the partial index `challenges_pending`.
    private static let openCodeChallenge = "status = 'pending' AND mode = 'code' AND code_hash IS NOT NULL AND expires_at > ?"

    /// A verification's challenges (application, user, now): one search of `challenges_pending`,
    /// already in the snapshot's order. For the many users without a pending challenge it finds
    /// nothing, in a few pages that stay cached because the index holds pending challenges only.
    static let loginChallenges = """
        SELECT \(SQLiteCoding.challengeColumns) FROM challenges
        WHERE app_id = ? AND user_id = ? AND purpose = 'login' AND \(openCodeChallenge)
        ORDER BY created_at DESC, id DESC
        """

    /// An activation's challenges (application, user, factor, now): the same search of
    /// `challenges_pending`, for the other purpose, keeping the named factor's.
    static let enrollmentChallenges = """
        SELECT \(SQLiteCoding.challengeColumns) FROM challenges
        WHERE app_id = ? AND user_id = ? AND purpose = 'enrollment' AND factor_id = ? AND \(openCodeChallenge)
        ORDER BY created_at DESC, id DESC
        """

    /// The challenge an answer names (id, application, user, now): one read by primary key.
    static let namedLoginChallenge = """
        SELECT \(SQLiteCoding.challengeColumns) FROM challenges
        WHERE id = ? AND app_id = ? AND user_id = ? AND purpose = 'login' AND \(openCodeChallenge)
        """

    private static func activeFactors(_ app: SQLiteValue, _ user: SQLiteValue, _ db: Database) throws -> [FactorRecord] {
        try db.directFetchAll("""
            SELECT \(SQLiteCoding.factorColumns) FROM factors WHERE app_id = ? AND user_id = ? AND status = 'active' ORDER BY created_at, seq
            """, [app, user], SQLiteCoding.factor)
    }

    /// `+id`: through the table's own key (the user's rows), not the index on ids.
    private static func namedFactor(_ factorID: FactorID, _ app: SQLiteValue, _ user: SQLiteValue, _ db: Database) throws -> [FactorRecord] {
        try db.directFetchAll("SELECT \(SQLiteCoding.factorColumns) FROM factors WHERE app_id = ? AND user_id = ? AND +id = ?",
                              [app, user, .text(factorID.rawValue)], SQLiteCoding.factor)
    }

    /// The challenge compare-and-set: approves the user's challenge of that factor only if it is
    /// still pending and not expired at `now`, and, when activating, only if the factor is still
    /// pending too; the factor then turns active as with a step (without one to remember).
    ///
    /// Both conditions are tested by the challenge's one `UPDATE` (the factor's through `EXISTS`),
    /// so the acceptance wins whole or not at all; the factor's `UPDATE` that follows, under the
    /// same write lock, then cannot lose.
    private static func consumeChallenge(_ request: AttemptRequest, _ accepted: ChallengeAcceptance, now: Int64, _ db: Database) throws -> Bool {
        let values: [SQLiteValue] = [.integer(now), .text(accepted.challengeID.rawValue), .text(request.applicationID.rawValue),
                                     .text(request.userID.rawValue), .text(accepted.factorID.rawValue)]
        guard accepted.activate else {
            try db.directRun("""
                UPDATE challenges SET status = 'approved', finished_at = ?1
                WHERE id = ?2 AND app_id = ?3 AND user_id = ?4 AND factor_id = ?5 AND status = 'pending' AND expires_at > ?1
                """, values)
            return db.changesCount == 1
        }
        try db.directRun("""
            UPDATE challenges SET status = 'approved', finished_at = ?1
            WHERE id = ?2 AND app_id = ?3 AND user_id = ?4 AND factor_id = ?5 AND status = 'pending' AND expires_at > ?1
              AND EXISTS (SELECT 1 FROM factors WHERE app_id = ?3 AND user_id = ?4 AND +id = ?5 AND status = 'pending')
            """, values)
        guard db.changesCount == 1 else { return false }
        try db.directRun("""
            UPDATE factors SET status = 'active', activated_at = ?, expires_at = NULL
            WHERE app_id = ? AND user_id = ? AND +id = ? AND status = 'pending'
            """, [values[0], values[2], values[3], values[4]])
        guard db.changesCount == 1 else {
            // Rolls the attempt's savepoint back, approval included: fail closed.
            throw TwofoldError(.unavailable, "the SQLite store could not activate factor \(accepted.factorID) it had just found pending")
        }
        return true
    }

    /// A counted failure on one challenge of the snapshot: one more wrong attempt if it is still
    /// pending, and the one that reaches its maximum ends it `denied` (`too_many_attempts`) at
    /// `now`. Every right-hand side reads the row as it was, so `failed_attempts + 1` is the new count.
    private static func countFailure(on challengeID: ChallengeID, now: Int64, _ db: Database) throws {
        try db.directRun("""
            UPDATE challenges SET failed_attempts = failed_attempts + 1,
                status = CASE WHEN failed_attempts + 1 >= max_attempts THEN 'denied' ELSE status END,
                reason = CASE WHEN failed_attempts + 1 >= max_attempts THEN ?1 ELSE reason END,
                finished_at = CASE WHEN failed_attempts + 1 >= max_attempts THEN ?2 ELSE finished_at END
            WHERE id = ?3 AND status = 'pending'
            """, [.text(ChallengeReason.tooManyAttempts.rawValue), .integer(now), .text(challengeID.rawValue)])
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
