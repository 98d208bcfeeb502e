import ArgumentParser
import TwofoldOTP

/// `twofold otp code`: prints the current (or a given) code, and nothing else.
struct OTPCodeCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "code",
        abstract: "Print the code for a secret (TOTP now by default, or at --time, or HOTP at --counter).",
        discussion: """
            Only the code is printed on standard output, so it can be used in scripts. Give the \
            secret with --secret-file FILE, or --secret-file - on standard input \
            (`twofold otp code --secret-file - <<< "$SECRET"`): an argument is visible to other users.
            """
    )

    @OptionGroup var secretInput: SecretOptions
    @OptionGroup var token: TokenOptions
    @OptionGroup var moment: MomentOptions

    func validate() throws {
        guard secretInput.isGiven else { throw SecretOptions.missing }
    }

    func run() throws {
        let secret = try secretInput.require()
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
