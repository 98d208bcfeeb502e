import CTwofoldLibCrypto

/// HMAC with the inner and outer hash states computed once per key (RFC 2104 §4).
///
/// HMAC(K, m) = H((K ⊕ opad) ‖ H((K ⊕ ipad) ‖ m)). The first block of each hash depends on the
/// key alone, so it is absorbed here, once. An OTP message is an 8-byte counter, which with its
/// padding fills one block; the inner digest with its padding fills one more. A code therefore
/// costs exactly two compression-function calls, on the stack, with no allocation.
///
/// The compression functions come from the system libcrypto, which uses the CPU's SHA
/// extensions where present.
struct PrecomputedHMAC: Sendable {
    enum State: Sendable {
        case sha1(inner: SHA_CTX, outer: SHA_CTX)
        case sha256(inner: SHA256_CTX, outer: SHA256_CTX)
        case sha512(inner: SHA512_CTX, outer: SHA512_CTX)
    }

    let state: State

    init(key: [UInt8], algorithm: OTPAlgorithm) {
        switch algorithm {
        case .sha1:
            let (inner, outer) = Self.keyedStates(
                key, blockSize: 64, digestSize: 20, empty: SHA_CTX(),
                digest: { SHA1($0, $1, $2) }, initialize: { SHA1_Init($0) }, update: { SHA1_Update($0, $1, $2) })
            state = .sha1(inner: inner, outer: outer)
        case .sha256:
            let (inner, outer) = Self.keyedStates(
                key, blockSize: 64, digestSize: 32, empty: SHA256_CTX(),
                digest: { SHA256($0, $1, $2) }, initialize: { SHA256_Init($0) }, update: { SHA256_Update($0, $1, $2) })
            state = .sha256(inner: inner, outer: outer)
        case .sha512:
            let (inner, outer) = Self.keyedStates(
                key, blockSize: 128, digestSize: 64, empty: SHA512_CTX(),
                digest: { SHA512($0, $1, $2) }, initialize: { SHA512_Init($0) }, update: { SHA512_Update($0, $1, $2) })
            state = .sha512(inner: inner, outer: outer)
        }
    }

    /// The hash states after absorbing the key block XOR ipad (inner) and XOR opad (outer).
    /// RFC 2104 §2: a key longer than the block is hashed first; the key is then padded with
    /// zeros to the block size.
    private static func keyedStates<Context>(
        _ key: [UInt8],
        blockSize: Int,
        digestSize: Int,
        empty: Context,
        digest: (UnsafePointer<UInt8>?, Int, UnsafeMutablePointer<UInt8>?) -> UnsafeMutablePointer<UInt8>?,
        initialize: (UnsafeMutablePointer<Context>) -> Int32,
        update: (UnsafeMutablePointer<Context>, UnsafeRawPointer?, Int) -> Int32
    ) -> (inner: Context, outer: Context) {
        var block = [UInt8](repeating: 0, count: blockSize)
        if key.count > blockSize {
            var hashed = [UInt8](repeating: 0, count: digestSize)
            _ = hashed.withUnsafeMutableBufferPointer { output in digest(key, key.count, output.baseAddress) }
            block.replaceSubrange(0..<digestSize, with: hashed)
        } else {
            block.replaceSubrange(0..<key.count, with: key)
        }
        func absorbed(_ pad: UInt8) -> Context {
            var context = empty
            _ = initialize(&context)
            let padded = block.map { $0 ^ pad }
            _ = padded.withUnsafeBytes { update(&context, $0.baseAddress, $0.count) }
            return context
        }
        return (absorbed(0x36), absorbed(0x5C))
    }

