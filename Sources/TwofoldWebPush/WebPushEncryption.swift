import Crypto

/// Web Push message encryption (RFC 8291) in the `aes128gcm` content coding (RFC 8188): the push
/// service relays the message but cannot read it, and the user agent knows it came from someone
/// holding its subscription's authentication secret.
///
/// A message is one record: salt (16) ‖ rs (uint32) ‖ idlen (1) = 65 ‖ keyid = the sender's
/// ephemeral public key (65) ‖ AES-128-GCM(plaintext ‖ 0x02) with its 16-byte tag.
public enum WebPushEncryption {
    /// The header before the record: salt, record size, key id length and the 65-byte key id.
    public static let headerByteCount = 86
    /// The AES-GCM tag at the end of the record.
    public static let tagByteCount = 16
    /// The length of a subscription's `auth` secret (RFC 8291 §3.2).
    public static let authSecretByteCount = 16
    /// The length of the salt (RFC 8188 §2.1).
    public static let saltByteCount = 16
    /// The record size written by default: 4096, as RFC 8291's example does.
    public static let defaultRecordSize = 4096
    /// The largest body every push service accepts (RFC 8030 §7.2).
    public static let maximumBodyByteCount = 4096
    /// The most plaintext that fits a 4096-byte body: 4096 − 86 (header) − 1 (delimiter) − 16
    /// (tag) = 3993 (RFC 8291 §4).
    public static let maximumPlaintextByteCount = maximumBodyByteCount - headerByteCount - 1 - tagByteCount

    /// The smallest record RFC 8188 §2.1 allows: a tag and a delimiter.
    static let minimumRecordSize = tagByteCount + 2

    /// Encrypts `plaintext` to a subscription, as an application server does.
    ///
    /// - Parameters:
    ///   - plaintext: at most ``maximumPlaintextByteCount`` bytes, and at most `recordSize` − 17.
    ///   - p256dh: the subscription's public key, a 65-byte uncompressed P-256 point.
    ///   - authSecret: the subscription's 16-byte `auth` secret.
    ///   - senderKey: the application server's ephemeral key; fresh for every message unless a
    ///     test pins it (reusing one leaks nothing of the plaintext but links messages).
    ///   - salt: 16 random bytes, fresh for every message (RFC 8291 §3.4).
    ///   - recordSize: the `rs` written in the header, 18 to 2³²−1.
    /// - Returns: the request body, to send with `Content-Encoding: aes128gcm`.
    /// - Throws: ``WebPushError`` `invalid_public_key`, `invalid_auth_secret`, `invalid_salt`,
    ///   `invalid_record_size` or `plaintext_too_large`.
    public static func encrypt(
        _ plaintext: [UInt8],
        p256dh: [UInt8],
        authSecret: [UInt8],
        senderKey: P256.KeyAgreement.PrivateKey = P256.KeyAgreement.PrivateKey(),
        salt: [UInt8] = randomSalt(),
        recordSize: Int = defaultRecordSize
    ) throws(WebPushError) -> [UInt8] {
        let receiverKey = try publicKey(p256dh, invalid: .invalidPublicKey, name: "the subscription's p256dh")
        try checkAuthSecret(authSecret)
        guard salt.count == saltByteCount else {
            throw WebPushError(.invalidSalt, "the salt must be \(saltByteCount) bytes, not \(salt.count)")
        }
        guard recordSize >= minimumRecordSize, recordSize <= Int(UInt32.max) else {
            throw WebPushError(.invalidRecordSize, "the record size must be \(minimumRecordSize) to \(UInt32.max), not \(recordSize)")
        }
        // RFC 8291 §4: one record, in a body of at most 4096 bytes.
        let limit = min(maximumPlaintextByteCount, recordSize - tagByteCount - 1)
        guard plaintext.count <= limit else {
            throw WebPushError(.plaintextTooLarge, "the plaintext is \(plaintext.count) bytes; one push message holds at most \(limit)")
        }
        let senderPublic = Array(senderKey.publicKey.x963Representation)
        let sharedSecret: SharedSecret
        do {
            sharedSecret = try senderKey.sharedSecretFromKeyAgreement(with: receiverKey)
        } catch {
            throw WebPushError(.invalidPublicKey, "no shared secret can be agreed with the subscription's p256dh")
        }
        let (key, nonce) = contentKeys(sharedSecret: sharedSecret, authSecret: authSecret,
                                       receiverPublic: p256dh, senderPublic: senderPublic, salt: salt)
        let sealed: AES.GCM.SealedBox
        do {
            // RFC 8188 §2: the last (here only) record ends with the delimiter 0x02, no padding.
            sealed = try AES.GCM.seal(plaintext + [0x02], using: key, nonce: AES.GCM.Nonce(data: nonce))
        } catch {
            throw WebPushError(.authenticationFailed, "AES-GCM could not seal the record")
        }
        var body: [UInt8] = []
        body.reserveCapacity(headerByteCount + plaintext.count + 1 + tagByteCount)
        body += salt
        let size = UInt32(recordSize)
        body += [UInt8(truncatingIfNeeded: size >> 24), UInt8(truncatingIfNeeded: size >> 16),
                 UInt8(truncatingIfNeeded: size >> 8), UInt8(truncatingIfNeeded: size)]
        body.append(UInt8(senderPublic.count))
        body += senderPublic
        body += sealed.ciphertext
        body += sealed.tag
        return body
    }

