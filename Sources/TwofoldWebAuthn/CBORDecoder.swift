/// Decodes the subset of CBOR (RFC 8949) that WebAuthn uses, from bytes an attacker chose.
///
/// Supported: major types 0–7 with definite lengths, maps keyed by integers or text, tags,
/// the simple values and half, single and double floats. Refused, each with a `malformed`
/// ``WebAuthnError``: indefinite lengths (CTAP2's canonical form never uses them), reserved
/// additional information (28–30), text that is not UTF-8, map keys of other kinds, duplicate
/// keys, nesting deeper than ``maximumDepth``, containers of more than ``maximumItems`` items,
/// and any length longer than the bytes that are left — checked before anything is allocated,
/// so a claimed length of 2⁶⁴ − 1 costs nothing.
///
/// Integers, lengths and floats in a longer encoding than needed are tolerated, not refused:
/// RFC 8949 calls them well-formed, and everything that is signed (authenticator data) is
/// verified over the bytes as received, never over a re-encoding.
struct CBORDecoder {
    /// How deeply arrays, maps and tags may nest. A COSE key inside an attestation object is
    /// three levels deep; x5c four.
    static let maximumDepth = 16
    /// How many items an array, or pairs a map, may hold.
    static let maximumItems = 1024

    private let bytes: [UInt8]
    private var offset = 0

    private init(_ bytes: [UInt8]) {
        self.bytes = bytes
    }

    /// Decodes `bytes`, which must hold exactly one data item.
    /// - Throws: ``WebAuthnError`` `malformed`, also for bytes left after the item.
    static func decode(_ bytes: [UInt8]) throws(WebAuthnError) -> CBORValue {
        let (value, consumed) = try decodePrefix(bytes)
        guard consumed == bytes.count else {
            throw WebAuthnError(.malformed, "CBOR: \(bytes.count - consumed) bytes follow the data item")
        }
        return value
    }

    /// Decodes the data item at the start of `bytes`, which may be followed by others (the
    /// credential public key inside authenticator data is followed by extensions).
    /// - Returns: The item and how many bytes it took.
    static func decodePrefix(_ bytes: [UInt8]) throws(WebAuthnError) -> (value: CBORValue, consumed: Int) {
        var decoder = CBORDecoder(bytes)
        let value = try decoder.item(depth: 0)
        return (value, decoder.offset)
    }

    private var remaining: Int { bytes.count - offset }

    private func failure(_ message: String) -> WebAuthnError {
        WebAuthnError(.malformed, "CBOR at byte \(offset): \(message)")
    }

    private mutating func byte() throws(WebAuthnError) -> UInt8 {
        guard offset < bytes.count else { throw failure("the data ends inside an item") }
        defer { offset += 1 }
        return bytes[offset]
    }

    private mutating func take(_ count: UInt64) throws(WebAuthnError) -> ArraySlice<UInt8> {
        guard count <= UInt64(remaining) else {
            throw failure("a length of \(count) bytes is longer than the \(remaining) left")
        }
        let start = offset
        offset += Int(count)
        return bytes[start..<offset]
    }

    /// The argument that follows an initial byte's additional information (RFC 8949 §3).
    private mutating func argument(_ info: UInt8) throws(WebAuthnError) -> UInt64 {
        switch info {
        case 0...23:
            return UInt64(info)
        case 24, 25, 26, 27:
            let width = 1 << Int(info - 24)
            var value: UInt64 = 0
            for byte in try take(UInt64(width)) {
                value = value << 8 | UInt64(byte)
            }
            return value
        case 31:
            throw failure("indefinite-length items are not supported")
        default:
            throw failure("additional information \(info) is reserved")
        }
    }

