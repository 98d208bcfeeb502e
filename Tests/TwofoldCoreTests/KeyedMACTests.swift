import Crypto
import Testing
@testable import TwofoldCore

/// The audit chain's precomputed HMAC must give exactly what HMAC-SHA256 over the framed fields
/// gives, or every chain written before (and every pseudonym) would stop verifying.
@Suite("Keyed MAC")
struct KeyedMACTests {
    @Test("matches swift-crypto's HMAC-SHA256 over the framed fields, for short, block-sized and long keys",
          arguments: [1, 16, 32, 63, 64, 65, 100, 200])
    func matchesHMAC(keyLength: Int) {
        var generator = SystemRandomNumberGenerator()
        let key = SymmetricKey(data: (0..<keyLength).map { _ in UInt8.random(in: 0...255, using: &generator) })
        let mac = KeyedMAC(key: key)
        let fieldLists: [[String]] = [
            [], [""], ["event", "7", "42"], ["ab", "c"], ["a", "bc"], ["héllo", "𝄞", String(repeating: "x", count: 300)],
        ]
        for fields in fieldLists {
            let expected = Array(HMAC<SHA256>.authenticationCode(for: Envelope.associatedData(fields), using: key))
            #expect(mac.authenticate(fields) == expected, "fields \(fields)")
        }
        // The framing keeps field boundaries: ("ab", "c") and ("a", "bc") differ.
        #expect(mac.authenticate(["ab", "c"]) != mac.authenticate(["a", "bc"]))
    }
}