    /// Decrypts a push message, as the user agent does: for tests, and for a device that
    /// receives Web Push itself.
    ///
    /// - Parameters:
    ///   - body: the request body as the push service delivered it.
    ///   - privateKey: the subscription's private key (the other half of `p256dh`).
    ///   - authSecret: the subscription's 16-byte `auth` secret.
    /// - Returns: the plaintext.
    /// - Throws: ``WebPushError`` `truncated_body`, `malformed_body`, `invalid_record_size`,
    ///   `invalid_sender_key`, `invalid_auth_secret`, `authentication_failed` or `invalid_padding`.
    public static func decrypt(
        _ body: [UInt8],
        privateKey: P256.KeyAgreement.PrivateKey,
        authSecret: [UInt8]
    ) throws(WebPushError) -> [UInt8] {
        try checkAuthSecret(authSecret)
        guard body.count >= 21 else {
            throw WebPushError(.truncatedBody, "the body is \(body.count) bytes, shorter than the 21 bytes before its key id")
        }
        let salt = Array(body[0..<16])
        let recordSize = body[16..<20].reduce(0) { ($0 << 8) | Int($1) }
        guard recordSize >= minimumRecordSize else {
            throw WebPushError(.invalidRecordSize, "the body's record size is \(recordSize), below \(minimumRecordSize)")
        }
        // RFC 8291 §4: the key id is the sender's public key, uncompressed.
        let keyIDLength = Int(body[20])
        guard keyIDLength == 65 else {
            throw WebPushError(.malformedBody, "the body's key id is \(keyIDLength) bytes; Web Push sends a 65-byte public key")
        }
        guard body.count >= headerByteCount + tagByteCount + 1 else {
            throw WebPushError(.truncatedBody, "the body is \(body.count) bytes, shorter than a header, a tag and a delimiter (\(headerByteCount + tagByteCount + 1))")
        }
        let senderPublic = Array(body[21..<headerByteCount])
        let senderKey = try publicKey(senderPublic, invalid: .invalidSenderKey, name: "the body's key id")
        let record = body[headerByteCount...]
        guard record.count <= recordSize else {
            throw WebPushError(.malformedBody, "the body holds more than one record of \(recordSize) bytes; a push message is one record")
        }
        let sharedSecret: SharedSecret
        do {
            sharedSecret = try privateKey.sharedSecretFromKeyAgreement(with: senderKey)
        } catch {
            throw WebPushError(.invalidSenderKey, "no shared secret can be agreed with the body's key id")
        }
        let (key, nonce) = contentKeys(sharedSecret: sharedSecret, authSecret: authSecret,
                                       receiverPublic: Array(privateKey.publicKey.x963Representation),
                                       senderPublic: senderPublic, salt: salt)
        var padded: [UInt8]
        do {
            let box = try AES.GCM.SealedBox(nonce: AES.GCM.Nonce(data: nonce), ciphertext: record.dropLast(tagByteCount),
                                            tag: record.suffix(tagByteCount))
            padded = Array(try AES.GCM.open(box, using: key))
        } catch {
            throw WebPushError(.authenticationFailed, "the record does not authenticate: wrong keys or secret, or altered bytes")
        }
        // RFC 8188 §2: zero padding after the delimiter, which is 0x02 in the last record.
        while padded.last == 0 { padded.removeLast() }
        guard padded.last == 0x02 else {
            throw WebPushError(.invalidPadding, padded.isEmpty ? "the record holds only zeros" : "the record's delimiter is not 0x02 (last record)")
        }
        padded.removeLast()
        return padded
    }

