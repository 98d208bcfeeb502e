import Foundation
import PostgresNIO
import TwofoldCore

/// How Swift values are written to and read from the schema's columns.
enum PostgresColumn {
    /// Times are BIGINT milliseconds (``StoredTime``); steps BIGINT too (``StoredStep``).
    static func date(_ milliseconds: Int64) -> Date {
        StoredTime.date(milliseconds: milliseconds)
    }

    static func date(_ milliseconds: Int64?) -> Date? {
        milliseconds.map(date)
    }

    /// BYTEA. Bound as a `ByteBuffer`: PostgresNIO would send `[UInt8]` as an array of "char".
    static func bytes(_ bytes: [UInt8]) -> ByteBuffer {
        ByteBuffer(bytes: bytes)
    }

    static func bytes(_ buffer: ByteBuffer) -> [UInt8] {
        Array(buffer.readableBytesView)
    }
}
