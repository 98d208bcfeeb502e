import Foundation
import PostgresNIO
import TwofoldCore
import TwofoldOTP

// The statements of a batch of attempts (``PostgresStore/record(_:underLocks:)``). Each takes
// one array per column, element `i` describing the batch's attempt `i`; arrays cannot hold NULL
// here, so "none" is written as a sentinel the columns never hold ('' for an id, -1 for an index
// or a time, U+0001 for an event's text).

/// Everything the attempts of a batch read, in one statement of rows padded to one shape: the
/// index of the attempt, the kind of row, text columns t1…t11, BIGINT n1…n7, BYTEA b, b2, b3:
/// - 0, the throttle state: n1 failures, n2 locked_until;
/// - 1, the data key: t1 key_id, b wrapped;
/// - 2, each factor (the active ones when `activeFactors`, else the named one): t1…t6 id, type,
///   status, label, issuer, algorithm; n1…n7 created_at, activated_at, expires_at, last_step,
///   digits, period, drift; b sealed_secret;
/// - 3, each unused recovery code (when `recoveryCodes`): n1…n3 idx, created_at, used_at; b hash;
/// - 4, each open code challenge of the attempt's purpose (``AttemptSnapshot/challenges``): t1…t11
///   id, factor_id, type, mode, purpose, status, reason, context, delivery_provider,
///   delivery_status, delivery_reference; n1…n6 created_at, expires_at, finished_at,
///   failed_attempts, max_attempts, delivery_attempt; b code_hash;
/// - 5, when an API key id is given and that key exists unrevoked: one row, no values;
/// - 6, index -1, the head of each shard of `shards`: n1 shard, n2 head_seq, n3 first_seq;
///   b head_mac, b2 first_prev_mac, b3 tag.
/// Factors come oldest first, codes by index, challenges oldest first (the caller turns them
/// round, newest first, in byte order of their ids).
///
/// Each table is read in a LATERAL subquery fenced with `OFFSET 0`, so that it is looked up by
/// its index once per attempt: prepared, the statement runs a generic plan, which does not know
/// how many attempts the arrays hold (it guesses 100), and would otherwise hash whole tables of a
/// few thousand rows to join them with a batch of one. Challenges are found through the user's
/// pending ones (`challenges_by_user`), filtered by purpose, factor or id: one lookup whatever
/// the purpose, none for a purpose that reads no challenges.
struct AttemptBatchSnapshotStatement: PostgresPreparedStatement {
    static let sql = """
        WITH r AS (
            SELECT * FROM unnest($1::INT[], $2::TEXT[], $3::TEXT[], $4::BOOLEAN[], $5::TEXT[], $6::TEXT[], $8::BOOLEAN[],
                                 $9::TEXT[], $10::TEXT[], $11::BIGINT[])
                AS r (i, app, usr, active, fid, key, codes, cpurpose, cid, now)
        )
        SELECT r.i, 0, NULL::TEXT, NULL::TEXT, NULL::TEXT, NULL::TEXT, NULL::TEXT, NULL::TEXT,
               NULL::TEXT, NULL::TEXT, NULL::TEXT, NULL::TEXT, NULL::TEXT,
               s.failures::BIGINT, s.locked_until, NULL::BIGINT, NULL::BIGINT, NULL::BIGINT, NULL::BIGINT, NULL::BIGINT,
               NULL::BYTEA, NULL::BYTEA, NULL::BYTEA
        FROM r CROSS JOIN LATERAL (
            SELECT failures, locked_until FROM user_state WHERE app_id = r.app AND user_id = r.usr OFFSET 0) AS s
        UNION ALL
        SELECT r.i, 1, d.key_id, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL,
               NULL, NULL, NULL, NULL, NULL, NULL, NULL, d.wrapped, NULL, NULL
        FROM r CROSS JOIN LATERAL (
            SELECT key_id, wrapped FROM data_keys WHERE app_id = r.app AND user_id = r.usr OFFSET 0) AS d
        UNION ALL
        SELECT r.i, 2, f.id, f.type, f.status, f.label, f.issuer, f.algorithm, NULL, NULL, NULL, NULL, NULL,
               f.created_at, f.activated_at, f.expires_at, f.last_step, f.digits, f.period, f.drift, f.sealed_secret, NULL, NULL
        FROM r CROSS JOIN LATERAL (
            SELECT * FROM factors
            WHERE app_id = r.app AND user_id = r.usr AND CASE WHEN r.active THEN status = 'active' ELSE id = r.fid END
            OFFSET 0) AS f
        UNION ALL
        SELECT r.i, 3, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL,
               c.idx, c.created_at, c.used_at, NULL, NULL, NULL, NULL, c.hash, NULL, NULL
        FROM r CROSS JOIN LATERAL (
            SELECT idx, created_at, used_at, hash FROM recovery_codes
            WHERE r.codes AND app_id = r.app AND user_id = r.usr AND used_at IS NULL OFFSET 0) AS c
        UNION ALL
        SELECT r.i, 4, c.id, c.factor_id, c.type, c.mode, c.purpose, c.status, c.reason, c.context, c.delivery_provider,
               c.delivery_status, c.delivery_reference, c.created_at, c.expires_at, c.finished_at, c.failed_attempts,
               c.max_attempts, c.delivery_attempt, NULL, c.code_hash, NULL, NULL
        FROM r CROSS JOIN LATERAL (
            SELECT * FROM challenges
            WHERE r.cpurpose <> '' AND app_id = r.app AND user_id = r.usr AND status = 'pending' AND purpose = r.cpurpose
              AND mode = 'code' AND code_hash IS NOT NULL AND expires_at > r.now
              AND (r.fid = '' OR factor_id = r.fid) AND (r.cid = '' OR id = r.cid)
            OFFSET 0) AS c
        UNION ALL
        SELECT r.i, 5, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL,
               NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL
        FROM r CROSS JOIN LATERAL (SELECT FROM api_keys WHERE id = r.key AND revoked_at IS NULL OFFSET 0) AS k
        UNION ALL
        SELECT -1, 6, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL,
               h.shard, h.head_seq, h.first_seq, NULL, NULL, NULL, NULL, h.head_mac, h.first_prev_mac, h.tag
        FROM audit_shards h WHERE h.shard = ANY($7::INT[])
        ORDER BY 1, 2, 14, 3
        """
    static let bindingDataTypes: [PostgresDataType] = [
        .int4Array, .textArray, .textArray, .boolArray, .textArray, .textArray, .int4Array, .boolArray, .textArray, .textArray,
        .int8Array,
    ]
    /// One row, decoded by its kind.
    enum SnapshotRow {
        case throttle(failures: Int, lockedUntilMilliseconds: Int64?)
        case dataKey(WrappedKey)
        case factor(FactorColumns)
        case recoveryCode(RecoveryCodeRecord)
        case challenge(ChallengeColumns)
        case apiKeyActive
        case shardHead(AuditShardHead)
    }

