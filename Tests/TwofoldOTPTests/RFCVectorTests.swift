import Testing
@testable import TwofoldOTP

@Suite("RFC known-answer vectors")
struct RFCVectorTests {
    static let rfc4226Secret = try! OTPSecret(bytes: Array("12345678901234567890".utf8))

    // RFC 4226 Appendix D: truncated 31-bit values and 6-digit HOTP values for counters 0–9.
    static let rfc4226: [(counter: UInt64, truncated: UInt32, code: String)] = [
        (0, 1_284_755_224, "755224"),
        (1, 1_094_287_082, "287082"),
        (2, 137_359_152, "359152"),
        (3, 1_726_969_429, "969429"),
        (4, 1_640_338_314, "338314"),
        (5, 868_254_676, "254676"),
        (6, 1_918_287_922, "287922"),
        (7, 82_162_583, "162583"),
        (8, 673_399_871, "399871"),
        (9, 645_520_489, "520489"),
    ]

    @Test("HOTP matches RFC 4226 Appendix D", arguments: rfc4226)
    func hotpAppendixD(counter: UInt64, truncated: UInt32, code: String) throws {
        let hotp = try HOTP(secret: Self.rfc4226Secret)
        #expect(hotp.code(counter: counter) == code)
        #expect(PrecomputedHMAC(key: Self.rfc4226Secret.bytes, algorithm: .sha1).truncatedMAC(counter: counter) == truncated)
        #expect(try hotp.verify(code, counter: counter) == counter)
    }

    // RFC 6238 Appendix B. Each algorithm has its own seed: the 20-byte ASCII seed repeated to
    // the digest size (the errata trap — the appendix text says one seed, its code uses three).
    static let seeds: [OTPAlgorithm: [UInt8]] = [
        .sha1: Array("12345678901234567890".utf8),
        .sha256: Array("12345678901234567890123456789012".utf8),
        .sha512: Array("1234567890123456789012345678901234567890123456789012345678901234".utf8),
    ]

    static let rfc6238: [(time: UInt64, algorithm: OTPAlgorithm, code: String)] = [
        (59, .sha1, "94287082"), (59, .sha256, "46119246"), (59, .sha512, "90693936"),
        (1_111_111_109, .sha1, "07081804"), (1_111_111_109, .sha256, "68084774"), (1_111_111_109, .sha512, "25091201"),
        (1_111_111_111, .sha1, "14050471"), (1_111_111_111, .sha256, "67062674"), (1_111_111_111, .sha512, "99943326"),
        (1_234_567_890, .sha1, "89005924"), (1_234_567_890, .sha256, "91819424"), (1_234_567_890, .sha512, "93441116"),
        (2_000_000_000, .sha1, "69279037"), (2_000_000_000, .sha256, "90698825"), (2_000_000_000, .sha512, "38618901"),
        (20_000_000_000, .sha1, "65353130"), (20_000_000_000, .sha256, "77737706"), (20_000_000_000, .sha512, "47863826"),
    ]

    @Test("TOTP matches RFC 6238 Appendix B", arguments: rfc6238)
    func totpAppendixB(time: UInt64, algorithm: OTPAlgorithm, code: String) throws {
        let secret = try OTPSecret(bytes: Self.seeds[algorithm]!)
        let totp = try TOTP(secret: secret, algorithm: algorithm, digits: 8, period: 30)
        #expect(try totp.code(at: time) == code)
        #expect(try totp.verify(code, at: time, window: 0) == time / 30)
    }

    static let rfc4648: [(plain: String, encoded: String)] = [
        ("", ""),
        ("f", "MY======"),
        ("fo", "MZXQ===="),
        ("foo", "MZXW6==="),
        ("foob", "MZXW6YQ="),
        ("fooba", "MZXW6YTB"),
        ("foobar", "MZXW6YTBOI======"),
    ]

    @Test("Base32 matches RFC 4648 §10", arguments: rfc4648)
    func base32Section10(plain: String, encoded: String) throws {
        #expect(Base32.encode(Array(plain.utf8)) == encoded)
        #expect(try Base32.decode(encoded) == Array(plain.utf8))
        let unpadded = String(encoded.filter { $0 != "=" })
        #expect(Base32.encode(Array(plain.utf8), padding: false) == unpadded)
        #expect(try Base32.decode(unpadded.lowercased()) == Array(plain.utf8))
    }
}
