import Crypto
import Testing
import TwofoldWebPush

/// RFC 8291 Appendix A: the example's keys, salt and auth secret give exactly its body.
@Suite("RFC 8291 Appendix A")
struct RFC8291VectorTests {
    static let plaintext = "When I grow up, I want to be a watermelon"
    static let asPrivate = "yfWPiYE-n46HLnH0KqZOF1fJJU3MYrct3AELtAQ-oRw"
    static let asPublic = "BP4z9KsN6nGRTbVYI_c7VJSPQTBtkgcy27mlmlMoZIIgDll6e3vCYLocInmYWAmS6TlzAC8wEqKK6PBru3jl7A8"
    static let uaPrivate = "q1dXpw3UpT5VOmu_cf_v6ih07Aems3njxI-JWgLcM94"
    static let uaPublic = "BCVxsr7N_eNgVRqvHtD0zTZsEc6-VV-JvLexhqUzORcxaOzi6-AYWXvTBHm4bjyPjs7Vd8pZGH6SRpkNtoIAiw4"
    static let salt = "DGv6ra1nlYgDCS1FRnbzlw"
    static let authSecret = "BTBZMqHH6r4Tts7J_aSIgg"
    static let header = "DGv6ra1nlYgDCS1FRnbzlwAAEABBBP4z9KsN6nGRTbVYI_c7VJSPQTBtkgcy27mlmlMoZIIgDll6e3vCYLocInmYWAmS6TlzAC8wEqKK6PBru3jl7A8"
    static let ciphertext = "8pfeW0KbunFT06SuDKoJH9Ql87S1QUrdirN6GcG7sFz1y1sqLgVi1VhjVkHsUoEsbI_0LpXMuGvnzQ"
    static let body = "DGv6ra1nlYgDCS1FRnbzlwAAEABBBP4z9KsN6nGRTbVYI_c7VJSPQTBtkgcy27mlmlMoZIIgDll6e3vCYLocInmYWAmS6TlzAC8wEqKK6PBru3jl7A_yl95bQpu6cVPTpK4Mqgkf1CXztLVBSt2Ks3oZwbuwXPXLWyouBWLVWGNWQexSgSxsj_Qulcy4a-fN"

    @Test("the example's keys are the pairs the RFC lists")
    func keysMatch() throws {
        let sender = try P256.KeyAgreement.PrivateKey(rawRepresentation: bytes(Self.asPrivate))
        let receiver = try P256.KeyAgreement.PrivateKey(rawRepresentation: bytes(Self.uaPrivate))
        #expect(Array(sender.publicKey.x963Representation) == bytes(Self.asPublic))
        #expect(Array(receiver.publicKey.x963Representation) == bytes(Self.uaPublic))
        #expect(bytes(Self.body) == bytes(Self.header) + bytes(Self.ciphertext))
    }

    @Test("encrypting the example with its keys, salt and secret gives the RFC's body byte for byte")
    func encryptsToTheRFCBody() throws {
        let sender = try P256.KeyAgreement.PrivateKey(rawRepresentation: bytes(Self.asPrivate))
        let body = try WebPushEncryption.encrypt(Array(Self.plaintext.utf8), p256dh: bytes(Self.uaPublic),
                                                 authSecret: bytes(Self.authSecret), senderKey: sender, salt: bytes(Self.salt))
        #expect(body == bytes(Self.body))
        #expect(Base64URL.encode(body) == Self.body)
    }

    @Test("decrypting the RFC's body with the user agent's key gives the watermelon sentence")
    func decryptsTheRFCBody() throws {
        let receiver = try P256.KeyAgreement.PrivateKey(rawRepresentation: bytes(Self.uaPrivate))
        let plaintext = try WebPushEncryption.decrypt(bytes(Self.body), privateKey: receiver, authSecret: bytes(Self.authSecret))
        #expect(String(decoding: plaintext, as: UTF8.self) == Self.plaintext)
    }
}
