import Foundation
import Testing
import TwofoldOTP

/// `--secret-file`, `--uri-file` and `--text-file` of `twofold otp`: the secret read from a
/// file or standard input instead of the command line, where every user can see it.
@Suite("twofold otp: secrets from a file or standard input")
struct OTPSecretFileTests {
    /// RFC 6238's SHA-1 seed "12345678901234567890" in Base32.
    let seed = "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ"
    let sandbox: Sandbox

    init() throws {
        sandbox = try Sandbox()
    }

    /// Writes `text` to a file of the sandbox with `mode` and returns its path.
    func secretFile(_ text: String, mode: Int = 0o600, name: String = "secret") throws -> String {
        let path = sandbox.path(name)
        guard FileManager.default.createFile(atPath: path, contents: Data(text.utf8), attributes: [.posixPermissions: mode]) else {
            throw CocoaError(.fileWriteUnknown)
        }
        try FileManager.default.setAttributes([.posixPermissions: mode], ofItemAtPath: path)
        return path
    }

    @Test("otp code reads the secret from a file or from standard input, with no warning")
    func codeFromFile() async throws {
        let file = try secretFile(seed + "\n")
        let fromFile = try await TwofoldBinary.run(["otp", "code", "--secret-file", file, "--time", "59", "--digits", "8"])
        #expect(fromFile.status == 0, "\(fromFile.standardError)")
        #expect(fromFile.standardOutput == "94287082\n")
        #expect(fromFile.standardError.isEmpty, "\(fromFile.standardError)")

        let fromInput = try await TwofoldBinary.run(["otp", "code", "--secret-file", "-", "--counter", "0"], input: seed + "\n")
        #expect(fromInput.status == 0, "\(fromInput.standardError)")
        #expect(fromInput.standardOutput == "755224\n")
        #expect(fromInput.standardError.isEmpty)

        // Without a trailing newline too.
        let bare = try await TwofoldBinary.run(["otp", "code", "--secret-file", "-", "--counter", "0"], input: seed)
        #expect(bare.standardOutput == "755224\n")
    }

    @Test("otp verify, otp uri: --secret-file FILE and --secret-file -")
    func verifyAndURIFromFile() async throws {
        let file = try secretFile(seed + "\n")
        let verified = try await TwofoldBinary.run(["otp", "verify", "--secret-file", file, "--time", "89", "--digits", "8", "94287082"])
        #expect(verified.status == 0, "\(verified.standardError)")
        #expect(verified.standardOutput == "1\n")
        #expect(verified.standardError.isEmpty)
        let hotp = try await TwofoldBinary.run(["otp", "verify", "--secret-file", "-", "--counter", "3", "--window", "5", "162583"], input: seed + "\n")
        #expect(hotp.standardOutput == "7\n")

        let uri = try await TwofoldBinary.run(["otp", "uri", "--issuer", "Ex", "--account", "bob", "--secret-file", "-", "--counter", "4", "--digits", "8"],
                                        input: seed + "\n")
        #expect(uri.standardOutput == "otpauth://hotp/Ex:bob?secret=\(seed)&issuer=Ex&digits=8&counter=4\n")
        #expect(uri.standardError.isEmpty)
    }

    @Test("a secret on the command line still works, with a warning on standard error naming --secret-file",
          arguments: [
              ["otp", "code", "--secret", "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ", "--time", "59"],
              ["otp", "verify", "--secret", "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ", "--time", "59", "287082"],
              ["otp", "uri", "--issuer", "Ex", "--account", "bob", "--secret", "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ"],
          ])
    func argumentWarns(arguments: [String]) async throws {
        let result = try await TwofoldBinary.run(arguments)
        #expect(result.status == 0, "\(result.standardError)")
        #expect(!result.standardOutput.isEmpty)
        #expect(result.standardError.contains("visible to other users in the process list"), "\(result.standardError)")
        #expect(result.standardError.contains("use --secret-file"), "\(result.standardError)")
        // The warning never repeats the secret.
        #expect(!result.standardError.contains("GEZDGNBVGY3TQOJQ"))
    }

    @Test("otp uri without a secret generates one and warns about nothing")
    func generatedNoWarning() async throws {
        let result = try await TwofoldBinary.run(["otp", "uri", "--issuer", "Ex", "--account", "bob"])
        #expect(result.status == 0)
        #expect(result.standardError.isEmpty)
    }

    @Test("a secret file is read strictly: one trailing newline removed, nothing else; an empty, multi-line or CRLF file is refused (exit 2)",
          arguments: [
              ("", "is empty"),
              ("\n", "is empty"),
              ("GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ\n\n", "more than one line"),
              ("GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ\r\n", "carriage return"),
              ("GEZDGNBVGY3TQOJQ\nGEZDGNBVGY3TQOJQ\n", "more than one line"),
              ("\nGEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ", "more than one line"),
              ("GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ\t", "control character"),
              ("GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ!\n", "invalid Base32 character"),
              ("\u{FF}GEZDGNBVGY3TQOJQ\n", "invalid Base32 character"),
          ])
    func strict(content: String, reason: String) async throws {
        let file = try secretFile(content)
        let result = try await TwofoldBinary.run(["otp", "code", "--secret-file", file, "--time", "59"])
        #expect(result.status == 2, "\(result.standardError)")
        #expect(result.standardOutput.isEmpty)
        #expect(result.standardError.contains("--secret-file"), "\(result.standardError)")
        #expect(result.standardError.contains(reason), "\(result.standardError)")
        let piped = try await TwofoldBinary.run(["otp", "code", "--secret-file", "-", "--time", "59"], input: content)
        #expect(piped.status == 2, "\(piped.standardError)")
        #expect(piped.standardError.contains(reason), "\(piped.standardError)")
    }

