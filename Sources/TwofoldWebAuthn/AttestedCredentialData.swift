/// The credential a registration creates, as the authenticator data carries it (WebAuthn
/// §6.5.2): aaguid (16), credentialIdLength (2, big-endian), credentialId, credentialPublicKey.
struct AttestedCredentialData: Sendable {
    /// The authenticator model's id; all zeros when the authenticator does not say.
    let aaguid: [UInt8]
    let credentialID: [UInt8]
    /// The COSE_Key exactly as encoded, which is what a relying party stores.
    let publicKeyBytes: [UInt8]
    let publicKey: VerifyingKey
    let algorithm: COSEAlgorithm

    /// Reads attested credential data from the start of `bytes`.
    /// - Returns: The data and how many bytes it took (extensions may follow).
    static func parsePrefix(_ bytes: ArraySlice<UInt8>) throws(WebAuthnError) -> (AttestedCredentialData, Int) {
        guard bytes.count >= 18 else {
            throw WebAuthnError(.malformed, "authenticator data has the AT flag but only \(bytes.count) bytes of attested credential data")
        }
        let start = bytes.startIndex
        let aaguid = Array(bytes[start..<start + 16])
        let idCount = Int(bytes[start + 16]) << 8 | Int(bytes[start + 17])
        guard idCount <= AuthenticatorData.maximumCredentialIDCount else {
            throw WebAuthnError(.malformed, "the credential id is \(idCount) bytes; at most \(AuthenticatorData.maximumCredentialIDCount) are allowed")
        }
        guard idCount <= bytes.count - 18 else {
            throw WebAuthnError(.malformed, "the credential id claims \(idCount) bytes but \(bytes.count - 18) are left")
        }
        let credentialID = Array(bytes[start + 18..<start + 18 + idCount])
        let keyStart = start + 18 + idCount
        let (value, keyCount) = try CBORDecoder.decodePrefix(Array(bytes[keyStart...]))
        let key = try VerifyingKey(cose: value)
        let data = AttestedCredentialData(aaguid: aaguid, credentialID: credentialID,
                                          publicKeyBytes: Array(bytes[keyStart..<keyStart + keyCount]),
                                          publicKey: key, algorithm: key.algorithm)
        return (data, 18 + idCount + keyCount)
    }
}
