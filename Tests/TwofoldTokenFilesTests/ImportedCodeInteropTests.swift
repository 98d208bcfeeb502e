import Foundation
import Testing
import TwofoldOTP
import TwofoldTesting
import TwofoldTokenFiles

/// Codes from imported secrets, computed by TwofoldOTP, against codes the independent tools
/// pyotp (PyPI) and oathtool (Debian) compute from the secret each fixture is known to hold (the
/// RFC's, or make_fixtures.py's), so a secret mangled on import gives other codes. Locally
/// these skip when a tool is missing; with `CI` set they fail.
@Suite("Imported tokens' codes against pyotp and oathtool")
struct ImportedCodeInteropTests {
    static let pyotp = ExternalTool.pythonModule("pyotp", installHint: "pip install pyotp")
    static let oathtool = ExternalTool.command("oathtool", installHint: "apt-get install oathtool")

    /// The secret each imported token is known to hold, by file and serial, written down
    /// independently of the import.
    static let knownSecrets: [String: [UInt8]] = [
        "rfc6030-figure2.pskcxml 12345678": Array("1234".utf8),
        "rfc6030-figure3.pskcxml 987654321": Fixture.rfcSecret,
        "rfc6030-figure5.pskcxml 987654321": Fixture.rfcSecret,
        "rfc6030-figure6.pskcxml 987654321": Fixture.rfcSecret,
        "rfc6030-figure7.pskcxml 987654321": Fixture.rfcSecret,
        "rfc6030-figure9.pskcxml 0755225266": Fixture.rfcSecret,
        "psk-aes128.pskcxml TF-HOTP-0001": Fixture.hotpSecret,
        "psk-aes128.pskcxml TF-TOTP-0002": Fixture.totpSecret,
        "psk-aes256-sha256.pskcxml TF-HOTP-0256": Fixture.hotp256Secret,
        "password-pbkdf2.pskcxml TF-PBKDF2-0003": Fixture.pbkdf2Secret,
        "tokens.csv HW-0001": Fixture.rfcSecret,
        "tokens.csv HW-0002": Fixture.rfcSecret,
        "tokens.csv HW-0003": Fixture.rfcSecret,
        "tokens.csv HW-0004": Fixture.hotpSecret,
        "tokens.csv HW 0005": Fixture.rfcSecret,
    ]

