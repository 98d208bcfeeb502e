import ArgumentParser
import Foundation
import TwofoldOTP

/// `twofold otp inspect`: reads an otpauth:// URI back.
struct OTPInspectCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "inspect",
        abstract: "Print the parameters of an otpauth:// URI, or why it cannot be used.",
        discussion: "Exit status 1 when the URI cannot be parsed; the reason goes to standard error."
    )

    @Argument(help: "The otpauth:// URI.")
    var uri: String

    @Flag(help: "Print one JSON object instead of aligned text.")
    var json = false

    func run() throws {
        let parsed: OTPAuthURI
        do {
            parsed = try OTPAuthURI(parsing: uri)
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
