import ArgumentParser
import TwofoldOTP

/// `twofold otp verify`: checks a code and prints the step or counter it matched.
struct OTPVerifyCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "verify",
        abstract: "Check a code; print the matched absolute time step (or HOTP counter).",
        discussion: """
            TOTP (the default) accepts codes within --window steps either side of the step at \
            --time (default now). With --counter, HOTP accepts the counters from N to N + window. \
            Exit status 0 and the matched step or counter on standard output when the code is \
            valid; 1 when it is not; 2 when the code is not a code at all (not --digits digits). \
            Give the secret with --secret-file FILE, or --secret-file - on standard input: an \
            argument is visible to other users.
            """
    )

    @OptionGroup var secretInput: SecretOptions
    @OptionGroup var token: TokenOptions
    @OptionGroup var moment: MomentOptions

    @Option(help: "Steps either side (TOTP, at most 100) or counters ahead (HOTP, at most 1000) to accept.")
    var window: Int = 1

    @Argument(help: "The code to check.")
    var code: String

    func validate() throws {
        guard secretInput.isGiven else { throw SecretOptions.missing }
        let limit = moment.counter == nil ? TOTP.maximumWindow : Int(HOTP.maximumLookAhead)
        guard (0...limit).contains(window) else {
            throw ValidationError("--window must be 0 to \(limit), not \(window)")
        }
    }

    func run() throws {
        let secret = try secretInput.require()
        let matched: UInt64?
        do {
            if let counter = moment.counter {
                let hotp = try HOTP(secret: secret, algorithm: token.algorithm, digits: token.digits)
                matched = try hotp.verify(code, counter: counter, lookAhead: UInt64(window))
            } else {
                let totp = try TOTP(secret: secret, algorithm: token.algorithm, digits: token.digits, period: token.period)
                matched = try totp.verify(code, at: moment.unixTime, window: window)
            }
        } catch where error.code == .malformedCode {
            // Not a wrong code but not a code at all: bad usage.
            throw ValidationError(error.message)
        } catch {
            throw error.failure
        }
        guard let matched else {
            throw CommandFailure("invalid code")
        }
        print(matched)
    }
}