    @Test("a secret file other users or its group can read is used, with a warning saying how to make it private",
          arguments: [(0o644, "other users"), (0o640, "its group"), (0o604, "other users")])
    func sharedFileWarns(mode: Int, who: String) async throws {
        let file = try secretFile(seed + "\n", mode: mode)
        let result = try await TwofoldBinary.run(["otp", "code", "--secret-file", file, "--time", "59", "--digits", "8"])
        #expect(result.status == 0, "\(result.standardError)")
        #expect(result.standardOutput == "94287082\n")
        #expect(result.standardError.contains("readable by \(who)"), "\(result.standardError)")
        #expect(result.standardError.contains("chmod 600 \(file)"), "\(result.standardError)")
    }

    @Test("a missing file, a folder, both forms at once, or neither: exit 2 saying what to give", arguments: [
        (["otp", "code", "--secret-file", "missing-secret"], "missing-secret"),
        (["otp", "code", "--secret-file", "."], "is a folder"),
        (["otp", "code", "--secret-file", "-", "--secret", "GEZDGNBVGY3TQOJQ"], "give the secret once"),
        (["otp", "code"], "--secret-file"),
        (["otp", "verify", "123456"], "--secret-file"),
        (["otp", "inspect"], "--uri-file"),
        (["otp", "inspect", "--uri-file", "-", "otpauth://totp/a?secret=GEZDGNBVGY3TQOJQ"], "give the URI once"),
        (["otp", "qr"], "--text-file"),
        (["otp", "qr", "--text-file", "-", "hello"], "give the text once"),
    ])
    func usage(arguments: [String], mentions: String) async throws {
        let result = try await sandbox.run(arguments)
        #expect(result.status == 2, "\(arguments): \(result.standardError)")
        #expect(result.standardOutput.isEmpty)
        #expect(result.standardError.contains(mentions), "\(arguments): \(result.standardError)")
    }

    @Test("otp inspect reads the URI from --uri-file FILE or -; the URI as an argument warns")
    func inspect() async throws {
        let uri = "otpauth://totp/ACME:alice?secret=\(seed)&issuer=ACME"
        let file = try secretFile(uri + "\n", name: "uri")
        let fromFile = try await TwofoldBinary.run(["otp", "inspect", "--uri-file", file])
        #expect(fromFile.status == 0, "\(fromFile.standardError)")
        #expect(fromFile.standardOutput.contains("secret     \(seed)"))
        #expect(fromFile.standardError.isEmpty)
        let fromInput = try await TwofoldBinary.run(["otp", "inspect", "--uri-file", "-", "--json"], input: uri + "\n")
        #expect(fromInput.status == 0, "\(fromInput.standardError)")
        #expect((try JSONSerialization.jsonObject(with: fromInput.stdout) as? [String: Any])?["account"] as? String == "alice")

        let argument = try await TwofoldBinary.run(["otp", "inspect", uri])
        #expect(argument.status == 0)
        #expect(argument.standardOutput == fromFile.standardOutput)
        #expect(argument.standardError.contains("visible to other users in the process list"), "\(argument.standardError)")
        #expect(argument.standardError.contains("--uri-file"))
    }

    @Test("otp qr draws the text of --text-file FILE or - exactly as the argument; only a URI with a secret as argument warns")
    func qr() async throws {
        let uri = "otpauth://totp/ACME:alice?secret=\(seed)&issuer=ACME"
        let argument = try await TwofoldBinary.run(["otp", "qr", "--format", "svg", uri])
        #expect(argument.status == 0)
        #expect(argument.standardError.contains("visible to other users in the process list"), "\(argument.standardError)")
        #expect(argument.standardError.contains("--text-file"))

        let fromInput = try await TwofoldBinary.run(["otp", "qr", "--format", "svg", "--text-file", "-"], input: uri + "\n")
        #expect(fromInput.status == 0, "\(fromInput.standardError)")
        #expect(fromInput.standardError.isEmpty)
        #expect(fromInput.standardOutput == argument.standardOutput)

        let file = try secretFile(uri, name: "uri")
        let fromFile = try await TwofoldBinary.run(["otp", "qr", "--format", "svg", "--text-file", file])
        #expect(fromFile.standardOutput == argument.standardOutput)

        // Text without a secret is nothing to warn about.
        let plain = try await TwofoldBinary.run(["otp", "qr", "--format", "ascii", "https://example.com"])
        #expect(plain.status == 0)
        #expect(plain.standardError.isEmpty)
    }

    @Test("the help of code, verify and uri documents --secret-file before --secret")
    func helpOrder() async throws {
        for command in ["code", "verify", "uri"] {
            let help = try await TwofoldBinary.run(["otp", command, "--help"]).standardOutput
            let file = try #require(help.range(of: "--secret-file"), "otp \(command)")
            let argument = try #require(help.range(of: "--secret <"), "otp \(command)")
            #expect(file.lowerBound < argument.lowerBound, "otp \(command)")
        }
    }
}
