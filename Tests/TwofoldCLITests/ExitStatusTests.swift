import Foundation
import Testing
import TwofoldOTP

/// RFC 6238's SHA-1 seed in Base32.
private let seed = "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ"

/// Exit statuses and messages through the real binary: 1 for a failed operation, 2 for bad
/// usage, refusals that say why, and usage of the command that failed.
@Suite("exit statuses and messages")
struct ExitStatusTests {
    @Test("otp verify exits 2 on a malformed code, under its own usage, and 1 on a wrong code")
    func otpVerify() async throws {
        let malformed = try await TwofoldBinary.run(["otp", "verify", "--secret", seed, "--time", "59", "12ab56"])
        #expect(malformed.status == 2)
        #expect(malformed.standardError.contains("6 digits"))
        #expect(malformed.standardError.contains("Usage: twofold otp verify"))
        let short = try await TwofoldBinary.run(["otp", "verify", "--secret", seed, "--time", "59", "12345"])
        #expect(short.status == 2)
        let wrong = try await TwofoldBinary.run(["otp", "verify", "--secret", seed, "--time", "59", "000000"])
        #expect(wrong.status == 1)
        #expect(wrong.standardError.contains("invalid code"))
        #expect(!wrong.standardError.contains("Usage:"))
    }

    @Test("a refused --time, --counter or secret says why", arguments: [
        (["otp", "code", "--secret", seed, "--time", "-1"], "--time", "cannot be negative"),
        (["otp", "code", "--secret", seed, "--time=-1"], "--time", "cannot be negative"),
        (["otp", "verify", "--secret", seed, "--time", "-30", "123456"], "--time", "cannot be negative"),
        (["otp", "code", "--secret", seed, "--time", "soon"], "--time", "seconds since 1970"),
        (["otp", "code", "--secret", seed, "--counter", "-1"], "--counter", "cannot be negative"),
        (["otp", "code", "--secret", "not base32!"], "--secret", "invalid Base32 character \"!\""),
        (["otp", "code", "--secret", "GEZ"], "--secret", "Base32"),
        (["otp", "uri", "--issuer", "A", "--account", "b", "--secret", "1111"], "--secret", "Base32"),
    ])
    func refusedValues(arguments: [String], option: String, reason: String) async throws {
        let result = try await TwofoldBinary.run(arguments)
        #expect(result.status == 2, "\(arguments)")
        #expect(result.standardOutput.isEmpty)
        let firstLine = result.standardError.split(separator: "\n").first.map(String.init) ?? ""
        #expect(firstLine.contains("'\(option) <"), "\(arguments): \(result.standardError)")
        #expect(firstLine.contains(reason), "\(arguments): \(result.standardError)")
    }

    @Test("apikey revoke takes the key id or the whole key; revoking twice exits 1 saying when it was revoked")
    func revoke() async throws {
        let sandbox = try Sandbox()
        try await sandbox.createStoreByServing()
        func createKey() async throws -> (token: String, id: String) {
            let created = try await sandbox.run(["apikey", "create", "--scopes", "verify"])
            try #require(created.status == 0, "\(created.standardError)")
            let token = try #require(created.standardOutput.firstMatch(of: #/tf_key_[a-z2-7]{16}_[a-z2-7]{52}/#).map { String($0.output) })
            return (token, "key_" + token.dropFirst(7).prefix(16))
        }
        let byToken = try await createKey()
        let revoked = try await sandbox.run(["apikey", "revoke", byToken.token, "--yes"])
        #expect(revoked.status == 0)
        #expect(revoked.standardOutput.contains("revoked API key \(byToken.id)"))
        #expect(!revoked.standardOutput.contains(byToken.token))

        let again = try await sandbox.run(["apikey", "revoke", byToken.id, "--yes"])
        #expect(again.status == 1)
        #expect(again.standardError.firstMatch(of: #/API key key_[a-z2-7]{16} was already revoked, at \d{4}-\d\d-\d\dT\d\d:\d\d:\d\d/#) != nil, "\(again.standardError)")
        let againByToken = try await sandbox.run(["apikey", "revoke", byToken.token, "--yes"])
        #expect(againByToken.status == 1)
        #expect(againByToken.standardError.contains("already revoked"))

        let byID = try await createKey()
        #expect(try await sandbox.run(["apikey", "revoke", byID.id, "--yes"]).status == 0)

        // A well-formed key whose secret is not the key's: nothing is revoked.
        let other = try await createKey()
        let forged = String(other.token.dropLast(4)) + (other.token.hasSuffix("aaaa") ? "bbbb" : "aaaa")
        let refused = try await sandbox.run(["apikey", "revoke", forged, "--yes"])
        #expect(refused.status == 1)
        #expect(refused.standardError.contains("is not that key"))
        #expect(!refused.standardError.contains(forged))
        #expect(try await sandbox.run(["apikey", "revoke", "key_aaaaaaaaaaaaaaaa", "--yes"]).status == 1)

        // Neither an id nor a key: bad usage, and a would-be key is not repeated.
        let malformed = try await sandbox.run(["apikey", "revoke", "tf_key_secretish", "--yes"])
        #expect(malformed.status == 2)
        #expect(!malformed.standardError.contains("secretish"))
        #expect(malformed.standardError.contains("Usage: twofold apikey revoke"))
    }

    @Test("a refusal reads as a statement, under the usage of the command that refused")
    func refusal() async throws {
        let sandbox = try Sandbox()
        try await sandbox.createStoreByServing()
        let result = try await sandbox.run(["apikey", "revoke", "key_aaaaaaaaaaaaaaaa"])
        #expect(result.status == 2)
        #expect(result.standardError.hasPrefix(
            "Error: refusing to revoke API key key_aaaaaaaaaaaaaaaa without --yes: standard input is not a terminal\n"))
        #expect(result.standardError.contains("Usage: twofold apikey revoke <key>"))
        #expect(result.standardError.contains("See 'twofold apikey revoke --help'"))
        #expect(!result.standardError.contains("twofold <subcommand>"))
    }
}
