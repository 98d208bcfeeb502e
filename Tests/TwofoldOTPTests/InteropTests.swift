import Foundation
import Testing
import TwofoldOTP
import TwofoldTesting

/// Twofold against independent implementations: pyotp (PyPI) and oathtool (Debian).
/// Locally these skip with a printed reason when the tools are missing; with `CI` set they fail.
@Suite("Interoperability with pyotp and oathtool")
struct InteropTests {
    static let pyotp = ExternalTool.pythonModule("pyotp", installHint: "pip install pyotp")
    static let oathtool = ExternalTool.command("oathtool", installHint: "apt-get install oathtool")

    struct CodeCase: Codable {
        var secret: String
        var algorithm: String
        var digits: Int
        var period: Int
        var time: UInt64?
        var counter: UInt64?
    }

    struct BuildCase: Codable {
        var secret: String
        var account: String
        var issuer: String?
        var algorithm: String
        var digits: Int
        var period: Int
        var counter: UInt64?
    }

    struct ParsedURI: Codable, Equatable {
        var type: String
        var issuer: String?
        var account: String
        var secret: String
        var algorithm: String
        var digits: Int
        var period: Int?
        var counter: UInt64?
    }

    struct Request: Codable {
        var codes: [CodeCase] = []
        var parse: [String] = []
        var build: [BuildCase] = []
    }

    struct Response: Codable {
        var codes: [String]
        var parsed: [ParsedURI]
        var built: [String]
    }

    static func askPyotp(_ request: Request) async throws -> Response {
        let input = try JSONEncoder().encode(request)
        let result = try await ExternalProcess.run("python3", [TestEnvironment.script("otp_pyotp.py")], input: input, environment: ["TZ": "UTC"])
        try #require(result.status == 0, "pyotp script failed: \(result.standardError)")
        return try JSONDecoder().decode(Response.self, from: result.stdout)
    }

    static func randomSecret(_ algorithm: OTPAlgorithm, using random: inout SeededGenerator) -> OTPSecret {
        // Mostly full-size keys, some short legacy ones (pyotp refuses fewer than 112 bits) and some
        // longer than a hash block.
        let length = [14, 16, algorithm.digestSize, algorithm.digestSize, 70, 130].randomElement(using: &random)!
        return try! OTPSecret(bytes: (0..<length).map { _ in UInt8.random(in: 0...255, using: &random) })
    }

    @Test("pyotp computes the same TOTP and HOTP codes for random secrets, algorithms, digits and times")
    func pyotpCodes() async throws {
        try Self.pyotp.require()
        var random = SeededGenerator(seed: 2_024)
        var cases: [CodeCase] = []
        var expected: [String] = []
        for index in 0..<600 {
            let algorithm = OTPAlgorithm.allCases.randomElement(using: &random)!
            let secret = Self.randomSecret(algorithm, using: &random)
            let digits = Int.random(in: 6...8, using: &random)
            let period = [30, 30, 60, 15, 1, 120].randomElement(using: &random)!
            if index.isMultiple(of: 3) {
                let counter = UInt64.random(in: 0...UInt64(Int64.max), using: &random)
                let hotp = try HOTP(secret: secret, algorithm: algorithm, digits: digits)
                cases.append(CodeCase(secret: secret.base32, algorithm: algorithm.rawValue, digits: digits, period: period, counter: counter))
                expected.append(hotp.code(counter: counter))
            } else {
                let time = UInt64.random(in: 0...8_000_000_000, using: &random)
                let totp = try TOTP(secret: secret, algorithm: algorithm, digits: digits, period: period)
                cases.append(CodeCase(secret: secret.base32, algorithm: algorithm.rawValue, digits: digits, period: period, time: time))
                expected.append(try totp.code(at: time))
            }
        }
        let response = try await Self.askPyotp(Request(codes: cases))
        #expect(response.codes.count == expected.count)
        for (index, (theirs, ours)) in zip(response.codes, expected).enumerated() {
            #expect(theirs == ours, "case \(index): \(cases[index])")
        }
    }