    /// Checks a subscription's keys as ``encrypt(_:p256dh:authSecret:senderKey:salt:recordSize:)``
    /// would, so that one that can never be encrypted to is refused when it is registered.
    ///
    /// - Throws: ``WebPushError`` `invalid_public_key` or `invalid_auth_secret`.
    public static func validateSubscription(p256dh: [UInt8], authSecret: [UInt8]) throws(WebPushError) {
        _ = try publicKey(p256dh, invalid: .invalidPublicKey, name: "the subscription's p256dh")
        try checkAuthSecret(authSecret)
    }

    /// 16 bytes from the system's secure random source.
    public static func randomSalt() -> [UInt8] {
        var generator = SystemRandomNumberGenerator()
        return (0..<saltByteCount).map { _ in UInt8.random(in: .min ... .max, using: &generator) }
    }

    /// RFC 8291 §3.3–3.4 and RFC 8188 §2.2–2.3: the content encryption key and the nonce. The
    /// only record has sequence number 0, so its nonce is NONCE itself (RFC 8188 §2.3).
    static func contentKeys(sharedSecret: SharedSecret, authSecret: [UInt8], receiverPublic: [UInt8],
                            senderPublic: [UInt8], salt: [UInt8]) -> (key: SymmetricKey, nonce: [UInt8]) {
        let ecdhSecret = sharedSecret.withUnsafeBytes { Array($0) }
        // PRK_key = HMAC-SHA-256(auth_secret, ecdh_secret)
        let keyPRK = Array(HMAC<SHA256>.authenticationCode(for: ecdhSecret, using: SymmetricKey(data: authSecret)))
        // key_info = "WebPush: info" || 0x00 || ua_public || as_public
        let keyInfo = Array("WebPush: info".utf8) + [0] + receiverPublic + senderPublic
        // IKM = HMAC-SHA-256(PRK_key, key_info || 0x01), i.e. HKDF-Expand to 32 bytes
        let inputKeyMaterial = HKDF<SHA256>.expand(pseudoRandomKey: keyPRK, info: keyInfo, outputByteCount: 32)
            .withUnsafeBytes { Array($0) }
        // PRK = HMAC-SHA-256(salt, IKM)
        let prk = Array(HMAC<SHA256>.authenticationCode(for: inputKeyMaterial, using: SymmetricKey(data: salt)))
        let key = HKDF<SHA256>.expand(pseudoRandomKey: prk, info: Array("Content-Encoding: aes128gcm".utf8) + [0],
                                      outputByteCount: 16)
        let nonce = HKDF<SHA256>.expand(pseudoRandomKey: prk, info: Array("Content-Encoding: nonce".utf8) + [0],
                                        outputByteCount: 12).withUnsafeBytes { Array($0) }
        return (key, nonce)
    }

    /// A P-256 public key from its 65-byte uncompressed form, on the curve.
    static func publicKey(_ bytes: [UInt8], invalid code: WebPushError.Code, name: String) throws(WebPushError) -> P256.KeyAgreement.PublicKey {
        guard bytes.count == 65, bytes.first == 0x04 else {
            throw WebPushError(code, "\(name) must be a 65-byte uncompressed P-256 point (0x04 ‖ x ‖ y), not \(bytes.count) bytes starting \(bytes.first.map { String($0, radix: 16) } ?? "with nothing")")
        }
        do {
            return try P256.KeyAgreement.PublicKey(x963Representation: bytes)
        } catch {
            throw WebPushError(code, "\(name) is not a point on the P-256 curve")
        }
    }

    static func checkAuthSecret(_ authSecret: [UInt8]) throws(WebPushError) {
        guard authSecret.count == authSecretByteCount else {
            throw WebPushError(.invalidAuthSecret, "the auth secret must be \(authSecretByteCount) bytes, not \(authSecret.count)")
        }
    }
}
