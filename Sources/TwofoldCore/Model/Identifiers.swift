import Foundation

/// A random identifier with a readable prefix (`app_…`, `fac_…`), so an id in a log line says
/// what it names. 128 random bits, lower-case Base32.
public protocol PrefixedIdentifier: RawRepresentable, Hashable, Sendable, Codable, CustomStringConvertible
where RawValue == String {
    static var prefix: String { get }
    init(uncheckedRawValue: String)
}

extension PrefixedIdentifier {
    public init?(rawValue: String) {
        guard rawValue.hasPrefix(Self.prefix),
              rawValue.utf8.count == Self.prefix.utf8.count + 26,
              rawValue.utf8.dropFirst(Self.prefix.utf8.count).allSatisfy({ Self.isIDCharacter($0) })
        else { return nil }
        self.init(uncheckedRawValue: rawValue)
    }

    /// A new random identifier.
    public static func random(using random: any RandomSource = SystemRandomSource()) -> Self {
        Self(uncheckedRawValue: prefix + IdentifierAlphabet.encode(random.bytes(16)))
    }

    public var description: String { rawValue }

    private static func isIDCharacter(_ byte: UInt8) -> Bool {
        (byte >= UInt8(ascii: "a") && byte <= UInt8(ascii: "z")) || (byte >= UInt8(ascii: "2") && byte <= UInt8(ascii: "7"))
    }

    public init(from decoder: any Decoder) throws {
        let text = try decoder.singleValueContainer().decode(String.self)
        guard let value = Self(rawValue: text) else {
            throw DecodingError.dataCorrupted(.init(codingPath: decoder.codingPath, debugDescription: "not a \(Self.prefix) identifier"))
        }
        self = value
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(rawValue)
    }
}

enum IdentifierAlphabet {
    private static let symbols = Array("abcdefghijklmnopqrstuvwxyz234567".utf8)

    /// 16 bytes → 26 characters of lower-case Base32 without padding.
    static func encode(_ bytes: [UInt8]) -> String {
        var output: [UInt8] = []
        var buffer: UInt32 = 0
        var bits = 0
        for byte in bytes {
            buffer = (buffer << 8) | UInt32(byte)
            bits += 8
            while bits >= 5 {
                bits -= 5
                output.append(symbols[Int((buffer >> UInt32(bits)) & 0x1F)])
            }
        }
        if bits > 0 { output.append(symbols[Int((buffer << UInt32(5 - bits)) & 0x1F)]) }
        return String(decoding: output, as: UTF8.self)
    }

    /// The bytes ``encode(_:)`` made `text` of; `nil` for another symbol, or for trailing bits
    /// that are not zero (so that every byte string has exactly one text).
    static func decode(_ text: String) -> [UInt8]? {
        var output: [UInt8] = []
        var buffer: UInt32 = 0
        var bits = 0
        for symbol in text.utf8 {
            let value: UInt32
            switch symbol {
            case UInt8(ascii: "a")...UInt8(ascii: "z"): value = UInt32(symbol - UInt8(ascii: "a"))
            case UInt8(ascii: "2")...UInt8(ascii: "7"): value = UInt32(symbol - UInt8(ascii: "2")) + 26
            default: return nil
            }
            buffer = (buffer << 5) | value
            bits += 5
            if bits >= 8 {
                bits -= 8
                output.append(UInt8(truncatingIfNeeded: buffer >> UInt32(bits)))
            }
            buffer &= (1 << UInt32(bits)) - 1
        }
        return buffer == 0 && bits < 5 ? output : nil
    }
}

/// An application (tenant): `app_…`.
public struct ApplicationID: PrefixedIdentifier {
    public static let prefix = "app_"
    public let rawValue: String
    public init(uncheckedRawValue: String) { rawValue = uncheckedRawValue }
}

/// A factor: `fac_…`.
public struct FactorID: PrefixedIdentifier {
    public static let prefix = "fac_"
    public let rawValue: String
    public init(uncheckedRawValue: String) { rawValue = uncheckedRawValue }
}

/// A user, as the application names them: 1 to 128 printable characters of UTF-8, counted as
/// Unicode scalars (code points), as JSON Schema's `maxLength` counts them.
///
/// Control and format characters, and leading or trailing white space, are refused: such an id
/// is a bug or an attack in the calling application, and would make logs and exports ambiguous.
public struct UserID: Hashable, Sendable, Codable, CustomStringConvertible, Comparable {
    public static let maximumLength = 128
    public let rawValue: String

    /// The id in Unicode Normalization Form C: `é` typed as one scalar or as `e` and a combining
    /// accent names the same user, as Swift's `==` already says, and both are stored with the
    /// same bytes (databases compare bytes).
    /// - Throws: `invalid_request` naming what is wrong with the id.
    public init(_ input: String) throws(TwofoldError) {
        let text = input.precomposedStringWithCanonicalMapping
        let count = text.unicodeScalars.count
        guard count >= 1 else { throw TwofoldError(.invalidRequest, "user_id is empty") }
        guard count <= Self.maximumLength, text.utf8.count <= Self.maximumLength * 4 else {
            throw TwofoldError(.invalidRequest, "user_id has \(count) characters; at most \(Self.maximumLength) are allowed")
        }
        for scalar in text.unicodeScalars {
            switch scalar.properties.generalCategory {
            case .control, .format, .surrogate, .privateUse, .unassigned, .lineSeparator, .paragraphSeparator:
                throw TwofoldError(.invalidRequest, "user_id contains the non-printable character U+\(String(scalar.value, radix: 16, uppercase: true))")
            default:
                continue
            }
        }
        guard let first = text.unicodeScalars.first, let last = text.unicodeScalars.last,
              !first.properties.isWhitespace, !last.properties.isWhitespace else {
            throw TwofoldError(.invalidRequest, "user_id must not start or end with white space")
        }
        rawValue = text
    }

    public var description: String { rawValue }
    public static func < (lhs: UserID, rhs: UserID) -> Bool { lhs.rawValue < rhs.rawValue }

    public init(from decoder: any Decoder) throws {
        let text = try decoder.singleValueContainer().decode(String.self)
        do {
            try self.init(text)
        } catch {
            throw DecodingError.dataCorrupted(.init(codingPath: decoder.codingPath, debugDescription: error.message))
        }
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(rawValue)
    }
}

/// An enrolled push device: `dev_…`. It names the device in the paths of its own requests.
public struct DeviceID: PrefixedIdentifier {
    public static let prefix = "dev_"
    public let rawValue: String
    public init(uncheckedRawValue: String) { rawValue = uncheckedRawValue }
}
