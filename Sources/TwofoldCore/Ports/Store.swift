import Foundation

/// Everything Twofold keeps, behind one protocol with two implementations (SQLite and
/// PostgreSQL) that pass one conformance suite.
///
/// Rules every implementation follows:
/// - A method that takes an ``AuditAppend`` writes its change and the audit event in one
///   transaction: both or neither.
/// - State that must change once changes in one conditional statement (compare-and-set),
///   never check-then-act: replay refusal, single use of recovery codes, re-wrapping keys.
/// - Store errors surface as ``TwofoldError`` with code `unavailable` (or `conflict` where
///   stated); nothing fails open.
public protocol Store: Sendable {
    /// Creates or upgrades the schema. Safe to run concurrently from several nodes.
    func migrate() async throws
    /// Succeeds when the store answers.
    func ping() async throws
    /// Releases connections; later calls fail.
    func close() async throws

    // MARK: Applications

    /// - Throws: `conflict` when the name is taken.
    func insertApplication(_ application: Application, audit: AuditAppend) async throws
    func application(named name: String) async throws -> Application?
    func applications() async throws -> [Application]

    // MARK: API keys

    func insertAPIKey(_ key: APIKeyRecord, audit: AuditAppend) async throws
    /// The key with this id, revoked or not. Read on every request (no cache), so that a
    /// revocation takes effect at once on every node.
    func apiKey(id: String) async throws -> APIKeyRecord?
    /// Keys of one application, or of all when `nil`, oldest first.
    func apiKeys(applicationID: ApplicationID?) async throws -> [APIKeyRecord]
    /// Sets `revokedAt` if not yet revoked; returns whether this call revoked it.
    func revokeAPIKey(id: String, at date: Date, audit: AuditAppend) async throws -> Bool

    // MARK: Keys

    func wrappedDataKey(applicationID: ApplicationID, userID: UserID) async throws -> WrappedKey?
    /// Stores `key` unless the user already has one, and returns the one stored.
    func insertDataKeyIfAbsent(applicationID: ApplicationID, userID: UserID, key: WrappedKey) async throws -> WrappedKey
    func systemKey(named name: String) async throws -> WrappedKey?
    /// Stores `key` unless one by that name exists, and returns the one stored.
    func insertSystemKeyIfAbsent(named name: String, key: WrappedKey) async throws -> WrappedKey
    /// Up to `limit` keys wrapped under another master key than `keyID`.
    func keysNotWrapped(by keyID: String, limit: Int) async throws -> [StoredKey]
    /// Replaces `old` with `new` only if the stored value is still `old`; returns whether it did.
    func rewrap(_ owner: StoredKey.Owner, from old: WrappedKey, to new: WrappedKey) async throws -> Bool
    /// How many keys each master key id wraps.
    func keyUsage() async throws -> [String: Int]

    // MARK: Factors

    func insertFactor(_ factor: FactorRecord, audit: AuditAppend) async throws
    /// The user's factors, oldest first.
    func factors(applicationID: ApplicationID, userID: UserID) async throws -> [FactorRecord]
    /// Deletes one factor; returns whether it existed.
    func deleteFactor(applicationID: ApplicationID, userID: UserID, factorID: FactorID, audit: AuditAppend) async throws -> Bool
    /// Deletes pending factors that expired before `date`; returns how many.
    func deleteExpiredPendingFactors(before date: Date) async throws -> Int

    // MARK: Recovery codes

    /// Replaces the user's set (all of it) with `codes`.
    func replaceRecoveryCodes(applicationID: ApplicationID, userID: UserID, codes: [RecoveryCodeRecord], audit: AuditAppend) async throws
    func recoveryCodes(applicationID: ApplicationID, userID: UserID) async throws -> [RecoveryCodeRecord]

    // MARK: Users

    /// The user's failures and lock; `nil` when there are neither.
    func throttleState(applicationID: ApplicationID, userID: UserID) async throws -> ThrottleState?
    /// Deletes every factor and recovery code of the user; returns how many of each.
    func resetUser(applicationID: ApplicationID, userID: UserID, audit: AuditAppend) async throws -> (factors: Int, recoveryCodes: Int)
    /// Clears the failure count and any lock (no throttle row remains).
    func unlockUser(applicationID: ApplicationID, userID: UserID, audit: AuditAppend) async throws
    /// Deletes everything held about the user, their data key included, and removes their id from
    /// audit events (which keep the pseudonym). The erasure's own event is appended last.
    func eraseUser(applicationID: ApplicationID, userID: UserID, audit: AuditAppend) async throws
    /// Every user the application has anything stored for, sorted.
    func users(applicationID: ApplicationID) async throws -> [UserID]

    // MARK: Verification

