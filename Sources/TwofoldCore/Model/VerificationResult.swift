import Foundation

/// Why a code was refused.
public enum DenialReason: String, Sendable, Codable, CaseIterable {
    /// Matches no active factor nor unused recovery code.
    case invalidCode = "invalid_code"
    /// Matches a step or counter already accepted (or one before it).
    case replayed
    /// Too many consecutive failures; the code was not evaluated.
    case locked
    /// The user has no active factor and no unused recovery code.
    case noFactors = "no_factors"

    /// Whether a refusal for this reason counts towards the user's lock: a code that was
    /// evaluated and refused does; with nothing to guess against (`no_factors`), or a code not
    /// evaluated at all (`locked`), nothing was guessed. Every store applies this one rule.
    public var countsAsFailure: Bool {
        switch self {
        case .invalidCode, .replayed: true
        case .noFactors, .locked: false
        }
    }
}

/// The answer to "is this code good for this user?".
public enum VerificationResult: Sendable, Equatable {
    /// Accepted, by this factor (a recovery code reports type `recovery_code` and no factor id).
    case allow(AllowedBy)
    /// Refused; `retryAfter` is set when locked.
    case deny(DenialReason, retryAfter: Date?)

    public enum AllowedBy: Sendable, Equatable {
        case factor(FactorID, FactorType)
        case recoveryCode(remaining: Int)
    }

    public var isAllowed: Bool {
        if case .allow = self { return true }
        return false
    }
}