    /// A factor's columns; its application and user are the attempt's.
    struct FactorColumns {
        var id: FactorID
        var type: FactorType
        var status: FactorStatus
        var createdAt: Date
        var activatedAt: Date?
        var expiresAt: Date?
        var label: String
        var issuer: String?
        var algorithm: OTPAlgorithm
        var digits: Int
        var period: Int
        var sealedSecret: [UInt8]
        var lastAcceptedStep: UInt64?
        var drift: Int

        func record(_ applicationID: ApplicationID, _ userID: UserID) -> FactorRecord {
            FactorRecord(id: id, applicationID: applicationID, userID: userID, type: type, status: status, createdAt: createdAt,
                         activatedAt: activatedAt, expiresAt: expiresAt, label: label, issuer: issuer, algorithm: algorithm,
                         digits: digits, period: period, sealedSecret: sealedSecret, lastAcceptedStep: lastAcceptedStep, drift: drift)
        }
    }

    /// A challenge's columns; its application and user are the attempt's.
    struct ChallengeColumns {
        var id: ChallengeID
        var factorID: FactorID
        var type: ChallengeType
        var mode: ChallengeMode
        var purpose: ChallengePurpose
        var status: ChallengeStatus
        var reason: ChallengeReason?
        var createdAt: Date
        var expiresAt: Date
        var finishedAt: Date?
        var codeHash: [UInt8]?
        var failedAttempts: Int
        var maxAttempts: Int
        var context: ChallengeContext
        var delivery: ChallengeDelivery?

