import Crypto
import _CryptoExtras

/// AES-CBC decryption of an XML Encryption `CipherValue`: a 16-byte IV, then whole blocks,
/// padded as PKCS #7 (XML Encryption §5.2's padding is the same for full-length padding).
enum AESCBC {
    /// Whether `value` can be an IV followed by at least one whole block.
    static func hasValidShape(_ value: [UInt8]) -> Bool {
        value.count >= 32 && value.count % 16 == 0
    }

    /// Decrypts `value` (IV ‖ ciphertext) under `key` and removes the padding.
    /// - Returns: the plaintext, or `nil` when the padding is not PKCS #7 (a wrong key, in
    ///   practice). Callers check the value's MAC first, so a padding failure there is no
    ///   oracle; where there is no MAC (the MAC key itself) the file is offline and the
    ///   attacker is the file's author.
    /// - Precondition: `hasValidShape(value)` and a 16-, 24- or 32-byte key.
    static func decrypt(_ value: [UInt8], key: [UInt8]) -> [UInt8]? {
        precondition(hasValidShape(value) && [16, 24, 32].contains(key.count))
        let padded: [UInt8]
        do {
            let iv = try AES._CBC.IV(ivBytes: value[..<16])
            padded = try [UInt8](AES._CBC.decrypt(value[16...], using: SymmetricKey(data: key), iv: iv, noPadding: true))
        } catch {
            // Only a wrong IV or key size or a partial block fail, and the precondition rules
            // those out; treat it as an unreadable value all the same.
            return nil
        }
        return removePadding(padded)
    }

    /// `padded` without its PKCS #7 padding: 1 to 16 bytes, each holding the count.
    static func removePadding(_ padded: [UInt8]) -> [UInt8]? {
        guard let last = padded.last, (1...16).contains(last), Int(last) <= padded.count else { return nil }
        var difference: UInt8 = 0
        for byte in padded.suffix(Int(last)) { difference |= byte ^ last }
        guard difference == 0 else { return nil }
        return Array(padded.dropLast(Int(last)))
    }
}