    /// HMAC of the 8-byte big-endian `counter`, dynamically truncated to 31 bits (RFC 4226 §5.3).
    func truncatedMAC(counter: UInt64) -> UInt32 {
        switch state {
        case .sha1(var inner, var outer):
            // Inner: counter ‖ 0x80 ‖ zeros ‖ bit length of (ipad block + 8 bytes).
            var block = SHA2Block64()
            block.words.0 = UInt32(truncatingIfNeeded: counter >> 32).bigEndian
            block.words.1 = UInt32(truncatingIfNeeded: counter).bigEndian
            block.words.2 = UInt32(0x8000_0000).bigEndian
            block.words.15 = UInt32((64 + 8) * 8).bigEndian
            block.transform { SHA1_Transform(&inner, $0) }
            // Outer: inner digest ‖ 0x80 ‖ zeros ‖ bit length of (opad block + 20 bytes).
            block = SHA2Block64()
            block.words.0 = inner.h0.bigEndian
            block.words.1 = inner.h1.bigEndian
            block.words.2 = inner.h2.bigEndian
            block.words.3 = inner.h3.bigEndian
            block.words.4 = inner.h4.bigEndian
            block.words.5 = UInt32(0x8000_0000).bigEndian
            block.words.15 = UInt32((64 + 20) * 8).bigEndian
            block.transform { SHA1_Transform(&outer, $0) }
            return Self.truncate32((outer.h0, outer.h1, outer.h2, outer.h3, outer.h4, 0, 0, 0), digestBytes: 20)
        case .sha256(var inner, var outer):
            var block = SHA2Block64()
            block.words.0 = UInt32(truncatingIfNeeded: counter >> 32).bigEndian
            block.words.1 = UInt32(truncatingIfNeeded: counter).bigEndian
            block.words.2 = UInt32(0x8000_0000).bigEndian
            block.words.15 = UInt32((64 + 8) * 8).bigEndian
            block.transform { SHA256_Transform(&inner, $0) }
            block = SHA2Block64()
            let h = inner.h
            block.words.0 = h.0.bigEndian
            block.words.1 = h.1.bigEndian
            block.words.2 = h.2.bigEndian
            block.words.3 = h.3.bigEndian
            block.words.4 = h.4.bigEndian
            block.words.5 = h.5.bigEndian
            block.words.6 = h.6.bigEndian
            block.words.7 = h.7.bigEndian
            block.words.8 = UInt32(0x8000_0000).bigEndian
            block.words.15 = UInt32((64 + 32) * 8).bigEndian
            block.transform { SHA256_Transform(&outer, $0) }
            return Self.truncate32(outer.h, digestBytes: 32)
        case .sha512(var inner, var outer):
            // 128-byte blocks with a 128-bit length field.
            var block = SHA512Block()
            block.words.0 = counter.bigEndian
            block.words.1 = UInt64(0x8000_0000_0000_0000).bigEndian
            block.words.15 = UInt64((128 + 8) * 8).bigEndian
            block.transform { SHA512_Transform(&inner, $0) }
            block = SHA512Block()
            let h = inner.h
            block.words.0 = h.0.bigEndian
            block.words.1 = h.1.bigEndian
            block.words.2 = h.2.bigEndian
            block.words.3 = h.3.bigEndian
            block.words.4 = h.4.bigEndian
            block.words.5 = h.5.bigEndian
            block.words.6 = h.6.bigEndian
            block.words.7 = h.7.bigEndian
            block.words.8 = UInt64(0x8000_0000_0000_0000).bigEndian
            block.words.15 = UInt64((128 + 64) * 8).bigEndian
            block.transform { SHA512_Transform(&outer, $0) }
            return Self.truncate64(outer.h)
        }
    }

    /// Dynamic truncation over a digest held as big-endian 32-bit words: the low nibble of
    /// the last byte picks the offset of 4 bytes, whose top bit is then cleared.
    static func truncate32(
        _ h: (UInt32, UInt32, UInt32, UInt32, UInt32, UInt32, UInt32, UInt32),
        digestBytes: Int
    ) -> UInt32 {
        let last = digestBytes == 20 ? h.4 : h.7
        let offset = Int(last & 0x0F)
        let wordIndex = offset >> 2
        let shift = UInt64((offset & 3) * 8)
        let pair = withUnsafeBytes(of: h) { raw -> UInt64 in
            let hi = raw.load(fromByteOffset: wordIndex * 4, as: UInt32.self)
            let lo = raw.load(fromByteOffset: (wordIndex + 1) * 4, as: UInt32.self)
            return UInt64(hi) << 32 | UInt64(lo)
        }
        return UInt32(truncatingIfNeeded: (pair << shift) >> 32) & 0x7FFF_FFFF
    }

    static func truncate64(_ h: (UInt64, UInt64, UInt64, UInt64, UInt64, UInt64, UInt64, UInt64)) -> UInt32 {
        let offset = Int(h.7 & 0x0F)
        let wordIndex = offset >> 3
        let shift = (offset & 7) * 8
        let (hi, lo) = withUnsafeBytes(of: h) { raw in
            (raw.load(fromByteOffset: wordIndex * 8, as: UInt64.self),
             raw.load(fromByteOffset: (wordIndex + 1) * 8, as: UInt64.self))
        }
        let window = shift == 0 ? hi : (hi << UInt64(shift)) | (lo >> UInt64(64 - shift))
        return UInt32(truncatingIfNeeded: window >> 32) & 0x7FFF_FFFF
    }
}

/// One 64-byte message block on the stack (SHA-1 and SHA-256).
struct SHA2Block64 {
        var words: (
        UInt32, UInt32, UInt32, UInt32, UInt32, UInt32, UInt32, UInt32,
        UInt32, UInt32, UInt32, UInt32, UInt32, UInt32, UInt32, UInt32
    ) = (0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0)

    init() {}

    mutating func transform(_ body: (UnsafePointer<UInt8>) -> Void) {
        withUnsafeBytes(of: &words) { body($0.baseAddress!.assumingMemoryBound(to: UInt8.self)) }
    }
}

/// One 128-byte message block on the stack (SHA-512).
struct SHA512Block {
        var words: (
        UInt64, UInt64, UInt64, UInt64, UInt64, UInt64, UInt64, UInt64,
        UInt64, UInt64, UInt64, UInt64, UInt64, UInt64, UInt64, UInt64
    ) = (0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0)

    init() {}

    mutating func transform(_ body: (UnsafePointer<UInt8>) -> Void) {
        withUnsafeBytes(of: &words) { body($0.baseAddress!.assumingMemoryBound(to: UInt8.self)) }
    }
}
