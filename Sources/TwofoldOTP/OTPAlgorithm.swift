/// The hash function under HMAC (RFC 4226 uses SHA-1; RFC 6238 adds SHA-256 and SHA-512).
///
/// - Important: SHA-1's collision weakness does not carry over to HMAC-SHA-1, whose security
///   rests on the compression function as a PRF (RFC 2104, RFC 6194 §3.2). It stays the
///   default because it is the one algorithm every authenticator app supports.
public enum OTPAlgorithm: String, Sendable, CaseIterable, CustomStringConvertible {
    case sha1
    case sha256
    case sha512

    /// Parses `sha1`, `SHA1`, `SHA-1`, `sha256`, … (case-insensitive, optional hyphen).
    public init(name: String) throws(OTPError) {
        let normalized = String(name.lowercased().filter { $0 != "-" })
        guard let algorithm = OTPAlgorithm(rawValue: normalized) else {
            throw OTPError(.unknownAlgorithm, "unknown algorithm \"\(name)\": use sha1, sha256 or sha512")
        }
        self = algorithm
    }

    /// The name used in `otpauth://` URIs: `SHA1`, `SHA256`, `SHA512`.
    public var uriName: String { rawValue.uppercased() }

    /// The size of the digest in bytes.
    public var digestSize: Int {
        switch self {
        case .sha1: 20
        case .sha256: 32
        case .sha512: 64
        }
    }

    /// The secret size Twofold generates: the digest size, as RFC 4226 §4 (R6) and
    /// RFC 6238 §5.1 recommend, and never below 160 bits.
    public var recommendedSecretSize: Int { digestSize }

    public var description: String { rawValue }
}
