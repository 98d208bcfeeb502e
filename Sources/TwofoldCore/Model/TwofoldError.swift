import Foundation

/// An error from the verification engine: a stable `code` for programs and a `message` for
/// people. The HTTP layer maps codes to statuses in one place.
public struct TwofoldError: Error, Sendable, Equatable, CustomStringConvertible {
    public struct Code: RawRepresentable, Hashable, Sendable, CustomStringConvertible {
        public let rawValue: String
        public init(rawValue: String) { self.rawValue = rawValue }
        public var description: String { rawValue }

        /// Input that can never be valid (a malformed user id, an unknown factor type).
        public static let invalidRequest = Code(rawValue: "invalid_request")
        /// The application, user or factor does not exist (or belongs to another application).
        public static let notFound = Code(rawValue: "not_found")
        /// Something with that name or id already exists.
        public static let conflict = Code(rawValue: "conflict")
        /// A code was checked and is wrong (activation, resynchronisation).
        public static let invalidCode = Code(rawValue: "invalid_code")
        /// Verification is locked for this user after repeated failures.
        public static let locked = Code(rawValue: "locked")
        /// A pending enrollment passed its expiry.
        public static let expired = Code(rawValue: "expired")
        /// The operation does not apply in the object's current state (e.g. resync on TOTP).
        public static let invalidState = Code(rawValue: "invalid_state")
        /// A sealed value could not be opened: wrong master key, or a value moved between rows.
        public static let sealing = Code(rawValue: "sealing_failed")
        /// The API key named by an attempt is unknown or was revoked (see ``AttemptRequest/apiKeyID``).
        public static let unauthorized = Code(rawValue: "unauthorized")
        /// The store cannot be reached or failed.
        public static let unavailable = Code(rawValue: "unavailable")
        /// The audit log's chain head no longer carries a valid tag: someone changed it outside
        /// Twofold. Appending would launder the change, so writes that audit fail until an
        /// operator has run `twofold audit verify` and restored the database.
        public static let auditTampered = Code(rawValue: "audit_tampered")
        /// A send limit was reached; `lockedUntil` says when to retry.
        public static let rateLimited = Code(rawValue: "rate_limited")
        /// Configuration that cannot work (no master key, unreadable key file).
        public static let configuration = Code(rawValue: "configuration")
    }

    public let code: Code
    public let message: String
    /// For `locked`: when the lock ends. For `rate_limited`: when to retry. For `invalid_code`: the end of the lock that this
    /// refusal started, if it started one. Lets a caller answer `Retry-After` and count lockouts
    /// without reading the throttle state again.
    public let lockedUntil: Date?

    public init(_ code: Code, _ message: String, lockedUntil: Date? = nil) {
        self.code = code
        self.message = message
        self.lockedUntil = lockedUntil
    }

    public var description: String { message }

    static func notFound(_ what: String) -> TwofoldError { TwofoldError(.notFound, "\(what) not found") }

    /// Every "no such factor" answer, whatever the reason (unknown id, another user's or
    /// application's, not pending any more): one message, so that an answer tells a caller
    /// nothing about factors it may not see.
    public static let factorNotFound = TwofoldError(.notFound, "factor not found")

    /// Every "no such challenge" answer, another application's included.
    public static let challengeNotFound = TwofoldError(.notFound, "challenge not found")
}
