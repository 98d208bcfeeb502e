/// The authenticator's own statement about a ceremony (WebAuthn §6.1): which relying party,
/// which flags, which counter, and at registration the new credential.
///
/// Parsing checks the structure only; the ceremonies check the values.
struct AuthenticatorData: Sendable {
    /// The flags byte of §6.1.
    struct Flags: OptionSet, Sendable {
        let rawValue: UInt8
        static let userPresent = Flags(rawValue: 0x01)
        static let userVerified = Flags(rawValue: 0x04)
        static let backupEligible = Flags(rawValue: 0x08)
        static let backedUp = Flags(rawValue: 0x10)
        static let attestedCredentialData = Flags(rawValue: 0x40)
        static let extensionData = Flags(rawValue: 0x80)
    }

    /// rpIdHash (32), flags (1), signCount (4).
    static let minimumCount = 37
    /// WebAuthn Level 3 §7.1 refuses credential ids longer than 1023 bytes.
    static let maximumCredentialIDCount = 1023

    /// The bytes as received: signatures are over these, never over a re-encoding.
    let bytes: [UInt8]
    /// SHA-256 of the RP ID the credential is scoped to.
    let rpIDHash: [UInt8]
    let flags: Flags
    let signCount: UInt32
    /// Present exactly when the AT flag is set.
    let attestedCredentialData: AttestedCredentialData?
    /// The extension outputs map, present exactly when the ED flag is set.
    let extensions: CBORValue?

    /// Parses authenticator data (WebAuthn §6.1 and §6.5.2).
    /// - Throws: ``WebAuthnError`` `malformed` when the data is short, the AT and ED flags do not
    ///   match what follows the counter, BS is set without BE, or bytes are left over;
    ///   `unsupported` for a credential key Twofold does not verify.
    init(_ bytes: [UInt8]) throws(WebAuthnError) {
        guard bytes.count >= Self.minimumCount else {
            throw WebAuthnError(.malformed, "authenticator data is \(bytes.count) bytes; it needs at least \(Self.minimumCount)")
        }
        self.bytes = bytes
        rpIDHash = Array(bytes[0..<32])
        flags = Flags(rawValue: bytes[32])
        signCount = bytes[33..<37].reduce(0) { $0 << 8 | UInt32($1) }
        // §6.1.3: a credential that cannot be backed up cannot be backed up.
        if flags.contains(.backedUp), !flags.contains(.backupEligible) {
            throw WebAuthnError(.malformed, "authenticator data has the backed-up flag (BS) without backup eligibility (BE)")
        }
        var rest = bytes[Self.minimumCount...]
        if flags.contains(.attestedCredentialData) {
            let (data, consumed) = try AttestedCredentialData.parsePrefix(rest)
            attestedCredentialData = data
            rest = rest.dropFirst(consumed)
        } else {
            attestedCredentialData = nil
        }
        if flags.contains(.extensionData) {
            guard !rest.isEmpty else {
                throw WebAuthnError(.malformed, "authenticator data has the ED flag but no extensions")
            }
            let (value, consumed) = try CBORDecoder.decodePrefix(Array(rest))
            guard value.map != nil else {
                throw WebAuthnError(.malformed, "authenticator data's extensions are not a CBOR map")
            }
            extensions = value
            rest = rest.dropFirst(consumed)
        } else {
            extensions = nil
        }
        guard rest.isEmpty else {
            throw WebAuthnError(.malformed, "authenticator data has \(rest.count) bytes that its AT and ED flags do not account for")
        }
    }
}
