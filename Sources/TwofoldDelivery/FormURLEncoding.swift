/// `application/x-www-form-urlencoded`, as the WHATWG URL standard serialises it: bytes other
/// than ASCII letters, digits and `*-._` are percent-encoded, a space is `+`.
enum FormURLEncoding {
    /// `name=value&…` in the order given.
    static func encode(_ fields: [(String, String)]) -> String {
        fields.map { "\(encodeComponent($0.0))=\(encodeComponent($0.1))" }.joined(separator: "&")
    }

    /// Percent-encoding uses upper-case hex digits (RFC 3986 §2.1).
    private static let upperHex: [UInt8] = Array("0123456789ABCDEF".utf8)

    static func encodeComponent(_ text: String) -> String {
        var out: [UInt8] = []
        out.reserveCapacity(text.utf8.count)
        for byte in text.utf8 {
            switch byte {
            case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"),
                 UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "*"), UInt8(ascii: "-"), UInt8(ascii: "."), UInt8(ascii: "_"):
                out.append(byte)
            case UInt8(ascii: " "):
                out.append(UInt8(ascii: "+"))
            default:
                out.append(UInt8(ascii: "%"))
                out.append(upperHex[Int(byte >> 4)])
                out.append(upperHex[Int(byte & 0x0f)])
            }
        }
        return String(decoding: out, as: UTF8.self)
    }

    /// The fields of a form body, in order. Strict: every field has a `=` and a non-empty name,
    /// every `%` is followed by two hex digits, and the result is valid UTF-8; an empty body has
    /// no fields.
    ///
    /// - Returns: `nil` for a body that is not a form.
    static func decode(_ body: some Collection<UInt8>) -> [(String, String)]? {
        guard !body.isEmpty else { return [] }
        var fields: [(String, String)] = []
        for pair in body.split(separator: UInt8(ascii: "&"), omittingEmptySubsequences: false) {
            guard let equals = pair.firstIndex(of: UInt8(ascii: "=")),
                  let name = decodeComponent(pair[pair.startIndex..<equals]), !name.isEmpty,
                  let value = decodeComponent(pair[pair.index(after: equals)...]) else { return nil }
            fields.append((name, value))
        }
        return fields
    }

    static func decodeComponent(_ bytes: some Collection<UInt8>) -> String? {
        var out: [UInt8] = []
        out.reserveCapacity(bytes.count)
        var index = bytes.startIndex
        while index != bytes.endIndex {
            let byte = bytes[index]
            switch byte {
            case UInt8(ascii: "+"):
                out.append(UInt8(ascii: " "))
            case UInt8(ascii: "%"):
                let first = bytes.index(after: index)
                guard first != bytes.endIndex else { return nil }
                let second = bytes.index(after: first)
                guard second != bytes.endIndex, let high = Hex.value(bytes[first]), let low = Hex.value(bytes[second]) else { return nil }
                out.append(high << 4 | low)
                index = second
            default:
                out.append(byte)
            }
            index = bytes.index(after: index)
        }
        return String(validating: out, as: UTF8.self)
    }
}
