import Crypto
import X509
import _CryptoExtras

extension VerifyingKey {
    /// The key of an attestation certificate, when it is one Twofold verifies with.
    /// - Throws: ``WebAuthnError`` `unsupported` for other key types and curves, and for RSA keys
    ///   outside 2048–8192 bits.
    init(certificateKey key: Certificate.PublicKey) throws(WebAuthnError) {
        if let p256 = P256.Signing.PublicKey(key) {
            self = .p256(p256)
        } else if let ed25519 = Curve25519.Signing.PublicKey(key) {
            self = .ed25519(ed25519)
        } else if let rsa = _RSA.Signing.PublicKey(key) {
            guard rsa.keySizeInBits >= Self.minimumRSABits, rsa.keySizeInBits <= Self.maximumRSABits else {
                throw WebAuthnError(.unsupported, "the attestation certificate's RSA key has \(rsa.keySizeInBits) bits; \(Self.minimumRSABits) to \(Self.maximumRSABits) are accepted")
            }
            self = .rsa(rsa)
        } else {
            throw WebAuthnError(.unsupported, "the attestation certificate's key is not P-256, Ed25519 or RSA")
        }
    }
}
