/// Why a token file was refused: a stable `code` and a `message` naming the line or key
/// package at fault, never a secret.
public struct TokenFileError: Error, Sendable, Equatable, CustomStringConvertible {
    public struct Code: RawRepresentable, Hashable, Sendable, CustomStringConvertible {
        public let rawValue: String
        public init(rawValue: String) { self.rawValue = rawValue }
        public var description: String { rawValue }

        /// Not well-formed XML or CSV, or a value of the wrong shape.
        public static let malformed = Code(rawValue: "malformed")
        /// Well-formed, but asks for something Twofold does not do (OCRA, an unknown cipher).
        public static let unsupported = Code(rawValue: "unsupported")
        /// Encrypted, and no key or password was given.
        public static let keyRequired = Code(rawValue: "key_required")
        /// The key or password given does not open the file (a value MAC does not hold).
        public static let wrongKey = Code(rawValue: "wrong_key")
        /// Two tokens with one serial.
        public static let duplicateSerial = Code(rawValue: "duplicate_serial")
        /// Larger than Twofold reads: more than ``TokenFile/maximumFileSize`` bytes or
        /// ``TokenFile/maximumTokenCount`` tokens.
        public static let tooLarge = Code(rawValue: "too_large")
    }

    public let code: Code
    public let message: String

    public init(_ code: Code, _ message: String) {
        self.code = code
        self.message = message
    }

    public var description: String { "\(code): \(message)" }
}
