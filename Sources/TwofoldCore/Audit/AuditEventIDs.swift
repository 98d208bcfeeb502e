import Crypto
import Foundation

/// The ids audit events are shown with (`evt_…`): the store's sequential id, encrypted under a
/// deployment key. An application pages through its own events with them, but cannot count
/// from the gaps between them how much every other application did.
///
/// Deterministic (the nonce is a MAC of the id), so an event keeps its id across pages and
/// tools; authenticated, so a made-up id is refused rather than read as another position.
public struct AuditEventIDs: Sendable {
    private let nonceKey: SymmetricKey
    private let sealingKey: SymmetricKey

    init(key: SymmetricKey) {
        nonceKey = HKDF<SHA256>.deriveKey(inputKeyMaterial: key, info: Array("twofold audit ids nonce v1".utf8), outputByteCount: 32)
        sealingKey = HKDF<SHA256>.deriveKey(inputKeyMaterial: key, info: Array("twofold audit ids seal v1".utf8), outputByteCount: 16)
    }

    /// From the key's bytes (tools and tests that hold the system key).
    public init(keyBytes: [UInt8]) {
        self.init(key: SymmetricKey(data: keyBytes))
    }

    static let prefix = "evt_"
    /// 12 bytes of nonce, 8 of id, 16 of tag: 58 characters of Base32.
    static let length = prefix.utf8.count + 58

    /// The id shown for the event stored with `id`.
    public func token(_ id: Int64) -> String {
        var plain = [UInt8](repeating: 0, count: 8)
        for index in 0..<8 { plain[index] = UInt8(truncatingIfNeeded: UInt64(bitPattern: id) >> (56 - 8 * UInt64(index))) }
        let nonceBytes = Array(HMAC<SHA256>.authenticationCode(for: plain, using: nonceKey).prefix(12))
        // A 12-byte nonce and a 16-byte key always seal.
        let sealed = try! AES.GCM.seal(plain, using: sealingKey, nonce: try! AES.GCM.Nonce(data: nonceBytes))
        return Self.prefix + IdentifierAlphabet.encode(nonceBytes + Array(sealed.ciphertext) + Array(sealed.tag))
    }

    /// The stored id behind a shown one; `nil` for anything this deployment did not show.
    public func id(_ token: String) -> Int64? {
        guard token.utf8.count == Self.length, token.hasPrefix(Self.prefix),
              let bytes = IdentifierAlphabet.decode(String(token.dropFirst(Self.prefix.count))), bytes.count == 36,
              let nonce = try? AES.GCM.Nonce(data: bytes[0..<12]),
              let box = try? AES.GCM.SealedBox(nonce: nonce, ciphertext: bytes[12..<20], tag: bytes[20..<36]),
              let plain = try? AES.GCM.open(box, using: sealingKey), plain.count == 8 else { return nil }
        let id = Int64(bitPattern: plain.reduce(UInt64(0)) { $0 << 8 | UInt64($1) })
        return id > 0 ? id : nil
    }
}
