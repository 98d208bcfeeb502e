import Foundation
import Testing
import TwofoldOTP
import TwofoldTesting

@Suite("otpauth:// Key URIs")
struct OTPAuthURITests {
    let secret = try! OTPSecret(base32: "JBSWY3DPEHPK3PXP")

    @Test("a TOTP URI is written as authenticator apps expect")
    func buildsTOTP() throws {
        let uri = try OTPAuthURI(method: .totp(period: 30), account: "alice@example.com", issuer: "ACME Co", secret: secret)
        #expect(uri.string == "otpauth://totp/ACME%20Co:alice@example.com?secret=JBSWY3DPEHPK3PXP&issuer=ACME%20Co")
    }

    @Test("an HOTP URI carries its counter and no period; non-default parameters are written")
    func buildsHOTP() throws {
        let uri = try OTPAuthURI(method: .hotp(counter: 42), account: "bob", issuer: "Example", secret: secret, algorithm: .sha256, digits: 8)
        #expect(uri.string == "otpauth://hotp/Example:bob?secret=JBSWY3DPEHPK3PXP&issuer=Example&algorithm=SHA256&digits=8&counter=42")
        let totp = try OTPAuthURI(method: .totp(period: 60), account: "bob", secret: secret, algorithm: .sha512, digits: 7)
        #expect(totp.string == "otpauth://totp/bob?secret=JBSWY3DPEHPK3PXP&algorithm=SHA512&digits=7&period=60")
    }

    @Test("parses what apps and other libraries write")
    func parsesVariants() throws {
        let plain = try OTPAuthURI(parsing: "otpauth://totp/Example:alice@google.com?secret=JBSWY3DPEHPK3PXP&issuer=Example")
        #expect(plain.issuer == "Example")
        #expect(plain.account == "alice@google.com")
        #expect(plain.secret == secret)
        #expect(plain.method == .totp(period: 30))
        #expect(plain.algorithm == .sha1)
        #expect(plain.digits == 6)

        let encodedColon = try OTPAuthURI(parsing: "otpauth://totp/ACME%20Co%3A%20john.doe%40email.com?secret=jbswy3dpehpk3pxp&algorithm=sha256&digits=8&period=60")
        #expect(encodedColon.issuer == "ACME Co")
        #expect(encodedColon.account == "john.doe@email.com")
        #expect(encodedColon.algorithm == .sha256)
        #expect(encodedColon.digits == 8)
        #expect(encodedColon.method == .totp(period: 60))

        let upper = try OTPAuthURI(parsing: "OTPAUTH://HOTP/alice?SECRET=JBSWY3DPEHPK3PXP&counter=0&secret=JBSWY3DPEHPK3PXP")
        #expect(upper.method == .hotp(counter: 0))

        let issuerOnly = try OTPAuthURI(parsing: "otpauth://totp/alice?issuer=Big+Corp&secret=JBSWY3DPEHPK3PXP&image=https%3A%2F%2Fx")
        #expect(issuerOnly.issuer == "Big Corp")
        #expect(issuerOnly.account == "alice")

        let padded = try OTPAuthURI(parsing: "otpauth://totp/a?secret=MZXW6YQ%3D")
        #expect(padded.secret.bytes == Array("foob".utf8))

        let maxCounter = try OTPAuthURI(parsing: "otpauth://hotp/a?secret=JBSWY3DPEHPK3PXP&counter=18446744073709551615")
        #expect(maxCounter.method == .hotp(counter: .max))

        let unicode = try OTPAuthURI(parsing: "otpauth://totp/B%C3%BCro:J%C3%BCrgen?secret=JBSWY3DPEHPK3PXP&issuer=B%C3%BCro")
        #expect(unicode.issuer == "Büro")
        #expect(unicode.account == "Jürgen")
    }