    @Test("oathtool computes the same codes, 21 consecutive steps per random case")
    func oathtoolCodes() async throws {
        try Self.oathtool.require()
        var random = SeededGenerator(seed: 4_648)
        for index in 0..<40 {
            let algorithm = OTPAlgorithm.allCases.randomElement(using: &random)!
            let secret = Self.randomSecret(algorithm, using: &random)
            let hex = secret.bytes.map { String(format: "%02x", $0) }.joined()
            let digits = Int.random(in: 6...8, using: &random)
            let ours: [String]
            let arguments: [String]
            if index.isMultiple(of: 4) {
                // oathtool's HOTP is HMAC-SHA-1 only.
                let counter = UInt64.random(in: 0...1_000_000_000, using: &random)
                let hotp = try HOTP(secret: secret, algorithm: .sha1, digits: digits)
                ours = (counter...counter + 20).map { hotp.code(counter: $0) }
                arguments = ["--hotp", "-c", "\(counter)", "-d", "\(digits)", "-w", "20", hex]
            } else {
                let period = [30, 60, 10].randomElement(using: &random)!
                let time = UInt64.random(in: 0...4_000_000_000, using: &random)
                let totp = try TOTP(secret: secret, algorithm: algorithm, digits: digits, period: period)
                let step = try totp.step(at: time)
                ours = (step...step + 20).map { totp.code(step: $0) }
                arguments = ["--totp=\(algorithm.rawValue)", "-d", "\(digits)", "-s", "\(period)s", "-N", "@\(time)", "-w", "20", hex]
            }
            let result = try await ExternalProcess.run("oathtool", arguments)
            try #require(result.status == 0, "oathtool \(arguments.joined(separator: " ")): \(result.standardError)")
            let theirs = result.standardOutput.split(separator: "\n").map(String.init)
            #expect(theirs == ours, "oathtool \(arguments.joined(separator: " "))")
        }
    }

    static func randomBuildCase(using random: inout SeededGenerator) -> BuildCase {
        let names = ["ACME Co", "Example", "Büro Müller", "雪山", "Big & Small", "a+b=c", "100% sure", "🚀 Launch", "x/y", "O'Reilly"]
        let accounts = ["alice@example.com", "bob", "jürgen.müller@example.de", "user+tag@example.org", "李雷", "first last", "a?b#c"]
        let algorithm = OTPAlgorithm.allCases.randomElement(using: &random)!
        let secret = OTPSecret.generate(for: algorithm, using: &random)
        let isHOTP = Bool.random(using: &random)
        return BuildCase(
            secret: secret.base32,
            account: accounts.randomElement(using: &random)!,
            issuer: Bool.random(using: &random) ? names.randomElement(using: &random)! : nil,
            algorithm: algorithm.rawValue,
            digits: Int.random(in: 6...8, using: &random),
            period: [30, 60, 15].randomElement(using: &random)!,
            counter: isHOTP ? UInt64.random(in: 0...1_000_000, using: &random) : nil
        )
    }

    static func parsedForm(of uri: OTPAuthURI) -> ParsedURI {
        var form = ParsedURI(type: "totp", issuer: uri.issuer, account: uri.account, secret: uri.secret.base32,
                             algorithm: uri.algorithm.rawValue, digits: uri.digits)
        switch uri.method {
        case .totp(let period): form.period = period
        case .hotp(let counter):
            form.type = "hotp"
            form.counter = counter
        }
        return form
    }

    @Test("pyotp parses Twofold's URIs to the same parameters, and Twofold parses pyotp's")
    func uriBothWays() async throws {
        try Self.pyotp.require()
        var random = SeededGenerator(seed: 3_986)
        let cases = (0..<200).map { _ in Self.randomBuildCase(using: &random) }
        let ours = try cases.map { c in
            try OTPAuthURI(
                method: c.counter.map { .hotp(counter: $0) } ?? .totp(period: c.period),
                account: c.account,
                issuer: c.issuer,
                secret: OTPSecret(base32: c.secret),
                algorithm: OTPAlgorithm(name: c.algorithm),
                digits: c.digits
            )
        }
        let response = try await Self.askPyotp(Request(parse: ours.map(\.string), build: cases))
        try #require(response.parsed.count == ours.count && response.built.count == cases.count)
        for (uri, theirs) in zip(ours, response.parsed) {
            #expect(theirs == Self.parsedForm(of: uri), "pyotp read \(uri.string)")
        }
        for (uri, theirText) in zip(ours, response.built) {
            let parsed = try OTPAuthURI(parsing: theirText)
            #expect(parsed == uri, "Twofold read pyotp's \(theirText)")
        }
    }
}