        func record(_ applicationID: ApplicationID, _ userID: UserID) -> ChallengeRecord {
            ChallengeRecord(id: id, applicationID: applicationID, userID: userID, factorID: factorID, type: type, mode: mode,
                            purpose: purpose, status: status, reason: reason, createdAt: createdAt, expiresAt: expiresAt,
                            finishedAt: finishedAt, codeHash: codeHash, failedAttempts: failedAttempts, maxAttempts: maxAttempts,
                            context: context, delivery: delivery)
        }
    }

    /// `index` is the attempt's, or -1 for a shard head.
    typealias Row = (index: Int, row: SnapshotRow)

    var indices: [Int32] = []
    var applicationIDs: [String] = []
    var userIDs: [String] = []
    /// Whether the attempt reads the active factors (rather than the named one).
    var activeFactors: [Bool] = []
    /// The factor an activation or resynchronisation names, or ''.
    var factorIDs: [String] = []
    /// The API key to check, or ''.
    var apiKeyIDs: [String] = []
    /// The shards whose heads to read.
    var shards: [Int32] = []
    /// Whether the attempt reads the unused recovery codes.
    var recoveryCodes: [Bool] = []
    /// The purpose of the challenges the attempt reads, or '' for none.
    var challengePurposes: [String] = []
    /// The one challenge an answer names, or ''.
    var challengeIDs: [String] = []
    /// The attempt's time, in stored milliseconds: the challenges read expire after it.
    var nows: [Int64] = []

    mutating func append(_ index: Int, _ request: AttemptRequest) {
        let scope = request.purpose.snapshotScope
        indices.append(Int32(index))
        applicationIDs.append(request.applicationID.rawValue)
        userIDs.append(request.userID.rawValue)
        activeFactors.append(scope.activeFactors)
        factorIDs.append(scope.factorID?.rawValue ?? "")
        apiKeyIDs.append(request.apiKeyID ?? "")
        recoveryCodes.append(scope.recoveryCodes)
        challengePurposes.append(scope.challenges?.rawValue ?? "")
        challengeIDs.append(scope.challengeID?.rawValue ?? "")
        nows.append(StoredTime.milliseconds(request.now))
    }

    func makeBindings() -> PostgresBindings {
        var bindings = PostgresBindings(capacity: 11)
        bindings.append(indices)
        bindings.append(applicationIDs)
        bindings.append(userIDs)
        bindings.append(activeFactors)
        bindings.append(factorIDs)
        bindings.append(apiKeyIDs)
        bindings.append(shards)
        bindings.append(recoveryCodes)
        bindings.append(challengePurposes)
        bindings.append(challengeIDs)
        bindings.append(nows)
        return bindings
    }