    static let hostile: [(name: String, uri: String, fragment: String)] = [
        ("missing secret", "otpauth://totp/Example:alice?issuer=Example", "secret"),
        ("empty secret", "otpauth://totp/Example:alice?secret=&issuer=Example", "secret"),
        ("secret not Base32", "otpauth://totp/alice?secret=JBSWY3DP!", "Base32"),
        ("unknown type", "otpauth://motp/alice?secret=JBSWY3DPEHPK3PXP", "type"),
        ("no type", "otpauth:///alice?secret=JBSWY3DPEHPK3PXP", "type"),
        ("other scheme", "https://totp/alice?secret=JBSWY3DPEHPK3PXP", "otpauth://"),
        ("no label", "otpauth://totp?secret=JBSWY3DPEHPK3PXP", "label"),
        ("empty account", "otpauth://totp/Example:?secret=JBSWY3DPEHPK3PXP", "account"),
        ("empty issuer in label", "otpauth://totp/:alice?secret=JBSWY3DPEHPK3PXP", "issuer"),
        ("unknown algorithm", "otpauth://totp/alice?secret=JBSWY3DPEHPK3PXP&algorithm=MD5", "algorithm"),
        ("digits too small", "otpauth://totp/alice?secret=JBSWY3DPEHPK3PXP&digits=5", "digits"),
        ("digits too large", "otpauth://totp/alice?secret=JBSWY3DPEHPK3PXP&digits=9", "digits"),
        ("digits not a number", "otpauth://totp/alice?secret=JBSWY3DPEHPK3PXP&digits=six", "digits"),
        ("digits with sign", "otpauth://totp/alice?secret=JBSWY3DPEHPK3PXP&digits=+6", "digits"),
        ("period zero", "otpauth://totp/alice?secret=JBSWY3DPEHPK3PXP&period=0", "period"),
        ("period negative", "otpauth://totp/alice?secret=JBSWY3DPEHPK3PXP&period=-30", "period"),
        ("period too long", "otpauth://totp/alice?secret=JBSWY3DPEHPK3PXP&period=86401", "period"),
        ("period huge", "otpauth://totp/alice?secret=JBSWY3DPEHPK3PXP&period=99999999999999999999999", "period"),
        ("secret twice, same value", "otpauth://totp/alice?secret=JBSWY3DPEHPK3PXP&secret=JBSWY3DPEHPK3PXP", "more than once"),
        ("issuer twice", "otpauth://totp/alice?secret=JBSWY3DPEHPK3PXP&issuer=A&issuer=A", "more than once"),
        ("digits twice", "otpauth://totp/alice?secret=JBSWY3DPEHPK3PXP&digits=6&digits=8", "more than once"),
        ("name encoded twice", "otpauth://totp/alice?secret=JBSWY3DPEHPK3PXP&%73ecret=JBSWY3DPEHPK3PXP", "more than once"),
        ("issuer mismatch", "otpauth://totp/Evil:alice?secret=JBSWY3DPEHPK3PXP&issuer=Good", "disagrees"),
        ("truncated escape", "otpauth://totp/alice%2?secret=JBSWY3DPEHPK3PXP", "percent"),
        ("non-hex escape", "otpauth://totp/alice%G1?secret=JBSWY3DPEHPK3PXP", "percent"),
        ("escape at end of query", "otpauth://totp/alice?secret=JBSWY3DPEHPK3PXP&issuer=%", "percent"),
        ("escape is not UTF-8", "otpauth://totp/alice%FF?secret=JBSWY3DPEHPK3PXP", "percent"),
        ("hotp without counter", "otpauth://hotp/alice?secret=JBSWY3DPEHPK3PXP", "counter"),
        ("counter overflow", "otpauth://hotp/alice?secret=JBSWY3DPEHPK3PXP&counter=18446744073709551616", "counter"),
        ("negative counter", "otpauth://hotp/alice?secret=JBSWY3DPEHPK3PXP&counter=-1", "counter"),
        ("two colons", "otpauth://totp/A:b:c?secret=JBSWY3DPEHPK3PXP", ":"),
        ("over 4 KiB", "otpauth://totp/alice?secret=JBSWY3DPEHPK3PXP&x=" + String(repeating: "a", count: 4_100), "4096"),
        ("empty", "", "otpauth://"),
    ]

    @Test("hostile input is a typed error naming the problem, never a trap", arguments: hostile)
    func refusesHostile(name: String, uri: String, fragment: String) {
        do {
            let parsed = try OTPAuthURI(parsing: uri)
            Issue.record("\(name): accepted as \(parsed.string)")
        } catch {
            #expect([OTPError.Code.invalidURI, .invalidBase32].contains(error.code), "\(name)")
            #expect(error.message.contains(fragment), "\(name): \(error.message)")
        }
    }

    @Test("random bytes and mutations of a valid URI never trap")
    func fuzz() throws {
        var random = SeededGenerator(seed: 4_226)
        let valid = Array("otpauth://hotp/A%20B:c@d?secret=JBSWY3DPEHPK3PXP&issuer=A%20B&counter=5&digits=8".utf8)
        let alphabet = Array("%:/?&=#+abcAZ0189 \u{0}".utf8) + [0xC3, 0xBC, 0xFF]
        var parsedCount = 0
        for _ in 0..<5_000 {
            var bytes = valid
            for _ in 0..<Int.random(in: 1...4, using: &random) {
                let index = Int.random(in: 0..<bytes.count, using: &random)
                switch Int.random(in: 0..<3, using: &random) {
                case 0: bytes[index] = alphabet.randomElement(using: &random)!
                case 1: bytes.remove(at: index)
                default: bytes.insert(alphabet.randomElement(using: &random)!, at: index)
                }
                if bytes.isEmpty { bytes = valid }
            }
            if let parsed = try? OTPAuthURI(parsing: String(decoding: bytes, as: UTF8.self)) {
                parsedCount += 1
                // Whatever was accepted must build back into a URI that parses to the same thing.
                #expect(try OTPAuthURI(parsing: parsed.string) == parsed)
            }
        }
        #expect(parsedCount > 0)
    }