    /// One verification, activation or resynchronisation attempt, atomically:
    /// 0. when `request.apiKeyID` is set and that key is unknown or revoked, throw `unauthorized`
    ///    having written nothing;
    /// 1. if the user is locked at `request.now`, append the audit event for `.locked` and return it,
    ///    without calling `decide` (a locked user's code is never evaluated);
    /// 2. otherwise load the snapshot and call `decide` (pure computation);
    /// 3. apply the decision with compare-and-set: `.acceptStep` only if the factor's last accepted
    ///    step is below the new one (and, when activating, the factor is still pending);
    ///    `.acceptRecoveryCode` only if that code is unused. A lost compare-and-set is a denial
    ///    (`replayed` for steps, `invalid_code` for recovery codes);
    /// 4. update the throttle: success clears it (no throttle row remains); `invalid_code` and
    ///    `replayed` count a failure and lock for `request.throttle.lockDuration(afterFailures:)`;
    ///    `no_factors` changes nothing and leaves no row behind;
    /// 5. append `audit(outcome)`; commit.
    /// If `decide` throws, nothing is written and the error is rethrown.
    func attempt(
        _ request: AttemptRequest,
        decide: @Sendable (AttemptSnapshot) throws -> AttemptDecision,
        audit: @Sendable (AttemptOutcome) -> AuditAppend
    ) async throws -> AttemptOutcome

    // MARK: Audit

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

/// A wrapped key and what it belongs to.
public struct StoredKey: Sendable, Equatable {
    public enum Owner: Sendable, Equatable {
        case user(ApplicationID, UserID)
        case system(String)
    }

    public var owner: Owner
    public var key: WrappedKey

    public init(owner: Owner, key: WrappedKey) {
        self.owner = owner
        self.key = key
    }
}

/// Consecutive failures and the current lock of one user.
public struct ThrottleState: Sendable, Equatable {
    public var failures: Int
    public var lockedUntil: Date?

    public init(failures: Int, lockedUntil: Date?) {
        self.failures = failures
        self.lockedUntil = lockedUntil
    }
}

/// What an attempt is for.
public struct AttemptRequest: Sendable {
    public enum Purpose: Sendable, Equatable {
        /// Check a code against the active factors, then the unused recovery codes.
        case verify
        /// Check a code against one pending factor, activating it.
        case activate(FactorID)
        /// Find two consecutive HOTP codes within a wide window.
        case resynchronize(FactorID)
    }

    public var applicationID: ApplicationID
    public var userID: UserID
    public var purpose: Purpose
    public var now: Date
    public var throttle: ThrottlePolicy
    /// When set, the attempt first checks, inside its transaction, that this API key exists and
    /// is not revoked, and otherwise throws `unauthorized` having changed nothing. This lets a
    /// caller that authenticated the key from a cache still honour a revocation made a moment
    /// ago on any node, without a read of its own before the attempt.
    public var apiKeyID: String?
    /// The shard the attempt's audit event goes to (``AuditChain/shard(applicationID:userID:)``),
    /// when the caller knows it: a store that runs attempts together may group them by shard,
    /// so that groups running at once never wait for each other on a shard's head.
    public var auditShard: Int?

    public init(applicationID: ApplicationID, userID: UserID, purpose: Purpose, now: Date, throttle: ThrottlePolicy,
                apiKeyID: String? = nil, auditShard: Int? = nil) {
        self.applicationID = applicationID
        self.userID = userID
        self.purpose = purpose
        self.now = now
        self.throttle = throttle
        self.apiKeyID = apiKeyID
        self.auditShard = auditShard
    }
}

/// What `decide` sees, read inside the attempt's transaction.
public struct AttemptSnapshot: Sendable {
    /// `.verify`: the active factors. `.activate` and `.resynchronize`: the named factor, if it
    /// exists for this user, whatever its status.
    public var factors: [FactorRecord]
    /// `.verify`: the unused recovery codes; otherwise empty.
    public var recoveryCodes: [RecoveryCodeRecord]
    public var dataKey: WrappedKey?

    public init(factors: [FactorRecord], recoveryCodes: [RecoveryCodeRecord], dataKey: WrappedKey?) {
        self.factors = factors
        self.recoveryCodes = recoveryCodes
        self.dataKey = dataKey
    }
}

/// The verdict of `decide`, before the store applies it.
public enum AttemptDecision: Sendable, Equatable {
    /// Accept `step` (TOTP step or HOTP counter) of a factor, remembering `drift`; `activate`
    /// also turns a pending factor active.
    case acceptStep(FactorID, step: UInt64, drift: Int, activate: Bool)
    /// Accept, and use up, the recovery code at `index`.
    case acceptRecoveryCode(index: Int)
    case reject(DenialReason)
}

/// What the store did.
public enum AttemptOutcome: Sendable, Equatable {
    case accepted(AttemptDecision)
    /// Refused; `lockedUntil` is set when this failure started a lock.
    case denied(DenialReason, lockedUntil: Date?)
    /// Not evaluated: the user is locked until then.
    case locked(until: Date)
}
