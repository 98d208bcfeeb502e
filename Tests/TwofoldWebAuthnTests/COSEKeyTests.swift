import Crypto
import Testing
@testable import TwofoldWebAuthn

@Suite("COSE keys")
struct COSEKeyTests {
    static func error(_ key: CBORValue) -> WebAuthnError? {
        webAuthnError { () throws(WebAuthnError) in try VerifyingKey(coseKey: CBOREncoder.encode(key)) }
    }

    static func p256(_ changes: [CBORValue.Key: CBORValue?] = [:]) -> CBORValue {
        guard case .map(var entries) = AuthenticatorDataTests.p256COSEKey() else { return .null }
        for (key, value) in changes { entries[key] = value }
        return .map(entries)
    }

    static func ed25519(_ changes: [CBORValue.Key: CBORValue?] = [:]) -> CBORValue {
        var entries: [CBORValue.Key: CBORValue] = [
            .int(1): .unsigned(1), .int(3): .int(-8), .int(-1): .unsigned(6),
            .int(-2): .bytes(Array(Curve25519.Signing.PrivateKey().publicKey.rawRepresentation)),
        ]
        for (key, value) in changes { entries[key] = value }
        return .map(entries)
    }

    /// The RSA key of the committed RS256 fixture, with its modulus replaced by `modulus` if given.
    static func rsa(modulus: [UInt8]? = nil) throws -> CBORValue {
        let fixture = try #require(CeremonyFixture.committed.first { $0.name == "packed-self-rs256" })
        let key = try CBORDecoder.decode(try base64URL(fixture.registration.expected.publicKey))
        guard case .map(var entries) = key else { return key }
        if let modulus { entries[.int(-1)] = .bytes(modulus) }
        return .map(entries)
    }

    @Test("reads P-256, Ed25519 and 2048-bit RSA keys for the algorithms they sign with")
    func readsSupportedKeys() throws {
        #expect(try VerifyingKey(coseKey: CBOREncoder.encode(Self.p256())).algorithm == .es256)
        #expect(try VerifyingKey(coseKey: CBOREncoder.encode(Self.ed25519())).algorithm == .eddsa)
        #expect(try VerifyingKey(coseKey: CBOREncoder.encode(Self.rsa())).algorithm == .rs256)
    }

    @Test("refuses key types, curves and algorithms Twofold does not verify as unsupported", arguments: [
        p256([.int(-1): .unsigned(2), .int(3): .int(-35)]),  // P-384, ES384
        p256([.int(3): .int(-36)]),  // ES512
        ed25519([.int(-1): .unsigned(7)]),  // Ed448
        ed25519([.int(1): .unsigned(4)]),  // symmetric
        p256([.int(3): .int(-47)]),  // ES256K
    ])
    func refusesUnsupported(key: CBORValue) {
        #expect(Self.error(key)?.code == .unsupported)
    }

    @Test("refuses keys that are not what they claim as malformed", arguments: [
        p256([.int(3): nil]),  // no alg, which WebAuthn requires
        p256([.int(1): nil]),
        p256([.int(3): .int(-8)]),  // a P-256 key for EdDSA
        ed25519([.int(3): .int(-7)]),
        p256([.int(-2): .bytes([UInt8](repeating: 1, count: 31))]),
        p256([.int(-3): .bytes([UInt8](repeating: 1, count: 32))]),  // not on the curve
        p256([.int(-4): .bytes([UInt8](repeating: 1, count: 32))]),  // a private key
        ed25519([.int(-2): .text("x")]),
        .array([]),
    ])
    func refusesMalformed(key: CBORValue) {
        #expect(Self.error(key)?.code == .malformed)
    }

    @Test("refuses RSA keys under 2048 bits and over 8192 bits")
    func refusesRSASizes() throws {
        var short = [UInt8](repeating: 0xC5, count: 128)
        short[127] |= 1
        #expect(Self.error(try Self.rsa(modulus: short))?.code == .unsupported)
        #expect(Self.error(try Self.rsa(modulus: [0, 0] + [UInt8](repeating: 0x7F, count: 255) + [0xFF]))?.code == .unsupported)
        #expect(Self.error(try Self.rsa(modulus: [0x80] + [UInt8](repeating: 0x11, count: 1024)))?.code == .unsupported)
    }
}
