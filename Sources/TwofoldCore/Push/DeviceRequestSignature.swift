import Crypto
import Foundation

/// The signature every push device request carries: `Twofold-Timestamp: <unix seconds>` and
/// `Twofold-Signature: <Base64 of the DER ECDSA P-256 SHA-256 signature>` over the UTF-8 text
/// `<METHOD>\n<path>\n<timestamp>\n<hex SHA-256 of the body>` (the path as requested, query
/// included; an empty body for GET).
///
/// The device's key, the timestamp window and the replay digest together make a captured
/// request worthless: it cannot be sent to another path or with another body, it is refused
/// after five minutes, and within them its signature is remembered.
public enum DeviceRequestSignature {
    public static let timestampHeader = "Twofold-Timestamp"
    public static let signatureHeader = "Twofold-Signature"
    /// How far a request's timestamp may be from the server's clock, either way.
    public static let window: TimeInterval = 300

    /// The text a device signs.
    public static func message(method: String, path: String, timestamp: String, body: [UInt8]) -> [UInt8] {
        let bodyHash = SHA256.hash(data: body).map { String(format: "%02x", $0) }.joined()
        return Array("\(method.uppercased())\n\(path)\n\(timestamp)\n\(bodyHash)".utf8)
    }

    /// The two headers' values for a request signed by `key` at `date` (the device's side).
    public static func sign(method: String, path: String, body: [UInt8], at date: Date,
                            with key: P256.Signing.PrivateKey) throws -> (timestamp: String, signature: String) {
        let timestamp = String(Int64(date.timeIntervalSince1970.rounded(.down)))
        let signature = try key.signature(for: message(method: method, path: path, timestamp: timestamp, body: body))
        return (timestamp, signature.derRepresentation.base64EncodedString())
    }

    /// Checks a request against the device's public key (SPKI DER).
    /// - Returns: the digest that identifies this signature for replay refusal: the same for
    ///   every encoding of one signature (DER variants, and `s` or `n - s`, which verify alike).
    /// - Throws: `unauthorized` saying which part is missing, malformed, stale or wrong.
    public static func verify(method: String, path: String, body: [UInt8], timestamp: String?, signature: String?,
                              publicKey: [UInt8], deviceID: DeviceID, now: Date) throws(TwofoldError) -> [UInt8] {
        guard let timestamp, let signature else {
            throw TwofoldError(.unauthorized, "device requests carry \(timestampHeader) and \(signatureHeader)")
        }
        guard (1...12).contains(timestamp.utf8.count), timestamp.utf8.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }),
              let seconds = Int64(timestamp) else {
            throw TwofoldError(.unauthorized, "\(timestampHeader) must be Unix seconds")
        }
        guard abs(Double(seconds) - now.timeIntervalSince1970) <= window else {
            throw TwofoldError(.unauthorized, "\(timestampHeader) is more than \(Int(window)) seconds from the server's clock")
        }
        guard signature.utf8.count <= 200, let der = Data(base64Encoded: signature),
              let parsed = try? P256.Signing.ECDSASignature(derRepresentation: der) else {
            throw TwofoldError(.unauthorized, "\(signatureHeader) is not a Base64 DER ECDSA signature")
        }
        guard let key = try? P256.Signing.PublicKey(derRepresentation: publicKey) else {
            throw TwofoldError(.unauthorized, "the device's stored key is not a P-256 key")
        }
        guard key.isValidSignature(parsed, for: message(method: method, path: path, timestamp: timestamp, body: body)) else {
            throw TwofoldError(.unauthorized, "\(signatureHeader) does not verify with the device's key")
        }
        let raw = Array(parsed.rawRepresentation)
        var digest = SHA256()
        digest.update(data: Array("twofold device signature v1\u{0}\(deviceID.rawValue)\u{0}".utf8))
        digest.update(data: raw[0..<32])
        digest.update(data: P256Order.lowS(Array(raw[32..<64])))
        return Array(digest.finalize())
    }
}

/// The order n of P-256's group, and the low form of an ECDSA `s`: (r, s) and (r, n − s) are
/// both valid signatures of one message, so a replay check must treat them as one.
enum P256Order {
    static let n: [UInt8] = [
        0xFF, 0xFF, 0xFF, 0xFF, 0x00, 0x00, 0x00, 0x00, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF,
        0xBC, 0xE6, 0xFA, 0xAD, 0xA7, 0x17, 0x9E, 0x84, 0xF3, 0xB9, 0xCA, 0xC2, 0xFC, 0x63, 0x25, 0x51,
    ]

    /// min(s, n − s) for a 32-byte big-endian `s` in 1..<n.
    static func lowS(_ s: [UInt8]) -> [UInt8] {
        let other = subtract(n, s)
        return s.lexicographicallyPrecedes(other) || s == other ? s : other
    }

    /// a − b for 32-byte big-endian numbers with a ≥ b.
    static func subtract(_ a: [UInt8], _ b: [UInt8]) -> [UInt8] {
        var result = [UInt8](repeating: 0, count: 32)
        var borrow = 0
        for index in stride(from: 31, through: 0, by: -1) {
            var value = Int(a[index]) - Int(b[index]) - borrow
            borrow = value < 0 ? 1 : 0
            if value < 0 { value += 256 }
            result[index] = UInt8(value)
        }
        return result
    }
}
