import Crypto
import Foundation
import TwofoldOTP

/// Envelope encryption for one deployment: per-user data keys wrapped by the master key,
/// secrets sealed by data keys, each bound to its record's identity.
struct Sealer: Sendable {
    let store: any KeyStore
    let keyring: Keyring
    let random: any RandomSource

    static func dataKeyContext(_ applicationID: ApplicationID, _ userID: UserID) -> [String] {
        ["data-key", applicationID.rawValue, userID.rawValue]
    }

    static func systemKeyContext(_ name: String) -> [String] { ["system-key", name] }

    static func secretContext(_ applicationID: ApplicationID, _ userID: UserID, _ factorID: FactorID) -> [String] {
        ["otp-secret", applicationID.rawValue, userID.rawValue, factorID.rawValue]
    }

    /// The user's data key, created (and stored wrapped) on first use when `create` is set.
    func dataKey(_ applicationID: ApplicationID, _ userID: UserID, create: Bool) async throws -> SymmetricKey? {
        if let wrapped = try await store.wrappedDataKey(applicationID: applicationID, userID: userID) {
            return try openDataKey(wrapped, applicationID, userID)
        }
        guard create else { return nil }
        let fresh = SymmetricKey(data: random.bytes(32))
        let wrapped = try Envelope.wrap(fresh, under: keyring.sealing, context: Self.dataKeyContext(applicationID, userID), random: random)
        // Two nodes enrolling the same new user at once: the first insert wins, both use it.
        let stored = try await store.insertDataKeyIfAbsent(applicationID: applicationID, userID: userID, key: wrapped)
        return try openDataKey(stored, applicationID, userID)
    }

    /// The data key an attempt's snapshot holds, opened.
    /// - Throws: `sealing` when the snapshot has none or it does not open.
    func openDataKey(in snapshot: AttemptSnapshot, _ applicationID: ApplicationID, _ userID: UserID) throws(TwofoldError) -> SymmetricKey {
        guard let wrapped = snapshot.dataKey else { throw TwofoldError(.sealing, "the user's data key is missing") }
        return try openDataKey(wrapped, applicationID, userID)
    }

    func openDataKey(_ wrapped: WrappedKey, _ applicationID: ApplicationID, _ userID: UserID) throws(TwofoldError) -> SymmetricKey {
        try Envelope.unwrap(wrapped, keyring: keyring, context: Self.dataKeyContext(applicationID, userID))
    }

    func sealSecret(_ secret: OTPSecret, dataKey: SymmetricKey, _ applicationID: ApplicationID, _ userID: UserID, _ factorID: FactorID) throws(TwofoldError) -> [UInt8] {
        try Envelope.seal(secret.bytes, key: dataKey, context: Self.secretContext(applicationID, userID, factorID), random: random)
    }

    static func openSecret(_ sealed: [UInt8], dataKey: SymmetricKey, _ applicationID: ApplicationID, _ userID: UserID, _ factorID: FactorID) throws -> OTPSecret {
        let bytes = try Envelope.open(sealed, key: dataKey, context: secretContext(applicationID, userID, factorID))
        return try OTPSecret(bytes: bytes)
    }

    static func phoneContext(_ applicationID: ApplicationID, _ userID: UserID, _ factorID: FactorID) -> [String] {
        ["phone-number", applicationID.rawValue, userID.rawValue, factorID.rawValue]
    }

    /// A phone factor's number, sealed like an OTP secret but under its own context, so that a
    /// sealed number can never be opened as a secret or the other way round.
    func sealPhone(_ phone: PhoneNumber, dataKey: SymmetricKey, _ applicationID: ApplicationID, _ userID: UserID, _ factorID: FactorID) throws(TwofoldError) -> [UInt8] {
        try Envelope.seal(Array(phone.e164.utf8), key: dataKey, context: Self.phoneContext(applicationID, userID, factorID), random: random)
    }

    static func openPhone(_ sealed: [UInt8], dataKey: SymmetricKey, _ applicationID: ApplicationID, _ userID: UserID, _ factorID: FactorID) throws -> PhoneNumber {
        let bytes = try Envelope.open(sealed, key: dataKey, context: phoneContext(applicationID, userID, factorID))
        return try PhoneNumber(String(decoding: bytes, as: UTF8.self))
    }

    /// The key under which challenge codes are hashed, derived from the user's data key like the
    /// recovery codes' key.
    static func challengeCodeKey(dataKey: SymmetricKey) -> SymmetricKey {
        HKDF<SHA256>.deriveKey(inputKeyMaterial: dataKey, info: Array("twofold challenge codes v1".utf8), outputByteCount: 32)
    }

    /// Bound to the challenge's id, so that a hash copied onto another challenge matches nothing.
    static func challengeCodeHash(_ code: String, challengeID: ChallengeID, key: SymmetricKey) -> [UInt8] {
        Array(HMAC<SHA256>.authenticationCode(for: Array("\(challengeID.rawValue):\(code)".utf8), using: key))
    }

    /// The key under which recovery codes are hashed: derived from the user's data key, so
    /// the hashes are keyed per user and become useless once the user is erased.
    static func recoveryCodeKey(dataKey: SymmetricKey) -> SymmetricKey {
        HKDF<SHA256>.deriveKey(inputKeyMaterial: dataKey, info: Array("twofold recovery codes v1".utf8), outputByteCount: 32)
    }

    static func recoveryCodeHash(_ normalizedCode: String, key: SymmetricKey) -> [UInt8] {
        Array(HMAC<SHA256>.authenticationCode(for: Array(normalizedCode.utf8), using: key))
    }

    /// The deployment's own keys (audit MACs, pseudonyms), created on first start.
    func systemKey(_ name: String) async throws -> SymmetricKey {
        let context = Self.systemKeyContext(name)
        if let wrapped = try await store.systemKey(named: name) {
            return try Envelope.unwrap(wrapped, keyring: keyring, context: context)
        }
        let fresh = SymmetricKey(data: random.bytes(32))
        let wrapped = try Envelope.wrap(fresh, under: keyring.sealing, context: context, random: random)
        let stored = try await store.insertSystemKeyIfAbsent(named: name, key: wrapped)
        return try Envelope.unwrap(stored, keyring: keyring, context: context)
    }

    func auditChain() async throws -> AuditChain {
        AuditChain(macKey: try await systemKey("audit-mac"), pseudonymKey: try await systemKey("audit-pseudonym"))
    }

    /// Re-wraps one stored key under the sealing master key; returns whether this call did it.
    func rewrap(_ stored: StoredKey) async throws -> Bool {
        let context: [String]
        switch stored.owner {
        case .user(let applicationID, let userID): context = Self.dataKeyContext(applicationID, userID)
        case .system(let name): context = Self.systemKeyContext(name)
        }
        let key = try Envelope.unwrap(stored.key, keyring: keyring, context: context)
        let rewrapped = try Envelope.wrap(key, under: keyring.sealing, context: context, random: random)
        return try await store.rewrap(stored.owner, from: stored.key, to: rewrapped)
    }
}
