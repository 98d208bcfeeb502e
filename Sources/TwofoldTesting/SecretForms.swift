import Foundation
import TwofoldOTP

/// Every way a secret's bytes could be written out, for tests that say a secret never appears:
/// searching for one encoding of it (or for its sealed form) proves nothing about the others.
public enum SecretForms {
    /// Base32 (upper and lower case, with and without padding), base64 (standard and URL-safe,
    /// with and without padding), hex (lower and upper case), and the bytes as decimal lists
    /// (`[1, 2, 3]` as Swift prints them, `[1,2,3]` as JSON writes them).
    public static func texts(of bytes: [UInt8]) -> [String] {
        let base32 = Base32.encode(bytes, padding: true)
        let base64 = Data(bytes).base64EncodedString()
        let base64URL = base64.replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_")
        let hex = bytes.map { String(format: "%02x", $0) }.joined()
        let forms = [
            base32, base32.lowercased(), Base32.encode(bytes, padding: false), Base32.encode(bytes, padding: false).lowercased(),
            base64, base64.trimmingCharacters(in: ["="]), base64URL, base64URL.trimmingCharacters(in: ["="]),
            hex, hex.uppercased(),
            "\(bytes)", "[" + bytes.map(String.init).joined(separator: ",") + "]",
        ]
        return Array(Set(forms)).sorted()
    }

    /// The forms of `bytes` found in `haystack`, the raw bytes themselves included (named `raw`).
    public static func found(_ bytes: [UInt8], in haystack: [UInt8]) -> [String] {
        let text = String(decoding: haystack, as: UTF8.self)
        var found = texts(of: bytes).filter { text.contains($0) }
        if !bytes.isEmpty, haystack.count >= bytes.count,
           (0...(haystack.count - bytes.count)).contains(where: { haystack[$0..<($0 + bytes.count)].elementsEqual(bytes) }) {
            found.append("raw")
        }
        return found
    }
}
