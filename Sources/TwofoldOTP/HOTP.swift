/// An HMAC-based one-time password generator and verifier (RFC 4226).
///
/// Keyed state is computed once in `init`; computing or checking a code then costs two
/// hash compressions per counter and allocates nothing.
public struct HOTP: Sendable {
    /// The largest look-ahead ``verify(_:counter:lookAhead:)`` accepts. Each extra counter
    /// checked is one more chance for a guess (RFC 4226 §7.4), so windows stay small; this cap
    /// leaves room for resynchronisation.
    public static let maximumLookAhead: UInt64 = 1_000

    public let algorithm: OTPAlgorithm
    public let digits: Int
    private let hmac: PrecomputedHMAC
    private let modulus: UInt32

    /// - Throws: `invalid_digits` unless `digits` is 6, 7 or 8.
    public init(secret: OTPSecret, algorithm: OTPAlgorithm = .sha1, digits: Int = 6) throws(OTPError) {
        try OTPDigits.validate(digits)
        self.algorithm = algorithm
        self.digits = digits
        self.modulus = OTPDigits.modulus(digits)
        self.hmac = PrecomputedHMAC(key: secret.bytes, algorithm: algorithm)
    }

    /// The code for `counter`, zero-padded to ``digits``.
    public func code(counter: UInt64) -> String {
        OTPDigits.format(value(counter: counter), digits: digits)
    }

    /// The code for `counter` as a number (RFC 4226 §5.3 `Snum mod 10^Digit`).
    public func value(counter: UInt64) -> UInt32 {
        hmac.truncatedMAC(counter: counter) % modulus
    }

    /// Checks `code` against counters `counter`, `counter + 1`, … `counter + lookAhead`
    /// (stopping at 2^64 − 1) and returns the first counter whose code matches.
    ///
    /// Every counter in the window is computed and compared in constant time, whether or not
    /// an earlier one matched.
    /// - Returns: the matching counter, or `nil`. The caller must store it so that it, and
    ///   every counter before it, is never accepted again.
    /// - Throws: `malformed_code` when `code` is not exactly ``digits`` ASCII digits (checked
    ///   before any HMAC is computed); `window_too_large` past ``maximumLookAhead``.
    public func verify(_ code: String, counter: UInt64, lookAhead: UInt64 = 0) throws(OTPError) -> UInt64? {
        guard lookAhead <= Self.maximumLookAhead else {
            throw OTPError(.windowTooLarge, "look-ahead \(lookAhead) exceeds the maximum of \(Self.maximumLookAhead)")
        }
        let expected = try OTPDigits.parse(code, digits: digits)
        let last = counter.addingReportingOverflow(lookAhead)
        let end = last.overflow ? UInt64.max : last.partialValue
        var match = ConstantTimeMatch()
        var candidate = counter
        while true {
            match.consider(value(counter: candidate), expected: expected, position: candidate)
            if candidate == end { break }
            candidate += 1
        }
        return match.result
    }

    /// Checks `code` against the given counters in order and returns the first that matches.
    /// Used by TOTP to search outwards from the expected step.
    func firstMatch(of expected: UInt32, in counters: some Sequence<UInt64>) -> UInt64? {
        var match = ConstantTimeMatch()
        for candidate in counters {
            match.consider(value(counter: candidate), expected: expected, position: candidate)
        }
        return match.result
    }
}
