/// Validation and formatting of the decimal codes a person types.
enum OTPDigits {
    /// RFC 4226 §5.3 requires at least 6 digits; the 31-bit truncated value supports up to 8
    /// with a nearly uniform distribution (10^9 would not divide evenly enough).
    static let allowed: ClosedRange<Int> = 6...8

    static func validate(_ digits: Int) throws(OTPError) {
        guard allowed.contains(digits) else {
            throw OTPError(.invalidDigits, "digits must be 6, 7 or 8, not \(digits)")
        }
    }

    static func modulus(_ digits: Int) -> UInt32 {
        switch digits {
        case 6: 1_000_000
        case 7: 10_000_000
        default: 100_000_000
        }
    }

    /// Parses a code that must be exactly `digits` ASCII digits, before any HMAC is spent on it.
    static func parse(_ code: String, digits: Int) throws(OTPError) -> UInt32 {
        var value: UInt32 = 0
        var count = 0
        for byte in code.utf8 {
            guard byte >= UInt8(ascii: "0"), byte <= UInt8(ascii: "9"), count < digits else {
                throw malformed(digits)
            }
            value = value &* 10 &+ UInt32(byte &- UInt8(ascii: "0"))
            count += 1
        }
        guard count == digits else { throw malformed(digits) }
        return value
    }

    private static func malformed(_ digits: Int) -> OTPError {
        OTPError(.malformedCode, "a code must be exactly \(digits) digits 0–9")
    }

    /// Formats `value` zero-padded to `digits` places. Eight characters fit a small string,
    /// so this does not allocate.
    static func format(_ value: UInt32, digits: Int) -> String {
        String(unsafeUninitializedCapacity: digits) { buffer in
            var rest = value
            for index in stride(from: digits - 1, through: 0, by: -1) {
                buffer[index] = UInt8(ascii: "0") &+ UInt8(truncatingIfNeeded: rest % 10)
                rest /= 10
            }
            return digits
        }
    }
}

/// Picks the first candidate equal to `expected` without branching on secret data, so the
/// time taken does not tell an attacker which step matched or how close a guess was.
struct ConstantTimeMatch {
    private var found: UInt64 = 0  // all ones once a match was recorded
    private var matched: UInt64 = 0

    mutating func consider(_ candidate: UInt32, expected: UInt32, position: UInt64) {
        let difference = UInt64(candidate ^ expected)
        // 1 when difference == 0, else 0, computed without a branch.
        let isEqual = ((difference | (0 &- difference)) >> 63) ^ 1
        let take = (0 &- isEqual) & ~found
        matched |= take & position
        found |= take
    }

    var result: UInt64? { found != 0 ? matched : nil }
}
