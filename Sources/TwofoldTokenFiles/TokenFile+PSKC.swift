extension TokenFile {
    /// Reads a PSKC file (RFC 6030): its HOTP and TOTP keys as tokens.
    ///
    /// Plain files, files encrypted with a pre-shared AES key (AES-CBC with the IV prepended,
    /// RFC 6030 §6.1) and files encrypted with a key derived from a password (PBKDF2, §6.2)
    /// are read. Every encrypted value must carry a `ValueMAC` (HMAC-SHA-1 or SHA-2, under the
    /// MAC key the file carries encrypted in `MACMethod/MACKey`), which is checked in constant
    /// time over IV ‖ ciphertext before anything is decrypted (§6.1.1).
    ///
    /// What each key becomes: the serial is the device's `SerialNo`, else the key's `Id`;
    /// digits come from `ResponseFormat` (DECIMAL only; 6 when absent); the hash from
    /// `Suite` (SHA-1 when absent); an HOTP key's counter from `Counter` (0 when absent); a
    /// TOTP key's period from `TimeInterval` (30 when absent). `Time`, `TimeDrift`, start and
    /// expiry dates and the container's signature are not read. A PIN key (`…:pskc:pin`) is
    /// skipped; a key whose PIN is typed with the code is refused.
    ///
    /// For safety the file must be UTF-8 with no document type declaration (no entities, no
    /// DTD), at most ``maximumFileSize`` bytes and ``maximumTokenCount`` key packages.
    ///
    /// - Parameters:
    ///   - bytes: the file.
    ///   - key: what opens it; a plain file opens with any.
    /// - Returns: the tokens in file order, or an empty array for a container with no keys.
    /// - Throws: ``TokenFileError``: `keyRequired` for encrypted data and no (or the wrong kind
    ///   of) key; `wrongKey` when a MAC does not hold; `unsupported` naming the key for OCRA,
    ///   challenge-response, non-decimal codes, other ciphers or key transport; `duplicateSerial`;
    ///   `tooLarge`; `malformed`. One bad key refuses the whole file.
    public static func readPSKC(_ bytes: [UInt8], key: TokenFileKey) throws(TokenFileError) -> [HardwareToken] {
        try checkSize(bytes)
        let reader = PSKCReader(key: key)
        try XMLSubtreeParser.parse(bytes, into: reader)
        return reader.tokens
    }
}
