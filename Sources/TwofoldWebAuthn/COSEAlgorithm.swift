/// The signature algorithms Twofold verifies, by their COSE identifiers (RFC 9053, RFC 8812).
///
/// These are the three that `CreationOptions` offers, in that order of preference: ES256 is what
/// security keys use, EdDSA what some newer ones prefer, RS256 what Windows Hello's TPM keys use.
public enum COSEAlgorithm: Int, Sendable {
    /// ECDSA on P-256 with SHA-256; WebAuthn carries the signature in DER.
    case es256 = -7
    /// Ed25519.
    case eddsa = -8
    /// RSASSA-PKCS1-v1_5 with SHA-256, keys of 2048 bits or more.
    case rs256 = -257
}
