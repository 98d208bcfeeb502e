import Crypto
import Foundation
import Testing
import TwofoldWebPush

@Suite("Web Push encryption (RFC 8291, aes128gcm)")
struct WebPushEncryptionTests {
    static let message = Array(#"{"challenge_id":"chl_abc","type":"twofold.push"}"#.utf8)

    @Test("a message encrypted to a fresh subscription decrypts to the same bytes", arguments: [0, 1, 47, 1000, 3993])
    func roundTrip(size: Int) throws {
        let agent = UserAgent()
        let plaintext = (0..<size).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ 7) }
        let body = try WebPushEncryption.encrypt(plaintext, p256dh: agent.p256dh, authSecret: agent.authSecret)
        #expect(body.count == WebPushEncryption.headerByteCount + size + 1 + WebPushEncryption.tagByteCount)
        #expect(try WebPushEncryption.decrypt(body, privateKey: agent.privateKey, authSecret: agent.authSecret) == plaintext)
    }

    @Test("the header is salt, rs 4096, idlen 65 and the sender's public key")
    func headerLayout() throws {
        let agent = UserAgent()
        let sender = P256.KeyAgreement.PrivateKey()
        let salt = (0..<16).map { UInt8($0) }
        let body = try WebPushEncryption.encrypt(Self.message, p256dh: agent.p256dh, authSecret: agent.authSecret,
                                                 senderKey: sender, salt: salt)
        #expect(Array(body[0..<16]) == salt)
        #expect(Array(body[16..<20]) == [0x00, 0x00, 0x10, 0x00])
        #expect(body[20] == 65)
        #expect(Array(body[21..<86]) == Array(sender.publicKey.x963Representation))
    }

    @Test("every message gets a fresh salt and sender key, so equal messages look unrelated")
    func freshSaltAndKey() throws {
        let agent = UserAgent()
        let first = try WebPushEncryption.encrypt(Self.message, p256dh: agent.p256dh, authSecret: agent.authSecret)
        let second = try WebPushEncryption.encrypt(Self.message, p256dh: agent.p256dh, authSecret: agent.authSecret)
        #expect(first[0..<16] != second[0..<16])
        #expect(first[21..<86] != second[21..<86])
        #expect(first[86...] != second[86...])
    }

    @Test("a smaller record size is written and still holds one record")
    func smallerRecordSize() throws {
        let agent = UserAgent()
        let body = try WebPushEncryption.encrypt(Array(repeating: 7, count: 83), p256dh: agent.p256dh,
                                                 authSecret: agent.authSecret, recordSize: 100)
        #expect(Array(body[16..<20]) == [0, 0, 0, 100])
        #expect(try WebPushEncryption.decrypt(body, privateKey: agent.privateKey, authSecret: agent.authSecret).count == 83)
        let tooLarge = webPushError { () throws(WebPushError) in
            try WebPushEncryption.encrypt(Array(repeating: 7, count: 84), p256dh: agent.p256dh, authSecret: agent.authSecret, recordSize: 100)
        }
        #expect(tooLarge?.code == .plaintextTooLarge)
    }

    @Test("the largest plaintext fills exactly the 4096 bytes every push service accepts; one more is refused")
    func plaintextLimit() throws {
        let agent = UserAgent()
        let body = try WebPushEncryption.encrypt(Array(repeating: 1, count: 3993), p256dh: agent.p256dh, authSecret: agent.authSecret)
        #expect(body.count == 4096)
        let error = webPushError { () throws(WebPushError) in
            try WebPushEncryption.encrypt(Array(repeating: 1, count: 3994), p256dh: agent.p256dh, authSecret: agent.authSecret)
        }
        #expect(error?.code == .plaintextTooLarge)
    }

    static let badPoints: [(String, [UInt8])] = {
        let valid = UserAgent().p256dh
        var offCurve = valid
        offCurve[64] ^= 0x01
        let compressed = Array(UserAgent().privateKey.publicKey.compressedRepresentation)
        return [
            ("empty", []),
            ("64 bytes", Array(valid.dropLast())),
            ("66 bytes", valid + [0]),
            ("compressed", compressed),
            ("hybrid prefix", [0x06] + valid.dropFirst()),
            ("off the curve", offCurve),
            ("all zeros", [0x04] + Array(repeating: 0, count: 64)),
            ("coordinates above p", [0x04] + Array(repeating: 0xFF, count: 64)),
        ]
    }()

    @Test("a p256dh that is not an uncompressed point on P-256 is refused", arguments: badPoints)
    func refusesBadPoint(name: String, p256dh: [UInt8]) {
        let error = webPushError { () throws(WebPushError) in
            try WebPushEncryption.encrypt(Self.message, p256dh: p256dh, authSecret: UserAgent().authSecret)
        }
        #expect(error?.code == .invalidPublicKey, "\(name)")
        #expect(error?.message.contains("p256dh") == true)
    }

    @Test("an auth secret of other than 16 bytes is refused, encrypting and decrypting", arguments: [0, 15, 17, 32])
    func refusesAuthLength(length: Int) throws {
        let agent = UserAgent()
        let secret = Array(repeating: UInt8(9), count: length)
        let encrypting = webPushError { () throws(WebPushError) in
            try WebPushEncryption.encrypt(Self.message, p256dh: agent.p256dh, authSecret: secret)
        }
        #expect(encrypting?.code == .invalidAuthSecret)
        let body = try WebPushEncryption.encrypt(Self.message, p256dh: agent.p256dh, authSecret: agent.authSecret)
        let decrypting = webPushError { () throws(WebPushError) in
            try WebPushEncryption.decrypt(body, privateKey: agent.privateKey, authSecret: secret)
        }
        #expect(decrypting?.code == .invalidAuthSecret)
    }

    @Test("a salt of other than 16 bytes and a record size below 18 are refused")
    func refusesSaltAndRecordSize() {
        let agent = UserAgent()
        let salt = webPushError { () throws(WebPushError) in
            try WebPushEncryption.encrypt(Self.message, p256dh: agent.p256dh, authSecret: agent.authSecret, salt: Array(repeating: 0, count: 15))
        }
        #expect(salt?.code == .invalidSalt)
        for size in [-1, 0, 17] {
            let error = webPushError { () throws(WebPushError) in
                try WebPushEncryption.encrypt([], p256dh: agent.p256dh, authSecret: agent.authSecret, recordSize: size)
            }
            #expect(error?.code == .invalidRecordSize, "rs \(size)")
        }
    }

    /// A body to tamper with, and the subscriber that can read it.
    static func sample() throws -> (UserAgent, [UInt8]) {
        let agent = UserAgent()
        return (agent, try WebPushEncryption.encrypt(message, p256dh: agent.p256dh, authSecret: agent.authSecret))
    }

    static func decryptError(_ body: [UInt8], _ agent: UserAgent) -> WebPushError? {
        webPushError { () throws(WebPushError) in
            try WebPushEncryption.decrypt(body, privateKey: agent.privateKey, authSecret: agent.authSecret)
        }
    }

    @Test("a body cut anywhere short of a tag and a delimiter is refused as truncated", arguments: [0, 1, 20, 21, 50, 85, 86, 102])
    func refusesTruncated(length: Int) throws {
        let (agent, body) = try Self.sample()
        #expect(Self.decryptError(Array(body.prefix(length)), agent)?.code == .truncatedBody)
    }

    @Test("a body cut inside its ciphertext fails authentication")
    func refusesCutCiphertext() throws {
        let (agent, body) = try Self.sample()
        #expect(Self.decryptError(Array(body.dropLast(1)), agent)?.code == .authenticationFailed)
        #expect(Self.decryptError(Array(body.dropLast(10)), agent)?.code == .authenticationFailed)
    }

    @Test("a key id length other than 65 is refused", arguments: [0, 16, 64, 66, 255])
    func refusesKeyIDLength(length: UInt8) throws {
        var (agent, body) = try Self.sample()
        body[20] = length
        #expect(Self.decryptError(body, agent)?.code == .malformedBody)
    }

    @Test("a key id that is not a point on P-256 is refused")
    func refusesBadSenderKey() throws {
        let (agent, body) = try Self.sample()
        var offCurve = body
        offCurve[85] ^= 0x01
        #expect(Self.decryptError(offCurve, agent)?.code == .invalidSenderKey)
        var compressedPrefix = body
        compressedPrefix[21] = 0x02
        #expect(Self.decryptError(compressedPrefix, agent)?.code == .invalidSenderKey)
    }

    @Test("a record size below 18, or smaller than the record, is refused")
    func refusesRecordSize() throws {
        let (agent, body) = try Self.sample()
        var tiny = body
        tiny[16...19] = [0, 0, 0, 17]
        #expect(Self.decryptError(tiny, agent)?.code == .invalidRecordSize)
        var split = body
        split[16...19] = [0, 0, 0, 18]
        #expect(Self.decryptError(split, agent)?.code == .malformedBody)
    }

    @Test("one flipped bit anywhere in salt, ciphertext or tag fails authentication", arguments: [0, 15, 86, 100, -1])
    func refusesFlippedBit(index: Int) throws {
        var (agent, body) = try Self.sample()
        body[index < 0 ? body.count + index : index] ^= 0x01
        #expect(Self.decryptError(body, agent)?.code == .authenticationFailed)
    }

    @Test("another subscriber's key or auth secret fails authentication")
    func refusesWrongKeys() throws {
        let (agent, body) = try Self.sample()
        var otherKey = agent
        otherKey.privateKey = P256.KeyAgreement.PrivateKey()
        #expect(Self.decryptError(body, otherKey)?.code == .authenticationFailed)
        var otherSecret = agent
        otherSecret.authSecret[0] ^= 1
        #expect(Self.decryptError(body, otherSecret)?.code == .authenticationFailed)
    }

    @Test("a record whose delimiter is not 0x02 is refused; zero padding after 0x02 is accepted")
    func padding() throws {
        let agent = UserAgent()
        #expect(Self.decryptError(try IndependentSealer.body(record: [1, 2, 3, 0x01], to: agent), agent)?.code == .invalidPadding)
        #expect(Self.decryptError(try IndependentSealer.body(record: [0, 0, 0], to: agent), agent)?.code == .invalidPadding)
        // An empty record is only a tag: shorter than any record RFC 8188 allows.
        #expect(Self.decryptError(try IndependentSealer.body(record: [], to: agent), agent)?.code == .truncatedBody)
        let padded = try IndependentSealer.body(record: [104, 105, 0x02, 0, 0, 0, 0], to: agent)
        #expect(try WebPushEncryption.decrypt(padded, privateKey: agent.privateKey, authSecret: agent.authSecret) == [104, 105])
    }

    @Test("an independent sealer's message with a delimiter decrypts, so the key schedule agrees")
    func independentKeySchedule() throws {
        let agent = UserAgent()
        let body = try IndependentSealer.body(record: Self.message + [0x02], to: agent)
        #expect(try WebPushEncryption.decrypt(body, privateKey: agent.privateKey, authSecret: agent.authSecret) == Self.message)
    }

    @Test("random bytes of any length are refused with an error, never a crash")
    func garbage() throws {
        let agent = UserAgent()
        var generator = SystemRandomNumberGenerator()
        for length in [0, 5, 21, 86, 103, 200, 4096] + (0..<200).map({ _ in Int.random(in: 0...300, using: &generator) }) {
            let body = (0..<length).map { _ in UInt8.random(in: 0...255, using: &generator) }
            #expect(Self.decryptError(body, agent) != nil)
            var withHeader = body
            if withHeader.count >= 103 {
                withHeader.replaceSubrange(16..<21, with: [0, 0, 0x10, 0, 65])
                withHeader.replaceSubrange(21..<86, with: UserAgent().p256dh)
                #expect(Self.decryptError(withHeader, agent)?.code == .authenticationFailed)
            }
        }
    }
}