    /// Every token the fixtures import, with the name of its file and the secret it should hold.
    static func importedTokens() throws -> [(file: String, token: HardwareToken, known: [UInt8])] {
        let sources: [(String, TokenFileKey)] = [
            ("rfc6030-figure2.pskcxml", .none),
            ("rfc6030-figure3.pskcxml", .none),
            ("rfc6030-figure5.pskcxml", .none),
            ("rfc6030-figure6.pskcxml", .preSharedKey(Fixture.hex("12345678901234567890123456789012"))),
            ("rfc6030-figure7.pskcxml", .password("qwerty")),
            ("rfc6030-figure9.pskcxml", .none),
            ("psk-aes128.pskcxml", .preSharedKey(Fixture.psk128)),
            ("psk-aes256-sha256.pskcxml", .preSharedKey(Fixture.psk256)),
            ("password-pbkdf2.pskcxml", .password(Fixture.password)),
        ]
        var tokens: [(String, HardwareToken)] = []
        for (file, key) in sources {
            tokens += try TokenFile.readPSKC(Fixture.bytes(file), key: key).map { (file, $0) }
        }
        tokens += try TokenFile.readCSV(Fixture.bytes("tokens.csv")).map { ("tokens.csv", $0) }
        try #require(tokens.count == knownSecrets.count)
        return try tokens.map { file, token in
            (file, token, try #require(knownSecrets["\(file) \(token.serial)"], "no known secret for \(file) \(token.serial)"))
        }
    }

    static let times: [UInt64] = [59, 1_111_111_109, 1_234_567_890, 2_000_000_000, 20_000_000_000]

    /// Twofold's codes for `token`: the next five counters of an HOTP token, or the codes at
    /// ``times`` of a TOTP token.
    static func ours(_ token: HardwareToken) throws -> [String] {
        let secret = try OTPSecret(bytes: token.secret)
        switch token.kind {
        case .hotp(let counter):
            let hotp = try HOTP(secret: secret, algorithm: token.algorithm, digits: token.digits)
            return (0..<5).map { hotp.code(counter: counter &+ $0) }
        case .totp(let period):
            let totp = try TOTP(secret: secret, algorithm: token.algorithm, digits: token.digits, period: period)
            return try times.map { try totp.code(at: $0) }
        }
    }

    struct CodeCase: Codable {
        var secret: String
        var algorithm: String
        var digits: Int
        var period: Int
        var time: UInt64?
        var counter: UInt64?
    }

    struct Request: Codable { var codes: [CodeCase] }
    struct Response: Codable { var codes: [String] }

    @Test("pyotp computes the same codes from every imported secret pyotp accepts")
    func pyotpAgrees() async throws {
        try Self.pyotp.require()
        var cases: [CodeCase] = []
        var expected: [(String, String)] = []
        // pyotp refuses secrets under 112 bits (Figure 2's "1234"): oathtool checks those.
        for (file, token, known) in try Self.importedTokens() where known.count >= 14 {
            let base32 = Base32.encode(known, padding: false)
            let codes = try Self.ours(token)
            switch token.kind {
            case .hotp(let counter):
                for (offset, code) in codes.enumerated() {
                    cases.append(CodeCase(secret: base32, algorithm: token.algorithm.rawValue, digits: token.digits, period: 30,
                                          counter: counter &+ UInt64(offset)))
                    expected.append(("\(file) \(token.serial) counter \(counter &+ UInt64(offset))", code))
                }
            case .totp(let period):
                for (time, code) in zip(Self.times, codes) {
                    cases.append(CodeCase(secret: base32, algorithm: token.algorithm.rawValue, digits: token.digits, period: period, time: time))
                    expected.append(("\(file) \(token.serial) time \(time)", code))
                }
            }
        }
        try #require(cases.count >= 50)
        let input = try JSONEncoder().encode(Request(codes: cases))
        let result = try await ExternalProcess.run("python3", [TestEnvironment.script("otp_pyotp.py")], input: input, environment: ["TZ": "UTC"])
        try #require(result.status == 0, "pyotp script failed: \(result.standardError)")
        let theirs = try JSONDecoder().decode(Response.self, from: result.stdout).codes
        try #require(theirs.count == expected.count)
        for ((what, ours), theirs) in zip(expected, theirs) {
            #expect(theirs == ours, "\(what)")
        }
    }

    @Test("oathtool computes the same codes from every imported secret it can use")
    func oathtoolAgrees() async throws {
        try Self.oathtool.require()
        var checked = 0
        for (file, token, known) in try Self.importedTokens() {
            let hex = known.map { String(format: "%02x", $0) }.joined()
            let ours = try Self.ours(token)
            switch token.kind {
            case .hotp(let counter):
                // oathtool's HOTP is HMAC-SHA-1 only.
                guard token.algorithm == .sha1 else { continue }
                let arguments = ["--hotp", "-c", "\(counter)", "-d", "\(token.digits)", "-w", "4", hex]
                let result = try await ExternalProcess.run("oathtool", arguments)
                try #require(result.status == 0, "oathtool: \(result.standardError)")
                #expect(result.standardOutput.split(separator: "\n").map(String.init) == ours, "\(file) \(token.serial)")
            case .totp(let period):
                for (time, code) in zip(Self.times, ours) {
                    let arguments = ["--totp=\(token.algorithm.rawValue)", "-d", "\(token.digits)", "-s", "\(period)s", "-N", "@\(time)", hex]
                    let result = try await ExternalProcess.run("oathtool", arguments, environment: ["TZ": "UTC"])
                    try #require(result.status == 0, "oathtool: \(result.standardError)")
                    #expect(result.standardOutput.trimmingCharacters(in: .whitespacesAndNewlines) == code, "\(file) \(token.serial) at \(time)")
                }
            }
            checked += 1
        }
        #expect(checked >= 12)
    }
}
