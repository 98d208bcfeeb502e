import Foundation
import TwofoldCore

/// Conversions between Twofold's values and the columns of the SQLite schema.
///
/// Times are INTEGER milliseconds since the Unix epoch, rounded down as the audit chain does.
/// TOTP steps and HOTP counters are `UInt64`, which SQLite cannot hold; they are stored with the
/// top bit flipped in a signed INTEGER, which keeps their unsigned order in SQL comparisons
/// (the replay compare-and-set is `last_step < ?` in SQL).
enum SQLiteCoding {
    private static let signBit: UInt64 = 0x8000_0000_0000_0000

    /// Milliseconds since the epoch, saturating instead of trapping on absurd dates.
    static func milliseconds(_ date: Date) -> Int64 {
        let value = (date.timeIntervalSince1970 * 1000).rounded(.down)
        guard value.isFinite else { return value > 0 ? .max : .min }
        return Int64(exactly: value) ?? (value > 0 ? .max : .min)
    }

    static func date(milliseconds: Int64) -> Date {
        Date(timeIntervalSince1970: Double(milliseconds) / 1000)
    }

    /// `milliseconds + seconds`, saturating.
    static func milliseconds(_ base: Int64, plus seconds: TimeInterval) -> Int64 {
        let (sum, overflow) = base.addingReportingOverflow(milliseconds(Date(timeIntervalSince1970: seconds)))
        return overflow ? .max : sum
    }

    /// A step as stored: order-preserving in a signed INTEGER.
    static func storedStep(_ step: UInt64) -> Int64 {
        Int64(bitPattern: step ^ signBit)
    }

    static func step(stored: Int64) -> UInt64 {
        UInt64(bitPattern: stored) ^ signBit
    }

    static func blob(_ bytes: [UInt8]) -> Data {
        Data(bytes)
    }

    /// The error for a stored value that Twofold never writes: the file was edited or damaged.
    static func invalid(_ what: String, _ value: String) -> TwofoldError {
        TwofoldError(.unavailable, "the SQLite store holds an invalid \(what): \"\(value)\"")
    }
}
