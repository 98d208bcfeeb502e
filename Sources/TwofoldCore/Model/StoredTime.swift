import Foundation

/// How every store keeps a time: whole milliseconds since the Unix epoch in a signed 64-bit
/// integer, rounded down as the audit chain does. The conversions saturate rather than trap, so
/// an absurd date (from a clock, a test or a request) is stored at the edge of the range instead
/// of crashing the writer.
public enum StoredTime {
    /// Milliseconds since the epoch, rounded down; `Int64.min`/`Int64.max` beyond the range
    /// (and for infinities), 0 for NaN. A time within 10 µs below a whole millisecond
    /// counts as that millisecond, so that a stored time read back (`0.999` s is 0.99899… in
    /// binary) stores again as the same number.
    public static func milliseconds(_ date: Date) -> Int64 {
        let value = (date.timeIntervalSince1970 * 1000 + 0.01).rounded(.down)
        if value.isNaN { return 0 }
        // 2^63 is exactly representable as a Double; every value below it converts exactly.
        if value >= 9_223_372_036_854_775_808.0 { return .max }
        if value < -9_223_372_036_854_775_808.0 { return .min }
        return Int64(value)
    }

    /// The date of a stored time.
    public static func date(milliseconds: Int64) -> Date {
        Date(timeIntervalSince1970: Double(milliseconds) / 1000)
    }

    /// `base` plus `seconds`, saturating at both ends of the range.
    public static func milliseconds(_ base: Int64, plus seconds: TimeInterval) -> Int64 {
        let (sum, overflow) = base.addingReportingOverflow(milliseconds(Date(timeIntervalSince1970: seconds)))
        guard overflow else { return sum }
        return seconds > 0 ? .max : .min
    }
}

/// How every store keeps a TOTP step or HOTP counter: a `UInt64` in a signed 64-bit column with
/// its top bit flipped, so that 0 is stored as `Int64.min`, `UInt64.max` as `Int64.max`, and the
/// database's signed `<` orders steps as unsigned numbers (the replay compare-and-set is
/// `last_step < new` in SQL).
public enum StoredStep {
    private static let signBit: UInt64 = 0x8000_0000_0000_0000

    public static func stored(_ step: UInt64) -> Int64 {
        Int64(bitPattern: step ^ signBit)
    }

    public static func step(stored: Int64) -> UInt64 {
        UInt64(bitPattern: stored) ^ signBit
    }
}
