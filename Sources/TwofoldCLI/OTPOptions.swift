import ArgumentParser
import Foundation
import TwofoldOTP

extension OTPAlgorithm: ExpressibleByArgument {
    public init?(argument: String) {
        guard let algorithm = try? OTPAlgorithm(name: argument) else { return nil }
        self = algorithm
    }
}

/// Option values parsed with the reason a refused one is refused, which swift-argument-parser
/// prints after "The value … is invalid for …:".
enum OTPArgument {
    /// A Base32 secret, or why it is not one (a character outside the alphabet, too short, …).
    static func secret(_ text: String) throws -> OTPSecret {
        do {
            return try OTPSecret(base32: text)
        } catch {
            throw ValidationError(error.message)
        }
    }

    /// A Unix time: whole seconds since 1970-01-01T00:00:00Z, the TOTP epoch.
    static func unixTime(_ text: String) throws -> UInt64 {
        if let seconds = UInt64(text) { return seconds }
        if isNegativeWholeNumber(text) {
            throw ValidationError("a Unix time cannot be negative: TOTP counts time steps from 1970-01-01T00:00:00Z (time 0), and no code exists before it")
        }
        if !text.isEmpty, text.allSatisfy({ $0.isASCII && $0.isNumber }) {
            throw ValidationError("the time is too far in the future: use at most \(UInt64.max)")
        }
        throw ValidationError("use a whole number of seconds since 1970-01-01T00:00:00Z, such as 1700000000 (`date +%s` prints the current one)")
    }

    /// An HOTP counter: a whole number from 0 to 2^64 − 1.
    static func counter(_ text: String) throws -> UInt64 {
        if let counter = UInt64(text) { return counter }
        if isNegativeWholeNumber(text) {
            throw ValidationError("an HOTP counter cannot be negative: counters start at 0")
        }
        throw ValidationError("use a whole number from 0 to \(UInt64.max)")
    }

    private static func isNegativeWholeNumber(_ text: String) -> Bool {
        text.count > 1 && text.hasPrefix("-") && text.dropFirst().allSatisfy { $0.isASCII && $0.isNumber }
    }
}

/// `--secret-file FILE | -` or `--secret BASE32`: the shared secret of `code`, `verify` and `uri`.
///
/// The file form comes first and is the one documented: an argument is visible to every user
/// of the machine in the process list, and `--secret` stays only so that existing scripts keep
/// working (with a warning on standard error).
struct SecretOptions: ParsableArguments {
    @Option(help: ArgumentHelp("A file holding the shared secret in Base32 on one line (a trailing newline is allowed, nothing else), or - to read it from standard input.",
                               valueName: "file"))
    var secretFile: String?

    @Option(help: ArgumentHelp("The shared secret in Base32 (spaces, hyphens, lower case and missing padding are accepted). Other users can see it in the process list: use --secret-file.",
                               valueName: "base32"),
            transform: OTPArgument.secret)
    var secret: OTPSecret?

    func validate() throws {
        try OTPSecretInput.validate(file: secretFile, argument: secret)
    }

    /// Whether a secret was given, in either form.
    var isGiven: Bool { secretFile != nil || secret != nil }

    /// The secret given, read from its file or standard input, or `nil` when none was.
    func read() throws -> OTPSecret? {
        try OTPSecretInput.secret(file: secretFile, argument: secret)
    }

    /// The secret given; for commands that cannot go without one (``validate()`` of the
    /// command has checked ``isGiven``).
    func require() throws -> OTPSecret {
        guard let secret = try read() else { throw Self.missing }
        return secret
    }

    static let missing = ValidationError("give the secret: --secret-file FILE, or --secret-file - to read it from standard input")
}

/// The token parameters shared by `code`, `verify` and `uri`.
struct TokenOptions: ParsableArguments {
    @Option(help: "HMAC hash: sha1, sha256 or sha512.")
    var algorithm: OTPAlgorithm = .sha1

    @Option(help: "Code length: 6, 7 or 8.")
    var digits: Int = 6

    @Option(help: "TOTP time step in seconds (1 to 86400).")
    var period: Int = 30

    func validate() throws {
        guard (6...8).contains(digits) else {
            throw ValidationError("--digits must be 6, 7 or 8, not \(digits)")
        }
        guard TOTP.allowedPeriods.contains(period) else {
            throw ValidationError("--period must be 1 to 86400 seconds, not \(period)")
        }
    }
}

/// `--time UNIX | --counter N`: which moment or counter a command is about.
struct MomentOptions: ParsableArguments {
    // `.unconditional`: "--time -1" reaches the transform, which says why it is refused,
    // instead of being read as an unknown option.
    @Option(parsing: .unconditional, help: "Unix time in seconds for TOTP (default: now).", transform: OTPArgument.unixTime)
    var time: UInt64?

    @Option(parsing: .unconditional, help: "HOTP counter; selects HOTP instead of TOTP.", transform: OTPArgument.counter)
    var counter: UInt64?

    func validate() throws {
        if time != nil, counter != nil {
            throw ValidationError("give either --time (TOTP) or --counter (HOTP), not both")
        }
    }

    /// The time to use for TOTP: `--time`, or the system clock now.
    var unixTime: UInt64 {
        time ?? UInt64(max(0, Date().timeIntervalSince1970))
    }
}

extension OTPError {
    /// The error as a failed operation (exit status 1).
    var failure: CommandFailure { CommandFailure(message) }
}
