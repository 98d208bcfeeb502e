import ArgumentParser
import TwofoldOTP

/// `twofold otp code`: prints the current (or a given) code, and nothing else.
struct OTPCodeCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "code",
        abstract: "Print the code for a secret (TOTP now by default, or at --time, or HOTP at --counter).",
        discussion: "Only the code is printed on standard output, so it can be used in scripts."
    )

    @Option(help: ArgumentHelp("The shared secret in Base32 (spaces, hyphens, lower case and missing padding are accepted).", valueName: "base32"),
            transform: OTPArgument.secret)
    var secret: OTPSecret

    @OptionGroup var token: TokenOptions
    @OptionGroup var moment: MomentOptions

    func run() throws {
        do {
            if let counter = moment.counter {
                let hotp = try HOTP(secret: secret, algorithm: token.algorithm, digits: token.digits)
                print(hotp.code(counter: counter))
            } else {
                let totp = try TOTP(secret: secret, algorithm: token.algorithm, digits: token.digits, period: token.period)
                print(try totp.code(at: moment.unixTime))
            }
        } catch {
            throw error.failure
        }
    }
}
