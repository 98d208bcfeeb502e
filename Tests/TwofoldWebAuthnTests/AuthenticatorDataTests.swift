import Crypto
import Testing
@testable import TwofoldWebAuthn

@Suite("Authenticator data")
struct AuthenticatorDataTests {
    static let rpIDHash = Array(SHA256.hash(data: Array("example.com".utf8)))

    static func p256COSEKey(_ key: P256.Signing.PublicKey = P256.Signing.PrivateKey().publicKey) -> CBORValue {
        let point = Array(key.x963Representation)
        return .map([.int(1): .unsigned(2), .int(3): .int(-7), .int(-1): .unsigned(1),
                     .int(-2): .bytes(Array(point[1...32])), .int(-3): .bytes(Array(point[33...64]))])
    }

    /// rpIdHash || flags || counter || [aaguid || length || id || key] || [extensions].
    static func bytes(flags: UInt8, counter: UInt32 = 7, credentialID: [UInt8]? = nil, key: CBORValue? = nil,
                      extensions: CBORValue? = nil) -> [UInt8] {
        var data = rpIDHash + [flags] + (0..<4).reversed().map { UInt8(truncatingIfNeeded: counter >> (8 * $0)) }
        if let credentialID {
            data += [UInt8](repeating: 0xAA, count: 16) + [UInt8(credentialID.count >> 8), UInt8(credentialID.count & 0xFF)] + credentialID
            data += CBOREncoder.encode(key ?? p256COSEKey())
        }
        if let extensions { data += CBOREncoder.encode(extensions) }
        return data
    }

    static func error(_ bytes: [UInt8]) -> WebAuthnError? {
        webAuthnError { () throws(WebAuthnError) in try AuthenticatorData(bytes) }
    }

    @Test("reads the RP ID hash, the flags and the big-endian counter")
    func readsFields() throws {
        let data = try AuthenticatorData(Self.bytes(flags: 0x1D, counter: 0x0102_0304))
        #expect(data.rpIDHash == Self.rpIDHash)
        #expect(data.flags == [.userPresent, .userVerified, .backupEligible, .backedUp])
        #expect(data.signCount == 16_909_060)
        #expect(data.attestedCredentialData == nil && data.extensions == nil)
    }

    @Test("reads the credential, keeping its COSE key's bytes exactly, when extensions follow")
    func readsAttestedCredentialAndExtensions() throws {
        let key = Self.p256COSEKey()
        let data = try AuthenticatorData(Self.bytes(flags: 0xC1, credentialID: [1, 2, 3], key: key,
                                                    extensions: .map([.text("credProtect"): .unsigned(2)])))
        let credential = try #require(data.attestedCredentialData)
        #expect(credential.credentialID == [1, 2, 3])
        #expect(credential.aaguid == [UInt8](repeating: 0xAA, count: 16))
        #expect(credential.publicKeyBytes == CBOREncoder.encode(key))
        #expect(credential.algorithm == .es256)
        #expect(data.extensions == .map([.text("credProtect"): .unsigned(2)]))
    }

    @Test("refuses data shorter than 37 bytes")
    func refusesShortData() {
        for count in 0..<37 {
            #expect(Self.error(Array(Self.bytes(flags: 0x01).prefix(count)))?.code == .malformed, "\(count) bytes")
        }
    }

    @Test("refuses flags that do not match what follows the counter", arguments: [
        (bytes(flags: 0x41), "AT flag"),
        (bytes(flags: 0x01, credentialID: [1]), "do not account for"),
        (bytes(flags: 0x81), "ED flag but no extensions"),
        (bytes(flags: 0x81, extensions: .array([])), "not a CBOR map"),
        (bytes(flags: 0x41, credentialID: [1], extensions: .map([:])), "do not account for"),
        (bytes(flags: 0x01) + [0x00], "do not account for"),
        (bytes(flags: 0x11), "backed-up flag"),
    ])
    func refusesInconsistentFlags(bytes: [UInt8], reason: String) {
        let error = Self.error(bytes)
        #expect(error?.code == .malformed)
        #expect(error?.message.contains(reason) == true, "\(error?.message ?? "accepted")")
    }

    @Test("accepts a 1023-byte credential id and refuses 1024 bytes, and ids longer than the data")
    func credentialIDLength() {
        #expect(Self.error(Self.bytes(flags: 0x41, credentialID: [UInt8](repeating: 7, count: 1023))) == nil)
        #expect(Self.error(Self.bytes(flags: 0x41, credentialID: [UInt8](repeating: 7, count: 1024)))?.message.contains("at most 1023") == true)
        var claimsTooMuch = Self.bytes(flags: 0x41, credentialID: [1, 2, 3])
        claimsTooMuch[37 + 16] = 0x03  // length 0x0303
        #expect(Self.error(claimsTooMuch)?.message.contains("are left") == true)
    }

    @Test("refuses attested credential data cut short at every byte")
    func refusesTruncatedCredential() {
        let full = Self.bytes(flags: 0x41, credentialID: [1, 2, 3, 4])
        for count in 37..<full.count {
            #expect(Self.error(Array(full.prefix(count)))?.code == .malformed, "\(count) of \(full.count) bytes")
        }
        #expect(Self.error(full) == nil)
    }
}
