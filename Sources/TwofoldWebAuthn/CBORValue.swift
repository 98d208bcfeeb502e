/// One decoded CBOR data item (RFC 8949), of the kinds WebAuthn's attestation objects, COSE
/// keys and extensions are made of.
///
/// Negative integers keep the raw argument of major type 1 (the value is −1 − `n`), so that
/// −2⁶⁴, which no Swift integer holds, is represented exactly.
enum CBORValue: Hashable, Sendable {
    /// A map key. WebAuthn's maps are keyed by text (attestation objects, statements) or by
    /// integers (COSE keys); any other key kind is refused when decoding.
    enum Key: Hashable, Sendable {
        case unsigned(UInt64)
        /// −1 − `n`.
        case negative(UInt64)
        case text(String)

        /// The key for a (small) integer label, such as COSE's `1` (kty) or `-2` (x).
        static func int(_ value: Int64) -> Key {
            value >= 0 ? .unsigned(UInt64(value)) : .negative(UInt64(-(value + 1)))
        }
    }

    case unsigned(UInt64)
    /// −1 − `n`.
    case negative(UInt64)
    case bytes([UInt8])
    case text(String)
    case array([CBORValue])
    case map([Key: CBORValue])
    indirect case tagged(UInt64, CBORValue)
    case bool(Bool)
    case null
    case undefined
    /// A simple value other than false, true, null and undefined (major type 7, 0–19 and 32–255).
    case simple(UInt8)
    /// A half, single or double precision float, widened to `Double`.
    case float(Double)

    /// The value of an integer item when it fits in `Int64`.
    var int64: Int64? {
        switch self {
        case .unsigned(let value): value <= UInt64(Int64.max) ? Int64(value) : nil
        case .negative(let value): value <= UInt64(Int64.max) ? -1 - Int64(value) : nil
        default: nil
        }
    }

    var bytes: [UInt8]? {
        if case .bytes(let value) = self { value } else { nil }
    }

    var text: String? {
        if case .text(let value) = self { value } else { nil }
    }

    var array: [CBORValue]? {
        if case .array(let value) = self { value } else { nil }
    }

    var map: [Key: CBORValue]? {
        if case .map(let value) = self { value } else { nil }
    }
}