    func decodeRow(_ row: PostgresRow) throws -> Row {
        let (i, kind, t1, t2, t3, t4, t5, t6, t7, t8, t9, t10, t11, n1, n2, n3, n4, n5, n6, n7, b, b2, b3) = try row.decode(
            (Int, Int, String?, String?, String?, String?, String?, String?, String?, String?, String?, String?, String?,
             Int64?, Int64?, Int64?, Int64?, Int64?, Int64?, Int64?, ByteBuffer?, ByteBuffer?, ByteBuffer?).self)
        func incomplete(_ what: String) -> TwofoldError {
            TwofoldError(.unavailable, "a \(what) row of an attempt's snapshot is incomplete")
        }
        switch kind {
        case 0:
            return (i, .throttle(failures: Int(n1 ?? 0), lockedUntilMilliseconds: n2))
        case 1:
            guard let t1, let b else { throw incomplete("data key") }
            return (i, .dataKey(PostgresStore.wrappedKey(t1, b)))
        case 2:
            guard let t1, let t2, let t3, let t4, let t6, let n1, let n5, let n6, let n7, let b else { throw incomplete("factor") }
            return (i, .factor(FactorColumns(
                id: try PostgresStore.identifier(t1),
                type: try PostgresStore.value(FactorType(rawValue: t2), "factor type", t2),
                status: try PostgresStore.value(FactorStatus(rawValue: t3), "factor status", t3),
                createdAt: PostgresColumn.date(n1), activatedAt: PostgresColumn.date(n2), expiresAt: PostgresColumn.date(n3),
                label: t4, issuer: t5, algorithm: try PostgresStore.value(OTPAlgorithm(rawValue: t6), "algorithm", t6),
                digits: Int(n5), period: Int(n6), sealedSecret: PostgresColumn.bytes(b),
                lastAcceptedStep: n4.map { StoredStep.step(stored: $0) }, drift: Int(n7))))
        case 3:
            guard let n1, let n2, let b else { throw incomplete("recovery code") }
            return (i, .recoveryCode(RecoveryCodeRecord(
                index: Int(n1), hash: PostgresColumn.bytes(b), createdAt: PostgresColumn.date(n2), usedAt: PostgresColumn.date(n3))))
        case 4:
            guard let t1, let t2, let t3, let t4, let t5, let t6, let t8, let n1, let n2, let n4, let n5 else {
                throw incomplete("challenge")
            }
            return (i, .challenge(ChallengeColumns(
                id: try PostgresStore.identifier(t1), factorID: try PostgresStore.identifier(t2),
                type: try PostgresStore.value(ChallengeType(rawValue: t3), "challenge type", t3),
                mode: try PostgresStore.value(ChallengeMode(rawValue: t4), "challenge mode", t4),
                purpose: try PostgresStore.value(ChallengePurpose(rawValue: t5), "challenge purpose", t5),
                status: try PostgresStore.value(ChallengeStatus(rawValue: t6), "challenge status", t6),
                reason: t7.map(ChallengeReason.init(rawValue:)),
                createdAt: PostgresColumn.date(n1), expiresAt: PostgresColumn.date(n2), finishedAt: PostgresColumn.date(n3),
                codeHash: b.map(PostgresColumn.bytes), failedAttempts: Int(n4), maxAttempts: Int(n5),
                context: try PostgresColumn.context(t8),
                delivery: try PostgresColumn.delivery(provider: t9, status: t10, reference: t11, attempt: n6))))
        case 5:
            return (i, .apiKeyActive)
        case 6:
            guard let n1, let n2, let n3, let b, let b2, let b3 else { throw incomplete("shard head") }
            return (i, .shardHead(AuditShardHead(
                shard: Int(n1), headSequence: n2, headMAC: PostgresColumn.bytes(b),
                firstSequence: n3, firstPreviousMAC: PostgresColumn.bytes(b2), tag: PostgresColumn.bytes(b3))))
        default:
            throw TwofoldError(.unavailable, "an attempt's snapshot has a row of unknown kind \(kind)")
        }
    }
}


