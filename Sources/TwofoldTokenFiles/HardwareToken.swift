import TwofoldOTP

/// One OATH token read from a vendor's file: which device it is, its secret and how it makes
/// codes.
///
/// The readers in ``TokenFile`` only return tokens whose parameters TwofoldOTP accepts
/// (6–8 digits, a TOTP period of 1 s to 24 h, a non-empty secret) and whose serial is 1–64
/// printable characters. Its `description` never shows the secret.
public struct HardwareToken: Sendable, Equatable {
    /// How the token counts: events (HOTP, RFC 4226) or time (TOTP, RFC 6238).
    public enum Kind: Sendable, Equatable {
        /// An event token, with the counter its next code uses.
        case hotp(counter: UInt64)
        /// A time token, with its time step in seconds (T0 is the Unix epoch).
        case totp(period: Int)
    }

    /// The device serial (PSKC `DeviceInfo/SerialNo`, else the key's `Id`; the CSV's first
    /// column): 1–64 characters, no control characters.
    public var serial: String
    /// The raw shared secret.
    public var secret: [UInt8]
    public var kind: Kind
    /// The code length, 6 to 8.
    public var digits: Int
    /// The hash under HMAC.
    public var algorithm: OTPAlgorithm
    /// Who made the device, when the file says.
    public var manufacturer: String?

    public init(
        serial: String,
        secret: [UInt8],
        kind: Kind,
        digits: Int,
        algorithm: OTPAlgorithm = .sha1,
        manufacturer: String? = nil
    ) {
        self.serial = serial
        self.secret = secret
        self.kind = kind
        self.digits = digits
        self.algorithm = algorithm
        self.manufacturer = manufacturer
    }
}
