import Foundation
import TwofoldCore

/// Conversions between Twofold's values and the columns of the SQLite schema.
///
/// Times are INTEGER milliseconds (``StoredTime``); TOTP steps and HOTP counters are stored
/// order-preserving in a signed INTEGER (``StoredStep``), as in every store.
enum SQLiteCoding {
    static func blob(_ bytes: [UInt8]) -> Data {
        Data(bytes)
    }

    /// The error for a stored value that Twofold never writes: the file was edited or damaged.
    static func invalid(_ what: String, _ value: String) -> TwofoldError {
        TwofoldError(.unavailable, "the SQLite store holds an invalid \(what): \"\(value)\"")
    }
}