    @Test("build → parse gives the same parameters, over random parameters")
    func roundTrip() throws {
        var random = SeededGenerator(seed: 6_238)
        let pieces = ["ACME", "Co", " ", "&", "=", "?", "#", "/", "%", "+", "@", "é", "Ω", "雪", "🚀", ".", "~", "'", "\"", "a", "1"]
        func text() -> String {
            (0..<Int.random(in: 1...8, using: &random)).map { _ in pieces.randomElement(using: &random)! }.joined()
        }
        for _ in 0..<500 {
            let algorithm = OTPAlgorithm.allCases.randomElement(using: &random)!
            let secretBytes = (0..<Int.random(in: 1...64, using: &random)).map { _ in UInt8.random(in: 0...255, using: &random) }
            let method: OTPAuthURI.Method = Bool.random(using: &random)
                ? .totp(period: Int.random(in: 1...86_400, using: &random))
                : .hotp(counter: UInt64.random(in: 0...UInt64.max, using: &random))
            // The parser drops spaces after the issuer separator, so an account never starts with one.
            var account = text()
            if account.first == " " { account = "x" + account }
            let uri = try OTPAuthURI(
                method: method,
                account: account,
                issuer: Bool.random(using: &random) ? text() : nil,
                secret: try OTPSecret(bytes: secretBytes),
                algorithm: algorithm,
                digits: Int.random(in: 6...8, using: &random)
            )
            let parsed = try OTPAuthURI(parsing: uri.string)
            #expect(parsed == uri, "\(uri.string)")
        }
    }

    /// Found by the otpauth-uri fuzzer (Tests/Fuzz): a URI under 4 KiB whose label is not ASCII
    /// was accepted, and written out, percent-encoded, it was too long to parse again.
    @Test("a URI that would be over 4 KiB written out is refused, parsed or built")
    func refusesWhatWouldNotParseAgain() throws {
        let fuzzed = "b3RwYXV0aDovL3RvdHAvQf///////////y7///////9h/////+///////y7/+f///+f///8maf///////////y7//y7//7n/////Lv//Lv//uf9h/////+///////y7/+f//////Lv////dE////7///////Lv/5////5////0ludP////f/Yf///0T////v/y7/+f9h/////+///////y7/+f//////HC7////3RP///+///////y7/+f86zJpzdXR0b3RwL0H///////////8u////////Yf/////v//////8u//n//yZp////////////////Cf//uf9h/////+///////y7/+f//////Lv////dE////7///////Lv/5////5////0ludP////f/Yf///0T////v/y7/+f///+f///9Jbv//5////0ludP/////v//////8u//n////n////Jmn///////////8u//8u//+5/////y7//y7//7n/Yf/////v//////8u//n//////y7////3RP///+///////y7/+f///+f///9JbnT////3/2H///9E////7/8u//n/Yf/////v//////8u//n//////xwu////90T////v//////8u//n/dXRoOi8vdG90cC9B////////////Lv///////2H/////7///////Lv/5//8maf///////////////wn//7n/Yf/////v//////8u//n//////y7////3RP///+///////y7/+f///+f///9JbnT////3/2H///9E////7/8u//n////n////SW7/////Yf///0T////v/y7/+f///+f///9Jbv//P3NlY3JldD1ic3dqeTNkcGVwazM="
        let bytes = try #require(Data(base64Encoded: fuzzed))
        let label = String(repeating: "é", count: 1_000)
        for text in [String(decoding: bytes, as: UTF8.self), "otpauth://totp/\(label)?secret=JBSWY3DPEHPK3PXP"] {
            #expect(text.utf8.count <= OTPAuthURI.maximumLength)
            let error = try #require(throws: OTPError.self) { try OTPAuthURI(parsing: text) }
            #expect(error.code == .invalidURI)
            #expect(error.message.contains("written out"), "\(error.message)")
        }
        #expect(throws: OTPError.self) { try OTPAuthURI(method: .totp(period: 30), account: label, secret: secret) }
        // Just under the limit written out still parses, and writes the same URI again.
        let longest = try OTPAuthURI(method: .totp(period: 30), account: String(repeating: "é", count: 675), secret: secret)
        #expect(longest.string.utf8.count <= OTPAuthURI.maximumLength)
        #expect(try OTPAuthURI(parsing: longest.string) == longest)
    }

    @Test("an issuer or account containing the separator is refused when building")
    func refusesColon() {
        #expect(throws: OTPError.self) { try OTPAuthURI(method: .totp(period: 30), account: "a:b", secret: secret) }
        #expect(throws: OTPError.self) { try OTPAuthURI(method: .totp(period: 30), account: "a", issuer: "x:y", secret: secret) }
        #expect(throws: OTPError.self) { try OTPAuthURI(method: .totp(period: 30), account: "", secret: secret) }
    }
}
