/// Recovery codes: 12 symbols from an alphabet without look-alikes (no 0/o, 1/l/i), shown
/// grouped as `k7pq-2mzt-x9wd`. 31 symbols × 12 positions ≈ 59 bits of entropy each.
enum RecoveryCodes {
    static let alphabet = Array("23456789abcdefghjkmnpqrstuvwxyz".utf8)
    static let length = 12
    static let count = 10

    /// A new code, drawn by rejection sampling so every symbol is equally likely.
    static func generate(using random: any RandomSource) -> String {
        var symbols: [UInt8] = []
        while symbols.count < length {
            for byte in random.bytes(length * 2) where symbols.count < length {
                // 248 = 8 × 31: bytes at or above it would bias the first symbols.
                if byte < 248 { symbols.append(alphabet[Int(byte % 31)]) }
            }
        }
        let text = String(decoding: symbols, as: UTF8.self)
        let characters = Array(text)
        return [0, 4, 8].map { String(characters[$0..<$0 + 4]) }.joined(separator: "-")
    }

    /// The canonical form of typed input (lower case, no hyphens or spaces), or `nil` when it
    /// cannot be a recovery code.
    static func normalize(_ input: String) -> String? {
        var output: [UInt8] = []
        for byte in input.utf8 {
            if byte == UInt8(ascii: "-") || byte == UInt8(ascii: " ") { continue }
            let lower = (byte >= UInt8(ascii: "A") && byte <= UInt8(ascii: "Z")) ? byte + 32 : byte
            guard alphabet.contains(lower), output.count < length else { return nil }
            output.append(lower)
        }
        guard output.count == length else { return nil }
        return String(decoding: output, as: UTF8.self)
    }
}
