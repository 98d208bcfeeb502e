/// RFC 4648 §6 Base32, as authenticator apps and people write it.
///
/// Decoding is forgiving where people are (lower case, spaces, hyphens, missing padding) and
/// strict where a mistake would silently change the key (invalid characters, impossible lengths,
/// padding in the middle).
public enum Base32 {
    private static let alphabet: [UInt8] = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZ234567".utf8)

    /// Encodes bytes as upper-case Base32.
    /// - Parameter padding: whether to append `=` to a multiple of 8 characters. `otpauth://`
    ///   URIs leave it out.
    public static func encode(_ bytes: some Collection<UInt8>, padding: Bool = true) -> String {
        var output: [UInt8] = []
        output.reserveCapacity((bytes.count + 4) / 5 * 8)
        var buffer: UInt64 = 0
        var bits = 0
        for byte in bytes {
            buffer = (buffer << 8) | UInt64(byte)
            bits += 8
            while bits >= 5 {
                bits -= 5
                output.append(alphabet[Int((buffer >> UInt64(bits)) & 0x1F)])
            }
        }
        if bits > 0 {
            output.append(alphabet[Int((buffer << UInt64(5 - bits)) & 0x1F)])
        }
        if padding {
            while output.count % 8 != 0 { output.append(UInt8(ascii: "=")) }
        }
        return String(decoding: output, as: UTF8.self)
    }

    /// Decodes Base32 text.
    ///
    /// Accepts lower case, and ignores spaces, tabs, line breaks and hyphens anywhere.
    /// Padding is optional, but where present it must only end the text.
    /// - Throws: ``OTPError`` with code `invalid_base32` naming the offending character, or
    ///   the length, when the text cannot be Base32 (a length of 1, 3 or 6 modulo 8 leaves
    ///   bits that make no whole byte).
    public static func decode(_ text: String) throws(OTPError) -> [UInt8] {
        var output: [UInt8] = []
        output.reserveCapacity(text.utf8.count * 5 / 8)
        var buffer: UInt64 = 0
        var bits = 0
        var symbols = 0
        var paddingSeen = false
        for scalar in text.unicodeScalars {
            switch scalar {
            case " ", "\t", "\n", "\r", "-":
                continue
            case "=":
                paddingSeen = true
                continue
            default:
                break
            }
            guard let value = Self.value(of: scalar) else {
                throw OTPError(.invalidBase32, "invalid Base32 character \"\(scalar.escaped(asASCII: true))\": use A–Z and 2–7")
            }
            if paddingSeen {
                throw OTPError(.invalidBase32, "invalid Base32: padding \"=\" may only end the text")
            }
            symbols += 1
            buffer = (buffer << 5) | UInt64(value)
            bits += 5
            if bits >= 8 {
                bits -= 8
                output.append(UInt8(truncatingIfNeeded: buffer >> UInt64(bits)))
                buffer &= (1 << UInt64(bits)) - 1
            }
        }
        switch symbols % 8 {
        case 1, 3, 6:
            throw OTPError(.invalidBase32, "invalid Base32 length: \(symbols) characters cannot encode whole bytes (is a character missing?)")
        default:
            return output
        }
    }

    private static func value(of scalar: Unicode.Scalar) -> UInt8? {
        switch scalar.value {
        case 0x41...0x5A: UInt8(scalar.value - 0x41)  // A-Z
        case 0x61...0x7A: UInt8(scalar.value - 0x61)  // a-z
        case 0x32...0x37: UInt8(scalar.value - 0x32 + 26)  // 2-7
        default: nil
        }
    }
}
