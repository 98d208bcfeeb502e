import Crypto

/// The relying party's two WebAuthn ceremonies: registering a credential (WebAuthn Level 2
/// §7.1) and verifying an assertion made with it (§7.2). Pure functions: the caller issues and
/// remembers challenges, stores credentials and counters.
public enum WebAuthn {
    /// The transports WebAuthn defines (§5.8.4, and Level 3's `smart-card` and `hybrid`).
    static let knownTransports: Set<String> = ["usb", "nfc", "ble", "smart-card", "hybrid", "internal"]

    /// Verifies a registration: the new credential was made by an authenticator the user was
    /// present at, for this relying party, in answer to this challenge, and its attestation
    /// statement verifies.
    ///
    /// - Parameters:
    ///   - credential: The browser's answer, parsed.
    ///   - challenge: The bytes issued for this ceremony (used once).
    ///   - relyingParty: The RP ID and the origins its pages are served from.
    ///   - requireUserVerification: Whether the authenticator must have verified the user.
    /// - Returns: What to store for the credential.
    /// - Throws: ``WebAuthnError`` with the code of the first check that failed, in the order of
    ///   §7.1: `type_mismatch`, `challenge_mismatch`, `origin_mismatch`, `rp_id_mismatch`,
    ///   `user_not_present`, `user_not_verified`, `malformed` (credential id),
    ///   `bad_attestation` or `unsupported`.
    public static func verifyRegistration(_ credential: RegistrationCredential, challenge: [UInt8], relyingParty: RelyingParty,
                                          requireUserVerification: Bool) throws(WebAuthnError) -> VerifiedRegistration {
        try checkClientData(credential.clientData, received: credential.decodedChallenge, type: "webauthn.create", challenge: challenge,
                            relyingParty: relyingParty)
        let clientDataHash = Array(SHA256.hash(data: credential.clientDataJSON))
        let attestation = credential.attestation
        let data = attestation.authenticatorData
        try checkAuthenticatorData(data, relyingParty: relyingParty, requireUserVerification: requireUserVerification)
        let attested = attestation.credential
        // The id the browser reports is the one the authenticator attested (§7.1 stores
        // it; a mismatch means the JSON was put together from two responses).
        guard attested.credentialID == credential.id else {
            throw WebAuthnError(.malformed, "the credential's rawId is not the credential id in its authenticator data")
        }
        let attestationType = try attestation.verify(clientDataHash: clientDataHash)
        var transports: [String] = []
        for transport in credential.transports where knownTransports.contains(transport) && !transports.contains(transport) {
            transports.append(transport)
        }
        return VerifiedRegistration(
            credentialID: attested.credentialID, publicKey: attested.publicKeyBytes, algorithm: attested.algorithm,
            signCount: data.signCount, aaguid: attested.aaguid, attestationFormat: attestation.format,
            attestationType: attestationType, transports: transports,
            userVerified: data.flags.contains(.userVerified), backupEligible: data.flags.contains(.backupEligible),
            backedUp: data.flags.contains(.backedUp))
    }

    /// Verifies an assertion: the credential's key signed this relying party's authenticator
    /// data and this challenge, the user was present, and the counter moved forward.
    ///
    /// - Parameters:
    ///   - credential: The browser's answer, parsed; look up `publicKey` by its `id`.
    ///   - challenge: The bytes issued for this ceremony (used once).
    ///   - relyingParty: The RP ID and the origins its pages are served from.
    ///   - publicKey: The COSE_Key bytes stored at registration (``VerifiedRegistration/publicKey``).
    ///   - storedSignCount: The counter stored for the credential.
    ///   - requireUserVerification: Whether the authenticator must have verified the user.
    /// - Returns: The new counter to store and whether the user was verified.
    /// - Throws: ``WebAuthnError`` with the code of the first check that failed, in the order of
    ///   §7.2: `type_mismatch`, `challenge_mismatch`, `origin_mismatch`, `rp_id_mismatch`,
    ///   `user_not_present`, `user_not_verified`, `bad_signature`, and — only once the signature
    ///   verified — `sign_count_not_increased`; `malformed` or `unsupported` for a stored key
    ///   that cannot be read.
    public static func verifyAssertion(_ credential: AuthenticationCredential, challenge: [UInt8], relyingParty: RelyingParty,
                                       publicKey: [UInt8], storedSignCount: UInt32,
                                       requireUserVerification: Bool) throws(WebAuthnError) -> VerifiedAssertion {
        let key = try VerifyingKey(coseKey: publicKey)
        try checkClientData(credential.clientData, received: credential.decodedChallenge, type: "webauthn.get", challenge: challenge,
                            relyingParty: relyingParty)
        let data = credential.parsedAuthenticatorData
        try checkAuthenticatorData(data, relyingParty: relyingParty, requireUserVerification: requireUserVerification)
        // §7.2: the signature over authenticatorData || SHA-256(clientDataJSON).
        let signed = credential.authenticatorData + Array(SHA256.hash(data: credential.clientDataJSON))
        guard key.isValidSignature(credential.signature, for: signed) else {
            throw WebAuthnError(.badSignature, "the assertion's signature does not verify with the credential's public key")
        }
        // §7.2: a counter that does not move forward may mean a cloned authenticator.
        // Authenticators without a counter always send 0, which is accepted while both are 0.
        if storedSignCount != 0 || data.signCount != 0, data.signCount <= storedSignCount {
            throw WebAuthnError(.signCountNotIncreased,
                                "the signature counter is \(data.signCount), not above the stored \(storedSignCount): the authenticator may have been cloned")
        }
        return VerifiedAssertion(signCount: data.signCount, userVerified: data.flags.contains(.userVerified))
    }

    /// §7.1 and §7.2: type, challenge, origin, and no cross-origin frame.
    private static func checkClientData(_ clientData: ClientData, received: [UInt8], type: String, challenge: [UInt8],
                                        relyingParty: RelyingParty) throws(WebAuthnError) {
        guard clientData.type == type else {
            throw WebAuthnError(.typeMismatch, "client data type is \"\(clientData.type)\", not \"\(type)\"")
        }
        guard ConstantTime.equal(received, challenge) else {
            throw WebAuthnError(.challengeMismatch, "client data challenge is not the one issued for this ceremony")
        }
        guard relyingParty.origins.contains(clientData.origin) else {
            throw WebAuthnError(.originMismatch, "origin \"\(clientData.origin)\" is not one of the relying party's origins \(relyingParty.origins)")
        }
        guard clientData.crossOrigin != true else {
            throw WebAuthnError(.originMismatch, "the ceremony ran in a cross-origin frame (crossOrigin true), which is not accepted")
        }
    }

    /// §7.1 and §7.2: RP ID hash, user presence, user verification.
    private static func checkAuthenticatorData(_ data: AuthenticatorData, relyingParty: RelyingParty,
                                               requireUserVerification: Bool) throws(WebAuthnError) {
        guard data.rpIDHash == Array(SHA256.hash(data: Array(relyingParty.id.utf8))) else {
            throw WebAuthnError(.rpIDMismatch, "the authenticator data is for another RP ID than \"\(relyingParty.id)\"")
        }
        guard data.flags.contains(.userPresent) else {
            throw WebAuthnError(.userNotPresent, "the authenticator did not report the user present (UP flag)")
        }
        guard !requireUserVerification || data.flags.contains(.userVerified) else {
            throw WebAuthnError(.userNotVerified, "user verification is required but the authenticator did not verify the user (UV flag)")
        }
    }
}
