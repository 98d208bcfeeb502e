import ArgumentParser
import Foundation
import TwofoldOTP

extension OTPAlgorithm: ExpressibleByArgument {
    public init?(argument: String) {
        guard let algorithm = try? OTPAlgorithm(name: argument) else { return nil }
        self = algorithm
    }
}

extension OTPSecret: ExpressibleByArgument {
    public init?(argument: String) {
        guard let secret = try? OTPSecret(base32: argument) else { return nil }
        self = secret
    }

    public static var defaultCompletionKind: CompletionKind { .default }
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
    @Option(help: "Unix time in seconds for TOTP (default: now).")
    var time: UInt64?

    @Option(help: "HOTP counter; selects HOTP instead of TOTP.")
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
