/// The shared key of an HOTP or TOTP token.
///
/// Its `description` never shows the key, so a secret that reaches a log line or an error
/// message by accident leaks nothing.
public struct OTPSecret: Sendable, Equatable, CustomStringConvertible, CustomDebugStringConvertible {
    /// The smallest secret Twofold generates: 160 bits, RFC 4226 §4 requirement R6.
    public static let minimumGeneratedSize = 20

    /// The raw key bytes.
    public let bytes: [UInt8]

    /// Wraps existing key bytes. Any non-empty key is accepted, because tokens already in
    /// the field have short ones; ``generate(byteCount:using:)`` never makes them.
    /// - Throws: `invalid_secret` when `bytes` is empty.
    public init(bytes: [UInt8]) throws(OTPError) {
        guard !bytes.isEmpty else {
            throw OTPError(.invalidSecret, "the secret is empty")
        }
        self.bytes = bytes
    }

    /// Decodes a Base32 secret as typed by a person or found in an `otpauth://` URI.
    /// - Throws: `invalid_base32` for text that is not Base32, `invalid_secret` when it is empty.
    public init(base32: String) throws(OTPError) {
        try self.init(bytes: try Base32.decode(base32))
    }

    /// The secret as unpadded upper-case Base32, the form authenticator apps expect.
    public var base32: String { Base32.encode(bytes, padding: false) }

    /// Draws a new secret of `byteCount` bytes.
    /// - Parameter generator: a cryptographically secure generator; the default,
    ///   `SystemRandomNumberGenerator`, reads the operating system's CSPRNG.
    /// - Throws: `invalid_secret` when `byteCount` is below 20 bytes (160 bits).
    public static func generate(
        byteCount: Int,
        using generator: inout some RandomNumberGenerator
    ) throws(OTPError) -> OTPSecret {
        guard byteCount >= minimumGeneratedSize else {
            throw OTPError(.invalidSecret, "a generated secret must have at least \(minimumGeneratedSize) bytes (160 bits), not \(byteCount)")
        }
        var bytes = [UInt8](repeating: 0, count: byteCount)
        var index = 0
        while index < byteCount {
            var word = generator.next()
            for _ in 0..<8 where index < byteCount {
                bytes[index] = UInt8(truncatingIfNeeded: word)
                word >>= 8
                index += 1
            }
        }
        return try OTPSecret(bytes: bytes)
    }

    /// Draws a new secret of the size recommended for `algorithm` (20, 32 or 64 bytes)
    /// from the system CSPRNG.
    public static func generate(for algorithm: OTPAlgorithm = .sha1) -> OTPSecret {
        var generator = SystemRandomNumberGenerator()
        return generate(for: algorithm, using: &generator)
    }

    /// Draws a new secret of the size recommended for `algorithm` from `generator`.
    public static func generate(
        for algorithm: OTPAlgorithm,
        using generator: inout some RandomNumberGenerator
    ) -> OTPSecret {
        do {
            return try generate(byteCount: algorithm.recommendedSecretSize, using: &generator)
        } catch {
            preconditionFailure("recommended secret sizes are at least 20 bytes")
        }
    }

    public var description: String { "OTPSecret(\(bytes.count) bytes, redacted)" }
    public var debugDescription: String { description }
}
