import Crypto
import FuzzSupport
import TwofoldWebPush

// Input: a mode byte, then what the mode reads.
//
// 0: a push message body, decrypted with the subscription of RFC 8291's example (whose own body
//    decrypts).
// 1: a change byte, two record-size bytes, 16 salt bytes, then a plaintext, encrypted here to
//    that subscription with the example's sender key.
// 2: Base64URL text.
// 3: a push endpoint and, after 0x00, a VAPID subject.
//
// Properties: nothing traps, and every failure has a documented code; what is encrypted
// decrypts to itself, into a body of the documented length, and fails to decrypt once any byte
// of its salt, key id, ciphertext or tag is changed; Base64URL text that decodes is the one
// spelling of its bytes (encoding them gives it back, less padding), and any bytes survive
// encoding; an endpoint's audience is its own audience.

private let receiver = try! P256.KeyAgreement.PrivateKey(rawRepresentation: Base64URL.decode("q1dXpw3UpT5VOmu_cf_v6ih07Aems3njxI-JWgLcM94"))
private let sender = try! P256.KeyAgreement.PrivateKey(rawRepresentation: Base64URL.decode("yfWPiYE-n46HLnH0KqZOF1fJJU3MYrct3AELtAQ-oRw"))
private let authSecret = try! Base64URL.decode("BTBZMqHH6r4Tts7J_aSIgg")

@main
enum WebPushFuzzer {
    static func main() { runLibFuzzer(fuzzWebPush) }
}

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzWebPush(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    var input = FuzzInput(data, size)
    switch input.byte() % 4 {
    case 0: decrypt(input.rest())
    case 1: roundTrip(&input)
    case 2: base64URL(input.rest())
    default: endpoint(&input)
    }
    return 0
}

private func decrypt(_ body: [UInt8]) {
    do {
        let plaintext = try WebPushEncryption.decrypt(body, privateKey: receiver, authSecret: authSecret)
        require(plaintext.count <= body.count - WebPushEncryption.headerByteCount - WebPushEncryption.tagByteCount - 1,
                "\(body.count) bytes decrypt to \(plaintext.count)")
    } catch {
        let codes: [WebPushError.Code] = [.truncatedBody, .malformedBody, .invalidRecordSize, .invalidSenderKey, .authenticationFailed, .invalidPadding]
        require(codes.contains(error.code), "decryption failed with \(error.code): \(error.message)")
    }
}

private func roundTrip(_ input: inout FuzzInput) {
    let change = Int(input.byte())
    let recordSize = Int(input.byte()) << 8 | Int(input.byte())
    let salt = (0..<WebPushEncryption.saltByteCount).map { _ in input.byte() }
    let plaintext = input.rest()
    let body: [UInt8]
    do {
        body = try WebPushEncryption.encrypt(plaintext, p256dh: Array(receiver.publicKey.x963Representation), authSecret: authSecret,
                                             senderKey: sender, salt: salt, recordSize: recordSize)
    } catch {
        let fits = recordSize >= 18 && plaintext.count <= min(WebPushEncryption.maximumPlaintextByteCount, recordSize - 17)
        require(!fits, "encrypting \(plaintext.count) bytes in records of \(recordSize) failed: \(error.message)")
        require([.invalidRecordSize, .plaintextTooLarge].contains(error.code), "encryption failed with \(error.code)")
        return
    }
    require(body.count == WebPushEncryption.headerByteCount + plaintext.count + 1 + WebPushEncryption.tagByteCount,
            "\(plaintext.count) bytes encrypt to a body of \(body.count)")
    let decrypted = try? WebPushEncryption.decrypt(body, privateKey: receiver, authSecret: authSecret)
    require(decrypted == plaintext, "\(plaintext.count) bytes do not decrypt to themselves")

    // Every byte but the record size (16..<20) and key id length (20) is authenticated.
    let authenticated = Array(0..<16) + Array(21..<body.count)
    let index = authenticated[change % authenticated.count]
    var altered = body
    altered[index] ^= UInt8(change >> 1 | 1)
    let result = try? WebPushEncryption.decrypt(altered, privateKey: receiver, authSecret: authSecret)
    require(result == nil, "the body decrypts with byte \(index) changed")
}

private func base64URL(_ bytes: [UInt8]) {
    let text = String(decoding: bytes, as: UTF8.self)
    do {
        let decoded = try Base64URL.decode(text)
        var unpadded = text
        while unpadded.hasSuffix("=") { unpadded.removeLast() }
        require(Base64URL.encode(decoded) == unpadded, "\(text) decodes, but is not how its bytes are written")
    } catch {
        require(error.code == .invalidBase64URL, "Base64URL decoding failed with \(error.code)")
    }
    let encoded = Base64URL.encode(bytes)
    require((try? Base64URL.decode(encoded)) == bytes, "\(hex(bytes)) does not survive Base64URL")
}

private func endpoint(_ input: inout FuzzInput) {
    let endpoint = input.text()
    let subject = input.restText()
    do {
        let audience = try VAPIDAuthorization.audience(for: endpoint)
        let again = try? VAPIDAuthorization.audience(for: audience)
        require(again == audience, "the audience \(audience) of \(endpoint) has the audience \(again ?? "none")")
    } catch {
        require(error.code == .invalidEndpoint, "the audience failed with \(error.code)")
    }
    do {
        try VAPIDAuthorization.checkSubject(subject)
    } catch {
        require(error.code == .invalidVAPIDSubject, "the subject check failed with \(error.code)")
    }
}
