import Crypto

extension AttestationObject {
    /// Verifies a "fido-u2f" statement (WebAuthn §8.6): a U2F key's registration signature,
    /// made by its P-256 attestation key over the U2F registration's fields.
    func verifyFIDOU2F(clientDataHash: [UInt8]) throws(WebAuthnError) -> AttestationType {
        guard let signature = statement[.text("sig")]?.bytes else {
            throw WebAuthnError(.badAttestation, "the fido-u2f statement has no sig byte string")
        }
        guard let x5c = statement[.text("x5c")], let chain = x5c.array, chain.count == 1 else {
            throw WebAuthnError(.badAttestation, "the fido-u2f statement's x5c must hold exactly one certificate")
        }
        let certificate = try Self.leafCertificate(x5c)
        guard let attestationKey = P256.Signing.PublicKey(certificate.publicKey) else {
            throw WebAuthnError(.badAttestation, "the fido-u2f attestation certificate's key is not P-256")
        }
        guard case .p256(let credentialKey) = credential.publicKey else {
            throw WebAuthnError(.badAttestation, "a fido-u2f credential must be a P-256 key, not \(credential.algorithm)")
        }
        // §8.6: 0x00 || rpIdHash || clientDataHash || credentialId || publicKeyU2F.
        let verificationData: [UInt8] = [0x00] + authenticatorData.rpIDHash + clientDataHash + credential.credentialID
            + Array(credentialKey.x963Representation)
        guard VerifyingKey.p256(attestationKey).isValidSignature(signature, for: verificationData) else {
            throw WebAuthnError(.badAttestation, "the fido-u2f signature does not verify with its certificate's key")
        }
        return .basic
    }
}
