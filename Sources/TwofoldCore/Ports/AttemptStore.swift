import Foundation

/// Verification, activation and resynchronisation attempts: the one place where a code is
/// accepted, consumed and counted.
public protocol AttemptStore: Sendable {
    /// One verification, activation or resynchronisation attempt, atomically:
    /// 0. when `request.apiKeyID` is set and that key is unknown or revoked, throw `unauthorized`
    ///    having written nothing;
    /// 1. if the user is locked at `request.now`, append the audit event for `.locked` and return it,
    ///    without calling `decide` (a locked user's code is never evaluated);
    /// 2. otherwise load the snapshot and call `decide` (pure computation);
    /// 3. apply the decision with compare-and-set: a step only if the factor's last accepted
    ///    step is below the new one and the factor is still pending when activating, active otherwise;
    ///    a recovery code only if it is unused; a challenge only if it is still `pending` and not
    ///    expired at `request.now` (it becomes `approved`, finished then), and, when activating,
    ///    its factor is still pending (it becomes active as with a step). A lost compare-and-set
    ///    is a denial (`replayed` for steps and challenges, `invalid_code` for recovery codes);
    /// 4. update the throttle: success clears it (no throttle row remains); `invalid_code` and
    ///    `replayed` count a failure and lock for `request.throttle.lockDuration(afterFailures:)`;
    ///    `no_factors` changes nothing and leaves no row behind. A counted failure also counts a
    ///    wrong attempt on every challenge of the snapshot still pending; one that reaches its
    ///    `maxAttempts` ends `denied` with reason `too_many_attempts`, finished at `request.now`;
    /// 5. append `audit(outcome)`; commit.
    /// If `decide` throws, nothing is written and the error is rethrown.
    func attempt(
        _ request: AttemptRequest,
        decide: @Sendable (AttemptSnapshot) throws -> AttemptDecision,
        audit: @Sendable (AttemptOutcome) -> AuditAppend
    ) async throws -> AttemptOutcome
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
        /// Check a code against one login challenge only (and count a failure against it).
        case answerChallenge(ChallengeID)
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
    /// Code challenges (mode `code`) still `pending` and not expired at the request's time:
    /// `.verify`, the user's `login` ones; `.activate`, the `enrollment` ones of the named
    /// factor; `.answerChallenge`, the named one if it is the user's and a `login` one;
    /// `.resynchronize`, none. Newest first.
    public var challenges: [ChallengeRecord]
    public var dataKey: WrappedKey?

    public init(factors: [FactorRecord], recoveryCodes: [RecoveryCodeRecord], challenges: [ChallengeRecord] = [], dataKey: WrappedKey?) {
        self.factors = factors
        self.recoveryCodes = recoveryCodes
        self.challenges = challenges
        self.dataKey = dataKey
    }
}

/// The verdict of `decide`, before the store applies it.
public enum AttemptDecision: Sendable, Equatable {
    /// Accept, if the store's compare-and-set still allows it.
    case accept(Acceptance)
    case reject(DenialReason)

    /// Accept `step` of a factor of `type`.
    public static func acceptStep(_ factorID: FactorID, type: FactorType, step: UInt64, drift: Int, activate: Bool) -> AttemptDecision {
        .accept(.step(StepAcceptance(factorID: factorID, factorType: type, step: step, drift: drift, activate: activate)))
    }

    /// Accept, and use up, the recovery code at `index`, `remaining` unused codes being left after it.
    public static func acceptRecoveryCode(index: Int, remaining: Int) -> AttemptDecision {
        .accept(.recoveryCode(RecoveryCodeAcceptance(index: index, remaining: remaining)))
    }
}

/// What an accepted attempt consumed: all a caller needs to answer, with no second read.
public enum Acceptance: Sendable, Equatable {
    case step(StepAcceptance)
    case recoveryCode(RecoveryCodeAcceptance)
    case challenge(ChallengeAcceptance)
}

/// A challenge's code, used up: the challenge becomes `approved`.
public struct ChallengeAcceptance: Sendable, Equatable {
    public var challengeID: ChallengeID
    public var factorID: FactorID
    public var factorType: FactorType
    /// Whether this acceptance also turns the pending factor active (an enrollment challenge).
    public var activate: Bool

    public init(challengeID: ChallengeID, factorID: FactorID, factorType: FactorType, activate: Bool) {
        self.challengeID = challengeID
        self.factorID = factorID
        self.factorType = factorType
        self.activate = activate
    }
}

/// A TOTP step or HOTP counter of one factor, consumed.
public struct StepAcceptance: Sendable, Equatable {
    public var factorID: FactorID
    public var factorType: FactorType
    /// The TOTP step or HOTP counter; the factor's last accepted step becomes this.
    public var step: UInt64
    /// The device's clock offset in steps (TOTP), remembered for the next verification.
    public var drift: Int
    /// Whether this acceptance also turns the pending factor active.
    public var activate: Bool

    public init(factorID: FactorID, factorType: FactorType, step: UInt64, drift: Int, activate: Bool) {
        self.factorID = factorID
        self.factorType = factorType
        self.step = step
        self.drift = drift
        self.activate = activate
    }
}

/// One recovery code, used up.
public struct RecoveryCodeAcceptance: Sendable, Equatable {
    /// The code's index in the user's set.
    public var index: Int
    /// How many unused codes the user has left after this one.
    public var remaining: Int

    public init(index: Int, remaining: Int) {
        self.index = index
        self.remaining = remaining
    }
}

/// What the store did.
public enum AttemptOutcome: Sendable, Equatable {
    case accepted(Acceptance)
    /// Refused; `lockedUntil` is set when this failure started a lock.
    case denied(DenialReason, lockedUntil: Date?)
    /// Not evaluated: the user is locked until then.
    case locked(until: Date)
}
