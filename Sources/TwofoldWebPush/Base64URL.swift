/// RFC 4648 §5 Base64URL, as Web Push writes keys (`p256dh`, `auth`, the VAPID public key) and
/// JWTs: `-` and `_` instead of `+` and `/`, no padding.
///
/// Decoding accepts text with or without padding, but nothing else: a `+`, `/`, space or
/// non-canonical final character is refused, so that one key has exactly one spelling.
public enum Base64URL {
    private static let alphabet: [UInt8] = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_".utf8)

    /// Encodes bytes without padding.
    public static func encode(_ bytes: some Collection<UInt8>) -> String {
        var output: [UInt8] = []
        output.reserveCapacity((bytes.count * 4 + 2) / 3)
        var buffer: UInt32 = 0
        var bits = 0
        for byte in bytes {
            buffer = (buffer << 8) | UInt32(byte)
            bits += 8
            while bits >= 6 {
                bits -= 6
                output.append(alphabet[Int((buffer >> UInt32(bits)) & 0x3F)])
            }
        }
        if bits > 0 {
            output.append(alphabet[Int((buffer << UInt32(6 - bits)) & 0x3F)])
        }
        return String(decoding: output, as: UTF8.self)
    }

    /// Decodes Base64URL text, padded or not.
    ///
    /// - Throws: ``WebPushError`` `invalid_base64url` naming the offending character or the
    ///   impossible length (1 modulo 4), for padding that is wrong or not at the end, and for
    ///   a last character whose unused bits are not zero.
    public static func decode(_ text: String) throws(WebPushError) -> [UInt8] {
        var symbols = Array(text.utf8)
        var padding = 0
        while symbols.last == UInt8(ascii: "=") {
            symbols.removeLast()
            padding += 1
        }
        if padding > 0, padding > 2 || (symbols.count + padding) % 4 != 0 {
            throw WebPushError(.invalidBase64URL, "Base64URL padding must make the text a multiple of 4 characters")
        }
        guard symbols.count % 4 != 1 else {
            throw WebPushError(.invalidBase64URL, "\(symbols.count) Base64URL characters cannot encode whole bytes")
        }
        var output: [UInt8] = []
        output.reserveCapacity(symbols.count * 3 / 4)
        var buffer: UInt32 = 0
        var bits = 0
        for symbol in symbols {
            guard let value = Self.value(of: symbol) else {
                let shown = symbol < 0x80 ? String(UnicodeScalar(symbol).escaped(asASCII: true)) : "non-ASCII byte"
                throw WebPushError(.invalidBase64URL, "invalid Base64URL character \"\(shown)\": use A–Z, a–z, 0–9, - and _")
            }
            buffer = (buffer << 6) | UInt32(value)
            bits += 6
            if bits >= 8 {
                bits -= 8
                output.append(UInt8(truncatingIfNeeded: buffer >> UInt32(bits)))
            }
        }
        guard buffer & ((1 << UInt32(bits)) - 1) == 0 else {
            throw WebPushError(.invalidBase64URL, "the last Base64URL character has bits set that encode no byte")
        }
        return output
    }

    private static func value(of symbol: UInt8) -> UInt8? {
        switch symbol {
        case UInt8(ascii: "A")...UInt8(ascii: "Z"): symbol - UInt8(ascii: "A")
        case UInt8(ascii: "a")...UInt8(ascii: "z"): symbol - UInt8(ascii: "a") + 26
        case UInt8(ascii: "0")...UInt8(ascii: "9"): symbol - UInt8(ascii: "0") + 52
        case UInt8(ascii: "-"): 62
        case UInt8(ascii: "_"): 63
        default: nil
        }
    }
}
