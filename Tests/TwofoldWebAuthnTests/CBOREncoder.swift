@testable import TwofoldWebAuthn

/// A small CBOR encoder for the tests (Twofold itself only decodes): shortest arguments, map
/// keys in the order of their encodings (RFC 8949 §4.2.1), floats as doubles.
enum CBOREncoder {
    static func encode(_ value: CBORValue) -> [UInt8] {
        switch value {
        case .unsigned(let n): head(0, n)
        case .negative(let n): head(1, n)
        case .bytes(let bytes): head(2, UInt64(bytes.count)) + bytes
        case .text(let text): head(3, UInt64(text.utf8.count)) + Array(text.utf8)
        case .array(let items): head(4, UInt64(items.count)) + items.flatMap(encode)
        case .map(let entries):
            head(5, UInt64(entries.count)) + entries
                .map { (key: encode(key: $0.key), value: encode($0.value)) }
                .sorted { $0.key.lexicographicallyPrecedes($1.key) }
                .flatMap { $0.key + $0.value }
        case .tagged(let tag, let item): head(6, tag) + encode(item)
        case .bool(let flag): [flag ? 0xF5 : 0xF4]
        case .null: [0xF6]
        case .undefined: [0xF7]
        case .simple(let n): n < 24 ? [0xE0 | n] : [0xF8, n]
        case .float(let x): [0xFB] + bigEndian(x.bitPattern, 8)
        }
    }

    static func encode(key: CBORValue.Key) -> [UInt8] {
        switch key {
        case .unsigned(let n): encode(.unsigned(n))
        case .negative(let n): encode(.negative(n))
        case .text(let text): encode(.text(text))
        }
    }

    static func head(_ major: UInt8, _ argument: UInt64) -> [UInt8] {
        let type = major << 5
        switch argument {
        case 0..<24: return [type | UInt8(argument)]
        case 24...0xFF: return [type | 24, UInt8(argument)]
        case 0x100...0xFFFF: return [type | 25] + bigEndian(argument, 2)
        case 0x1_0000...0xFFFF_FFFF: return [type | 26] + bigEndian(argument, 4)
        default: return [type | 27] + bigEndian(argument, 8)
        }
    }

    private static func bigEndian(_ value: UInt64, _ count: Int) -> [UInt8] {
        (0..<count).reversed().map { UInt8(truncatingIfNeeded: value >> (8 * $0)) }
    }
}

extension CBORValue {
    /// An integer item, as COSE labels and algorithm identifiers are written.
    static func int(_ value: Int64) -> CBORValue {
        value >= 0 ? .unsigned(UInt64(value)) : .negative(UInt64(-(value + 1)))
    }
}
