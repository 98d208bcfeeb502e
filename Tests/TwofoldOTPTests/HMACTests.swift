import Crypto
import Testing
import TwofoldTesting
@testable import TwofoldOTP

@Suite("Precomputed HMAC agrees with swift-crypto")
struct HMACTests {
    /// RFC 4226 §5.3 dynamic truncation, written out from the full MAC for comparison.
    static func truncate(_ mac: [UInt8]) -> UInt32 {
        let offset = Int(mac[mac.count - 1] & 0x0F)
        return (UInt32(mac[offset]) << 24 | UInt32(mac[offset + 1]) << 16
            | UInt32(mac[offset + 2]) << 8 | UInt32(mac[offset + 3])) & 0x7FFF_FFFF
    }

    static func referenceMAC(key: [UInt8], counter: UInt64, algorithm: OTPAlgorithm) -> [UInt8] {
        let message = withUnsafeBytes(of: counter.bigEndian) { Array($0) }
        let symmetricKey = SymmetricKey(data: key)
        switch algorithm {
        case .sha1: return Array(HMAC<Insecure.SHA1>.authenticationCode(for: message, using: symmetricKey))
        case .sha256: return Array(HMAC<SHA256>.authenticationCode(for: message, using: symmetricKey))
        case .sha512: return Array(HMAC<SHA512>.authenticationCode(for: message, using: symmetricKey))
        }
    }

    @Test("random keys of every length from 1 to 200 bytes, including keys longer than a block",
          arguments: OTPAlgorithm.allCases)
    func randomKeys(algorithm: OTPAlgorithm) {
        var random = SeededGenerator(seed: 0x2F01D + UInt64(algorithm.digestSize))
        for length in 1...200 {
            let key = (0..<length).map { _ in UInt8.random(in: 0...255, using: &random) }
            let hmac = PrecomputedHMAC(key: key, algorithm: algorithm)
            for counter in [0, 1, UInt64.random(in: 0...UInt64.max, using: &random), UInt64.max] {
                let expected = Self.truncate(Self.referenceMAC(key: key, counter: counter, algorithm: algorithm))
                #expect(hmac.truncatedMAC(counter: counter) == expected, "key length \(length), counter \(counter)")
            }
        }
    }
}
