import Foundation
import PostgresNIO

/// How Swift values are written to and read from the schema's columns.
enum PostgresColumn {
    /// Times are BIGINT milliseconds since the Unix epoch (rounded down, as the audit chain does).
    static func milliseconds(_ date: Date) -> Int64 {
        Int64((date.timeIntervalSince1970 * 1000).rounded(.down))
    }

    static func date(_ milliseconds: Int64) -> Date {
        Date(timeIntervalSince1970: Double(milliseconds) / 1000)
    }

    static func date(_ milliseconds: Int64?) -> Date? {
        milliseconds.map(date)
    }

    /// A TOTP step or HOTP counter in a signed BIGINT whose order is the unsigned order: the top
    /// bit is flipped, so 0 is stored as Int64.min and UInt64.max as Int64.max, and SQL's `<`
    /// compares steps correctly across the whole range.
    static func step(_ value: UInt64) -> Int64 {
        Int64(bitPattern: value ^ 0x8000_0000_0000_0000)
    }

    static func step(_ stored: Int64) -> UInt64 {
        UInt64(bitPattern: stored) ^ 0x8000_0000_0000_0000
    }

    /// BYTEA. Bound as a `ByteBuffer`: PostgresNIO would send `[UInt8]` as an array of "char".
    static func bytes(_ bytes: [UInt8]) -> ByteBuffer {
        ByteBuffer(bytes: bytes)
    }

    static func bytes(_ buffer: ByteBuffer) -> [UInt8] {
        Array(buffer.readableBytesView)
    }
}