/// Calls `twofold_record_attempts_with_challenges` (``PostgresMigration/challenges``, after
/// ``PostgresMigration/recordAttempts``): writes a batch's attempts, with the challenges they
/// approve or count wrong codes against, events and shard heads if what they were decided on is
/// unchanged. Its one row: true when written, false when something changed (nothing written);
/// SQLSTATE TF001 when a compare-and-set expected to win lost (nothing written either).
struct RecordAttemptsStatement: PostgresPreparedStatement {
    static let sql = """
        SELECT twofold_record_attempts_with_challenges(
            $1::INT[], $2::TEXT[], $3::TEXT[], $4::BIGINT[], $5::TEXT[], $6::BIGINT[], $7::BIGINT[], $8::BOOLEAN[],
            $9::BIGINT[], $10::BIGINT[], $11::BIGINT[], $12::BOOLEAN[], $13::BOOLEAN[], $14::BIGINT[], $15::BIGINT[],
            $16::INT[], $17::BIGINT[], $18::BIGINT[], $19::TEXT[], $20::TEXT[], $21::TEXT[], $22::TEXT[], $23::TEXT[],
            $24::TEXT[], $25::TEXT[], $26::TEXT[], $27::TEXT[], $28::BYTEA[], $29::BYTEA[],
            $30::INT[], $31::BIGINT[], $32::BYTEA[], $33::BYTEA[], $34::BIGINT[], $35::BYTEA[],
            $36::TEXT[], $37::TEXT[], $38::INT[], $39::TEXT[])
        """
    static let bindingDataTypes: [PostgresDataType] = [
        .int4Array, .textArray, .textArray, .int8Array, .textArray, .int8Array, .int8Array, .boolArray,
        .int8Array, .int8Array, .int8Array, .boolArray, .boolArray, .int8Array, .int8Array,
        .int4Array, .int8Array, .int8Array, .textArray, .textArray, .textArray, .textArray, .textArray,
        .textArray, .textArray, .textArray, .textArray, .byteaArray, .byteaArray,
        .int4Array, .int8Array, .byteaArray, .byteaArray, .int8Array, .byteaArray,
        .textArray, .textArray, .int4Array, .textArray,
    ]
    typealias Row = Bool

    /// The SQLSTATE of a compare-and-set that lost.
    static let lostCompareAndSet = "TF001"
    /// An event's missing text.
    static let none = "\u{1}"

    private var indices: [Int32] = []
    private var applicationIDs: [String] = []
    private var userIDs: [String] = []
    private var nows: [Int64] = []
    private var factorIDs: [String] = []
    private var steps: [Int64] = []
    private var drifts: [Int64] = []
    private var activates: [Bool] = []
    private var codeIndices: [Int64] = []
    private var failures: [Int64] = []
    private var lockedUntils: [Int64] = []
    private var countsAsFailure: [Bool] = []
    private var hasState: [Bool] = []
    private var seenFailures: [Int64] = []
    private var seenLockedUntils: [Int64] = []
    /// The challenge each attempt approves, or ''.
    private var challengeIDs: [String] = []
    /// The factor each attempt's approval activates, or ''.
    private var challengeFactorIDs: [String] = []
    /// Per challenge a counted failure counts against: the attempt's index, and the challenge.
    private var countedIndices: [Int32] = []
    private var countedChallengeIDs: [String] = []
    private var events: [AuditEvent] = []
    /// Per shard written: the head read and the head after the batch's events.
    private var heads: [(seen: AuditShardHead, next: AuditShardHead)] = []

    /// Whether no attempt is to be written (each failed alone).
    var isEmpty: Bool { indices.isEmpty }

    /// An attempt to write: its plan, or none for a locked user (nothing but its event then);
    /// whether its compare-and-set is to win (when not, the write makes none, and counts the
    /// failure, against the snapshot's challenges too); and the throttle state it was decided on.
    mutating func append(_ index: Int, _ request: AttemptRequest, _ plan: PostgresStore.AttemptPlan?, wins: Bool,
                         seen loaded: PostgresStore.LoadedAttempt) {
        indices.append(Int32(index))
        applicationIDs.append(request.applicationID.rawValue)
        userIDs.append(request.userID.rawValue)
        nows.append(StoredTime.milliseconds(request.now))
        factorIDs.append(wins ? plan?.factorID ?? "" : "")
        steps.append(plan?.step ?? 0)
        drifts.append(plan?.drift ?? 0)
        activates.append(plan?.activate ?? false)
        codeIndices.append(wins ? plan?.codeIndex ?? -1 : -1)
        failures.append(plan?.failures ?? 0)
        lockedUntils.append(plan?.lockedUntilMilliseconds ?? -1)
        countsAsFailure.append(plan?.countsAsFailure ?? false)
        hasState.append(loaded.hasState)
        seenFailures.append(loaded.hasState ? Int64(loaded.failures) : -1)
        seenLockedUntils.append(loaded.lockedUntilMilliseconds ?? -1)
        challengeIDs.append(wins ? plan?.challengeID ?? "" : "")
        challengeFactorIDs.append(wins ? plan?.activatedFactorID ?? "" : "")
        if let plan, plan.countsAsFailure, !wins {
            for challenge in plan.countedChallenges {
                countedIndices.append(Int32(index))
                countedChallengeIDs.append(challenge)
            }
        }
    }