    private mutating func item(depth: Int) throws(WebAuthnError) -> CBORValue {
        let initial = try byte()
        let major = initial >> 5
        let info = initial & 0x1F
        if major == 7 {
            return try simpleOrFloat(info)
        }
        let argument = try argument(info)
        switch major {
        case 0:
            return .unsigned(argument)
        case 1:
            return .negative(argument)
        case 2:
            return .bytes(Array(try take(argument)))
        case 3:
            let raw = try take(argument)
            guard let text = String(validating: raw, as: UTF8.self) else {
                throw failure("a text string is not valid UTF-8")
            }
            return .text(text)
        case 4:
            let count = try containerCount(argument, itemsEach: 1, depth: depth)
            var items: [CBORValue] = []
            items.reserveCapacity(count)
            for _ in 0..<count {
                items.append(try item(depth: depth + 1))
            }
            return .array(items)
        case 5:
            let count = try containerCount(argument, itemsEach: 2, depth: depth)
            var entries: [CBORValue.Key: CBORValue] = [:]
            entries.reserveCapacity(count)
            for _ in 0..<count {
                let keyOffset = offset
                let key: CBORValue.Key
                switch try item(depth: depth + 1) {
                case .unsigned(let value): key = .unsigned(value)
                case .negative(let value): key = .negative(value)
                case .text(let value): key = .text(value)
                default: throw WebAuthnError(.malformed, "CBOR at byte \(keyOffset): a map key is neither an integer nor text")
                }
                let value = try item(depth: depth + 1)
                guard entries.updateValue(value, forKey: key) == nil else {
                    throw WebAuthnError(.malformed, "CBOR at byte \(keyOffset): a map has the key \(key) twice")
                }
            }
            return .map(entries)
        default:  // 6
            guard depth < Self.maximumDepth else {
                throw failure("items nest deeper than \(Self.maximumDepth) levels")
            }
            return .tagged(argument, try item(depth: depth + 1))
        }
    }

    /// Checks a container's claimed size against the limits and against the bytes left (each
    /// item takes at least one byte) before anything is reserved for it.
    private func containerCount(_ claimed: UInt64, itemsEach: UInt64, depth: Int) throws(WebAuthnError) -> Int {
        guard depth < Self.maximumDepth else {
            throw failure("items nest deeper than \(Self.maximumDepth) levels")
        }
        guard claimed <= UInt64(Self.maximumItems) else {
            throw failure("a container claims \(claimed) items; at most \(Self.maximumItems) are accepted")
        }
        guard claimed * itemsEach <= UInt64(remaining) else {
            throw failure("a container claims \(claimed) items but only \(remaining) bytes are left")
        }
        return Int(claimed)
    }

    private mutating func simpleOrFloat(_ info: UInt8) throws(WebAuthnError) -> CBORValue {
        switch info {
        case 20: return .bool(false)
        case 21: return .bool(true)
        case 22: return .null
        case 23: return .undefined
        case 0...19: return .simple(info)
        case 24:
            let value = try byte()
            guard value >= 32 else { throw failure("simple value \(value) must be encoded in the initial byte") }
            return .simple(value)
        case 25:
            let raw = try take(2)
            return .float(Self.half(UInt16(raw[raw.startIndex]) << 8 | UInt16(raw[raw.startIndex + 1])))
        case 26:
            var bits: UInt32 = 0
            for byte in try take(4) { bits = bits << 8 | UInt32(byte) }
            return .float(Double(Float(bitPattern: bits)))
        case 27:
            var bits: UInt64 = 0
            for byte in try take(8) { bits = bits << 8 | UInt64(byte) }
            return .float(Double(bitPattern: bits))
        case 31:
            throw failure("a break code stands outside an indefinite-length item")
        default:
            throw failure("additional information \(info) is reserved")
        }
    }

    /// IEEE 754 binary16 widened to `Double` (RFC 8949 Appendix D), without `Float16`, which
    /// not every platform Swift runs on has.
    static func half(_ bits: UInt16) -> Double {
        let exponent = Int(bits >> 10 & 0x1F)
        let mantissa = Double(bits & 0x3FF)
        let magnitude: Double
        switch exponent {
        case 0: magnitude = mantissa * 0x1p-24
        case 31: magnitude = mantissa == 0 ? .infinity : .nan
        default: magnitude = (mantissa + 1024) * Double(sign: .plus, exponent: exponent - 25, significand: 1)
        }
        return bits & 0x8000 != 0 ? -magnitude : magnitude
    }
}
