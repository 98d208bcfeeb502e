import ArgumentParser
import TwofoldOTP
import TwofoldQR

/// `twofold otp uri`: builds the otpauth:// URI an authenticator app scans.
struct OTPURICommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "uri",
        abstract: "Print an otpauth:// URI for an authenticator app, generating a secret unless one is given.",
        discussion: """
            Without --secret-file (or --secret), a new secret is generated, of the size RFC 4226 and \
            RFC 6238 recommend for the algorithm: 20, 32 or 64 bytes. --secret-file - reads the \
            secret from standard input.
            """
    )

    @Option(help: "The service name the app shows.")
    var issuer: String

    @Option(help: "The account name the app shows (the user's name at the issuer).")
    var account: String

    /// Without one, a new random secret.
    @OptionGroup var secretInput: SecretOptions
    @OptionGroup var token: TokenOptions

    @Option(help: "Build an HOTP URI starting at this counter instead of a TOTP one.")
    var counter: UInt64?

    @Flag(help: "Also draw the URI as a QR code in the terminal, under it.")
    var qr = false

    func run() throws {
        let secret = try secretInput.read()
        let method: OTPAuthURI.Method = counter.map { .hotp(counter: $0) } ?? .totp(period: token.period)
        do {
            let uri = try OTPAuthURI(
                method: method,
                account: account,
                issuer: issuer,
                secret: secret ?? OTPSecret.generate(for: token.algorithm),
                algorithm: token.algorithm,
                digits: token.digits
            )
            print(uri.string)
            if qr {
                let code = try QRCode(text: uri.string, errorCorrection: .medium)
                StandardOutput.write(QRDrawing.render(code, format: .terminal))
            }
        } catch let error as OTPError {
            throw ValidationError(error.message)
        }
    }
}