/// RFC 8291 §3.3–3.4 written out again from the RFC with swift-crypto's HKDF, to seal records
/// `WebPushEncryption` would never write (a wrong delimiter, padding).
enum IndependentSealer {
    static func body(record: [UInt8], to agent: UserAgent) throws -> [UInt8] {
        let sender = P256.KeyAgreement.PrivateKey()
        let salt = (0..<16).map { _ in UInt8.random(in: 0...255) }
        let secret = try sender.sharedSecretFromKeyAgreement(with: agent.privateKey.publicKey)
        let asPublic = Array(sender.publicKey.x963Representation)
        let info = Array("WebPush: info\0".utf8) + agent.p256dh + asPublic
        let ikm = secret.hkdfDerivedSymmetricKey(using: SHA256.self, salt: agent.authSecret, sharedInfo: info, outputByteCount: 32)
        let cek = HKDF<SHA256>.deriveKey(inputKeyMaterial: ikm, salt: salt, info: Array("Content-Encoding: aes128gcm\0".utf8), outputByteCount: 16)
        let nonce = HKDF<SHA256>.deriveKey(inputKeyMaterial: ikm, salt: salt, info: Array("Content-Encoding: nonce\0".utf8), outputByteCount: 12)
        let sealed = try AES.GCM.seal(record, using: cek, nonce: AES.GCM.Nonce(data: nonce.withUnsafeBytes { Array($0) }))
        return salt + [0, 0, 0x10, 0, 65] + asPublic + Array(sealed.ciphertext) + Array(sealed.tag)
    }
}
