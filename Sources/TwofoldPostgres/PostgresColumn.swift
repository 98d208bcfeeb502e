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

extension PostgresColumn {
    /// A challenge's context as TEXT: JSON with sorted keys, absent fields left out, as every
    /// store writes it.
    static func context(_ context: ChallengeContext) throws -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return String(decoding: try encoder.encode(context), as: UTF8.self)
    }

    /// - Throws: `unavailable` for text Twofold never writes, without quoting it (it holds the
    ///   login page's address and user agent).
    static func context(_ text: String) throws(TwofoldError) -> ChallengeContext {
        do {
            return try JSONDecoder().decode(ChallengeContext.self, from: Data(text.utf8))
        } catch {
            throw TwofoldError(.unavailable, "the database holds an invalid challenge context")
        }
    }

    /// The four delivery columns: none when no provider is recorded.
    /// - Throws: `unavailable` for a provider without a status or attempt (a CHECK rules it out).
    static func delivery(provider: String?, status: String?, reference: String?, attempt: Int64?) throws(TwofoldError) -> ChallengeDelivery? {
        guard let provider else { return nil }
        guard let status, let attempt else {
            throw TwofoldError(.unavailable, "the database holds a challenge delivery without its status or attempt")
        }
        return ChallengeDelivery(provider: provider, status: status, providerReference: reference, attempt: Int(attempt))
    }
}
