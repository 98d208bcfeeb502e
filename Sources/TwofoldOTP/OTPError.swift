/// An error from the OTP core: a stable machine `code` and a `message` a person can act on.
///
/// A struct rather than an enum so that new codes can be added without breaking callers.
public struct OTPError: Error, Sendable, Equatable, CustomStringConvertible {
    /// A stable, machine-readable reason.
    public struct Code: RawRepresentable, Hashable, Sendable, CustomStringConvertible {
        public let rawValue: String
        public init(rawValue: String) { self.rawValue = rawValue }
        public var description: String { rawValue }

        /// Digits other than 6, 7 or 8 (RFC 4226 §5.3 requires at least 6; past 8 the
        /// 31-bit truncated value no longer gives uniformly distributed codes).
        public static let invalidDigits = Code(rawValue: "invalid_digits")
        /// A TOTP period outside 1 second to 24 hours.
        public static let invalidPeriod = Code(rawValue: "invalid_period")
        /// An empty secret, or a generated secret shorter than 160 bits.
        public static let invalidSecret = Code(rawValue: "invalid_secret")
        /// Text that is not RFC 4648 Base32.
        public static let invalidBase32 = Code(rawValue: "invalid_base32")
        /// A time earlier than the TOTP epoch T0.
        public static let timeBeforeEpoch = Code(rawValue: "time_before_epoch")
        /// A verification window larger than the cap.
        public static let windowTooLarge = Code(rawValue: "window_too_large")
        /// A code that is not exactly `digits` ASCII digits.
        public static let malformedCode = Code(rawValue: "malformed_code")
        /// An unknown algorithm name.
        public static let unknownAlgorithm = Code(rawValue: "unknown_algorithm")
        /// An `otpauth://` URI that cannot be used; the message says why.
        public static let invalidURI = Code(rawValue: "invalid_uri")
    }

    public let code: Code
    public let message: String

    public init(_ code: Code, _ message: String) {
        self.code = code
        self.message = message
    }

    public var description: String { message }
}