    mutating func append(_ event: AuditEvent) {
        events.append(event)
    }

    /// A shard the events go to: the head read, and the head after them.
    mutating func append(head seen: AuditShardHead, next: AuditShardHead) {
        heads.append((seen, next))
    }

    func makeBindings() -> PostgresBindings {
        var bindings = PostgresBindings(capacity: 39)
        bindings.append(indices)
        bindings.append(applicationIDs)
        bindings.append(userIDs)
        bindings.append(nows)
        bindings.append(factorIDs)
        bindings.append(steps)
        bindings.append(drifts)
        bindings.append(activates)
        bindings.append(codeIndices)
        bindings.append(failures)
        bindings.append(lockedUntils)
        bindings.append(countsAsFailure)
        bindings.append(hasState)
        bindings.append(seenFailures)
        bindings.append(seenLockedUntils)
        bindings.append(events.map { Int32($0.shard) })
        bindings.append(events.map(\.sequence))
        bindings.append(events.map(\.timeMilliseconds))
        bindings.append(events.map { $0.applicationID ?? Self.none })
        bindings.append(events.map { $0.userID ?? Self.none })
        bindings.append(events.map { $0.userReference ?? Self.none })
        bindings.append(events.map(\.actor))
        bindings.append(events.map(\.action))
        bindings.append(events.map(\.outcome))
        bindings.append(events.map { $0.reason ?? Self.none })
        bindings.append(events.map { $0.factorID ?? Self.none })
        bindings.append(events.map(\.details))
        bindings.append(events.map { PostgresColumn.bytes($0.previousMAC) })
        bindings.append(events.map { PostgresColumn.bytes($0.mac) })
        bindings.append(heads.map { Int32($0.next.shard) })
        bindings.append(heads.map(\.next.headSequence))
        bindings.append(heads.map { PostgresColumn.bytes($0.next.headMAC) })
        bindings.append(heads.map { PostgresColumn.bytes($0.next.tag) })
        bindings.append(heads.map(\.seen.headSequence))
        bindings.append(heads.map { PostgresColumn.bytes($0.seen.tag) })
        bindings.append(challengeIDs)
        bindings.append(challengeFactorIDs)
        bindings.append(countedIndices)
        bindings.append(countedChallengeIDs)
        return bindings
    }

    func decodeRow(_ row: PostgresRow) throws -> Row {
        try row.decode(Bool.self)
    }
}

/// Takes a batch's locks in the order every writer takes them: the users' advisory locks (see
/// ``UserLockStatement``) in key order, then the heads of the shards, in shard order
/// (`twofold_lock_attempts`, ``PostgresMigration/recordAttempts``).
struct AttemptLocksStatement: PostgresPreparedStatement {
    static let sql = "SELECT twofold_lock_attempts($1::TEXT[], $2::INT[])"
    static let bindingDataTypes: [PostgresDataType] = [.textArray, .int4Array]
    typealias Row = ()

    /// Each user's ``UserLockStatement/key``.
    let userKeys: [String]
    let shards: [Int32]

    func makeBindings() -> PostgresBindings {
        var bindings = PostgresBindings(capacity: 2)
        bindings.append(userKeys)
        bindings.append(shards)
        return bindings
    }

    func decodeRow(_ row: PostgresRow) throws -> Row {}
}
