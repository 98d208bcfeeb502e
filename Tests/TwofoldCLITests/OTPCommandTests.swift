import Foundation
import Testing
import TwofoldOTP

/// `twofold otp …` run as a real process: output, standard error and exit status.
@Suite("twofold otp commands")
struct OTPCommandTests {
    /// RFC 6238's SHA-1 seed "12345678901234567890" in Base32.
    let seed = "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ"

    @Test("otp code prints only the code: TOTP at --time, HOTP at --counter")
    func code() async throws {
        let totp = try await TwofoldBinary.run(["otp", "code", "--secret", seed, "--time", "59", "--digits", "8"])
        #expect(totp.status == 0)
        #expect(totp.standardOutput == "94287082\n")
        // Still accepted, for existing scripts, with a warning: the secret is in the process list.
        #expect(totp.standardError.contains("visible to other users in the process list"))

        let hotp = try await TwofoldBinary.run(["otp", "code", "--secret", seed.lowercased(), "--counter", "0"])
        #expect(hotp.standardOutput == "755224\n")

        let sha512 = try await TwofoldBinary.run([
            "otp", "code", "--algorithm", "sha512", "--digits", "8", "--time", "1111111111",
            "--secret", "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQGEZDGNA",
        ])
        #expect(sha512.standardOutput == "99943326\n")
    }

    @Test("otp code without --time uses the current time")
    func codeNow() async throws {
        let result = try await TwofoldBinary.run(["otp", "code", "--secret", seed])
        let totp = try TOTP(secret: OTPSecret(base32: seed))
        let now = UInt64(Date().timeIntervalSince1970)
        let accepted = try [now - 1, now, now + 1].map { try totp.code(at: $0) }
        #expect(accepted.contains(result.standardOutput.trimmingCharacters(in: .newlines)))
    }

    @Test("otp verify exits 0 and prints the matched step; exits 1 for a wrong code, 2 for a malformed one")
    func verify() async throws {
        let valid = try await TwofoldBinary.run(["otp", "verify", "--secret", seed, "--time", "89", "--digits", "8", "94287082"])
        #expect(valid.status == 0)
        #expect(valid.standardOutput == "1\n")  // code of step 1 (time 59), accepted one step late

        let hotp = try await TwofoldBinary.run(["otp", "verify", "--secret", seed, "--counter", "3", "--window", "5", "162583"])
        #expect(hotp.status == 0)
        #expect(hotp.standardOutput == "7\n")

        let wrong = try await TwofoldBinary.run(["otp", "verify", "--secret", seed, "--time", "59", "000000"])
        #expect(wrong.status == 1)
        #expect(wrong.standardOutput.isEmpty)
        #expect(wrong.standardError.contains("invalid code"))

        let outside = try await TwofoldBinary.run(["otp", "verify", "--secret", seed, "--time", "149", "--digits", "8", "--window", "1", "94287082"])
        #expect(outside.status == 1)

        let malformed = try await TwofoldBinary.run(["otp", "verify", "--secret", seed, "--time", "59", "12ab56"])
        #expect(malformed.status == 2)
        #expect(malformed.standardError.contains("6 digits"))
    }

    @Test("bad usage exits 2 with the reason on standard error", arguments: [
        ["otp", "code", "--secret", "GEZDGNBVGY3TQOJQ", "--digits", "9"],
        ["otp", "code", "--secret", "GEZDGNBVGY3TQOJQ", "--period", "0"],
        ["otp", "code", "--secret", "not base32!"],
        ["otp", "code", "--secret", "GEZDGNBVGY3TQOJQ", "--algorithm", "md5"],
        ["otp", "code", "--secret", "GEZDGNBVGY3TQOJQ", "--time", "1", "--counter", "2"],
        ["otp", "code", "--secret", "GEZDGNBVGY3TQOJQ", "--time", "-5"],
        ["otp", "code", "--no-such-option"],
        ["otp", "code"],
        ["otp", "verify", "--secret", "GEZDGNBVGY3TQOJQ", "--window", "101", "123456"],
        ["otp", "uri", "--issuer", "A:B", "--account", "alice"],
        ["otp", "frobnicate"],
    ])
    func usage(arguments: [String]) async throws {
        let result = try await TwofoldBinary.run(arguments)
        #expect(result.status == 2, "\(arguments)")
        #expect(result.standardOutput.isEmpty)
        #expect(result.standardError.contains("Error") || result.standardError.contains("error"))
    }

    @Test("otp uri builds a URI with a fresh 160-bit secret, which otp inspect reads back")
    func uriAndInspect() async throws {
        let built = try await TwofoldBinary.run(["otp", "uri", "--issuer", "ACME Co", "--account", "alice@example.com"])
        #expect(built.status == 0)
        let text = built.standardOutput.trimmingCharacters(in: .newlines)
        let uri = try OTPAuthURI(parsing: text)
        #expect(uri.issuer == "ACME Co")
        #expect(uri.account == "alice@example.com")
        #expect(uri.secret.bytes.count == 20)

        let other = try await TwofoldBinary.run(["otp", "uri", "--issuer", "ACME Co", "--account", "alice@example.com"])
        #expect(other.standardOutput != built.standardOutput)

        let inspected = try await TwofoldBinary.run(["otp", "inspect", text])
        #expect(inspected.status == 0)
        #expect(inspected.standardOutput.contains("issuer     ACME Co"))
        #expect(inspected.standardOutput.contains("secret     \(uri.secret.base32)"))
        #expect(inspected.standardOutput.contains("period     30"))

        let json = try await TwofoldBinary.run(["otp", "inspect", "--json", "otpauth://hotp/a?secret=\(seed)&counter=9&algorithm=SHA256"])
        let object = try JSONSerialization.jsonObject(with: json.stdout) as? [String: Any]
        #expect(object?["type"] as? String == "hotp")
        #expect(object?["counter"] as? Int == 9)
        #expect(object?["algorithm"] as? String == "sha256")
    }

    @Test("otp uri with a given secret and HOTP counter")
    func uriGiven() async throws {
        let built = try await TwofoldBinary.run(["otp", "uri", "--issuer", "Ex", "--account", "bob", "--secret", seed, "--counter", "4", "--digits", "8"])
        #expect(built.standardOutput == "otpauth://hotp/Ex:bob?secret=\(seed)&issuer=Ex&digits=8&counter=4\n")
    }

    @Test("otp inspect exits 1 and explains an unparsable URI")
    func inspectFailure() async throws {
        let result = try await TwofoldBinary.run(["otp", "inspect", "otpauth://totp/alice?secret=\(seed)&secret=\(seed)"])
        #expect(result.status == 1)
        #expect(result.standardOutput.isEmpty)
        #expect(result.standardError.contains("more than once"))
    }

    @Test("--help documents every otp command and exits 0")
    func help() async throws {
        let result = try await TwofoldBinary.run(["otp", "--help"])
        #expect(result.status == 0)
        for command in ["code", "verify", "uri", "inspect"] {
            #expect(result.standardOutput.contains(command))
        }
        let verifyHelp = try await TwofoldBinary.run(["otp", "verify", "--help"])
        #expect(verifyHelp.standardOutput.contains("--window"))
        #expect(verifyHelp.standardOutput.contains("--counter"))
    }
}
