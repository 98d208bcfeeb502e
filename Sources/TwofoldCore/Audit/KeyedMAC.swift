import CTwofoldLibCrypto
import Crypto

/// HMAC-SHA256 under one fixed key, over length-prefixed fields (the framing of
/// ``Envelope/associatedData(_:)``), with the key schedule done once.
///
/// Why: every audit event costs several MACs (the event's, the shard head's tag, the user's
/// pseudonym and shard) on the store's single writer. Here the hash states after the key blocks
/// (K ⊕ ipad, K ⊕ opad; RFC 2104) are computed once, a MAC starts from a copy of them on the
/// stack, and the fields go straight into the hash without being joined into a buffer first:
/// no allocation but the result.
struct KeyedMAC: Sendable {
    private let inner: SHA256_CTX
    private let outer: SHA256_CTX

    init(key: SymmetricKey) {
        var block = [UInt8](repeating: 0, count: 64)
        key.withUnsafeBytes { bytes in
            if bytes.count > 64 {
                block.withUnsafeMutableBufferPointer { _ = SHA256(bytes.baseAddress, bytes.count, $0.baseAddress) }
            } else {
                block.replaceSubrange(0..<bytes.count, with: bytes)
            }
        }
        var inner = SHA256_CTX()
        var outer = SHA256_CTX()
        SHA256_Init(&inner)
        SHA256_Init(&outer)
        let innerPad = block.map { $0 ^ 0x36 }
        let outerPad = block.map { $0 ^ 0x5c }
        SHA256_Update(&inner, innerPad, 64)
        SHA256_Update(&outer, outerPad, 64)
        self.inner = inner
        self.outer = outer
    }

    /// The 32-byte MAC of `parts`, framed exactly as ``Envelope/associatedData(_:)`` frames them.
    func authenticate(_ parts: [String]) -> [UInt8] {
        var context = inner
        Envelope.domain.withUnsafeBufferPointer { _ = SHA256_Update(&context, $0.baseAddress, $0.count) }
        for var part in parts {
            part.withUTF8 { bytes in
                var length = UInt32(bytes.count).bigEndian
                _ = SHA256_Update(&context, &length, 4)
                _ = SHA256_Update(&context, bytes.baseAddress, bytes.count)
            }
        }
        var digest = [UInt8](repeating: 0, count: 32)
        digest.withUnsafeMutableBufferPointer { output in
            _ = SHA256_Final(output.baseAddress, &context)
            var outerContext = outer
            _ = SHA256_Update(&outerContext, output.baseAddress, 32)
            _ = SHA256_Final(output.baseAddress, &outerContext)
        }
        return digest
    }
}
