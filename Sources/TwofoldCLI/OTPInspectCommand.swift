import ArgumentParser
import Foundation
import TwofoldOTP

/// `twofold otp inspect`: reads an otpauth:// URI back.
struct OTPInspectCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "inspect",
        abstract: "Print the parameters of an otpauth:// URI, or why it cannot be used.",
        discussion: """
            Exit status 1 when the URI cannot be parsed; the reason goes to standard error. The URI \
            holds the secret: give it with --uri-file FILE, or --uri-file - on standard input \
            (`jq -r .otpauth_uri enrollment.json | twofold otp inspect --uri-file -`), rather than \
            as an argument, which other users can see.
            """
    )

    @Option(help: ArgumentHelp("A file holding the otpauth:// URI on one line (a trailing newline is allowed, nothing else), or - to read it from standard input.",
                               valueName: "file"))
    var uriFile: String?

    @Argument(help: "The otpauth:// URI. It holds the secret, which other users can see in the process list: use --uri-file.")
    var uri: String?

    @Flag(help: "Print one JSON object instead of aligned text.")
    var json = false

    func validate() throws {
        switch (uriFile, uri) {
        case (nil, nil): throw ValidationError("give the URI: --uri-file FILE, or --uri-file - to read it from standard input")
        case (_?, _?): throw ValidationError("give the URI once: --uri-file FILE (or - for standard input), or as the argument")
        default: break
        }
    }

    func run() throws {
        let text: String
        if let uriFile {
            text = try OTPSecretInput.read(uriFile, option: "--uri-file")
        } else {
            text = uri ?? ""
            if OTPSecretInput.holdsSecret(text) { OTPSecretInput.warnCommandLine("the URI, with its secret,", use: "--uri-file") }
        }
        let parsed: OTPAuthURI
        do {
            parsed = try OTPAuthURI(parsing: text)
        } catch {
            throw error.failure
        }
        var fields: [(String, String)] = []
        switch parsed.method {
        case .totp:
            fields.append(("type", "totp"))
        case .hotp:
            fields.append(("type", "hotp"))
        }
        fields.append(("issuer", parsed.issuer ?? ""))
        fields.append(("account", parsed.account))
        fields.append(("secret", parsed.secret.base32))
        fields.append(("algorithm", parsed.algorithm.rawValue))
        fields.append(("digits", String(parsed.digits)))
        switch parsed.method {
        case .totp(let period):
            fields.append(("period", String(period)))
        case .hotp(let counter):
            fields.append(("counter", String(counter)))
        }
        if json {
            print(try Self.jsonObject(fields, parsed: parsed))
        } else {
            let width = fields.map(\.0.count).max() ?? 0
            for (name, value) in fields {
                print(name.padding(toLength: width + 2, withPad: " ", startingAt: 0) + value)
            }
        }
    }

    private static func jsonObject(_ fields: [(String, String)], parsed: OTPAuthURI) throws -> String {
        var object: [String: Any] = [:]
        for (name, value) in fields { object[name] = value }
        object["issuer"] = parsed.issuer.map { $0 as Any } ?? NSNull()
        object["digits"] = parsed.digits
        switch parsed.method {
        case .totp(let period): object["period"] = period
        case .hotp(let counter): object["counter"] = counter
        }
        let data = try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys])
        return String(decoding: data, as: UTF8.self)
    }
}
