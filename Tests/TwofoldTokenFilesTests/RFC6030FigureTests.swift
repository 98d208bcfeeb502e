import Testing
import TwofoldOTP
import TwofoldTokenFiles

/// RFC 6030's examples, transcribed in Fixtures/rfc6030-figure*.pskcxml (each file says what
/// it is). Every figure that carries a secret Twofold can read imports with the figure's
/// serial, secret, digits, counter and algorithm; the others are refused for the reason the
/// figure gives.
@Suite("RFC 6030 figures")
struct RFC6030FigureTests {
    struct Case: CustomTestStringConvertible, Sendable {
        var figure: Int
        var key: TokenFileKey
        var expected: [HardwareToken]
        var testDescription: String { "Figure \(figure)" }
    }

    static func hotp(_ serial: String, _ secret: [UInt8], digits: Int, manufacturer: String?) -> HardwareToken {
        HardwareToken(serial: serial, secret: secret, kind: .hotp(counter: 0), digits: digits, algorithm: .sha1, manufacturer: manufacturer)
    }

    static let importable: [Case] = [
        // No DeviceInfo: the serial is the key Id; no ResponseFormat: 6 digits.
        Case(figure: 2, key: .none, expected: [hotp("12345678", Array("1234".utf8), digits: 6, manufacturer: nil)]),
        Case(figure: 3, key: .none, expected: [hotp("987654321", Fixture.rfcSecret, digits: 8, manufacturer: "Manufacturer")]),
        // The PIN key in the second package is skipped: the device checks its PIN (Local).
        Case(figure: 5, key: .none, expected: [hotp("987654321", Fixture.rfcSecret, digits: 8, manufacturer: "Manufacturer")]),
        Case(figure: 6, key: .preSharedKey(Fixture.hex("12345678901234567890123456789012")),
             expected: [hotp("987654321", Fixture.rfcSecret, digits: 8, manufacturer: "Manufacturer")]),
        Case(figure: 7, key: .password("qwerty"),
             expected: [hotp("987654321", Fixture.rfcSecret, digits: 8, manufacturer: "TokenVendorAcme")]),
        // The derived key Figure 7 states, given directly, opens the file too.
        Case(figure: 7, key: .preSharedKey(Fixture.hex("651e63cd57008476af1ff6422cd02e41")),
             expected: [hotp("987654321", Fixture.rfcSecret, digits: 8, manufacturer: "TokenVendorAcme")]),
        Case(figure: 9, key: .none, expected: [hotp("0755225266", Fixture.rfcSecret, digits: 6, manufacturer: "TokenVendorAcme")]),
    ]

    @Test("imports the figure's serial, secret, digits, counter and algorithm", arguments: importable)
    func importsFigure(_ example: Case) throws {
        let bytes = try Fixture.bytes("rfc6030-figure\(example.figure).pskcxml")
        #expect(try TokenFile.readPSKC(bytes, key: example.key) == example.expected)
    }

    @Test("Figure 3's imported secret gives RFC 4226 Appendix D's codes")
    func figure3CodesMatchRFC4226() throws {
        let token = try #require(try TokenFile.readPSKC(Fixture.bytes("rfc6030-figure3.pskcxml"), key: .none).first)
        let hotp = try HOTP(secret: OTPSecret(bytes: token.secret), algorithm: token.algorithm, digits: 6)
        #expect((0..<3).map { hotp.code(counter: $0) } == ["755224", "287082", "359152"])
    }

    @Test("Figure 4 is refused: its key has no secret, only a reference to a master key")
    func figure4HasNoSecret() throws {
        let error = try Fixture.pskcError("rfc6030-figure4.pskcxml", key: .none)
        #expect(error?.code == .unsupported)
        #expect(error?.message.contains("\"12345678\"") == true)
    }

    @Test("Figure 6 without its pre-shared key asks for one, and refuses a wrong one")
    func figure6NeedsItsKey() throws {
        let bytes = try Fixture.bytes("rfc6030-figure6.pskcxml")
        #expect(Fixture.error { () throws(TokenFileError) in try TokenFile.readPSKC(bytes, key: .none) }?.code == .keyRequired)
        let wrong = TokenFileKey.preSharedKey(Fixture.hex("12345678901234567890123456789013"))
        #expect(Fixture.error { () throws(TokenFileError) in try TokenFile.readPSKC(bytes, key: wrong) }?.code == .wrongKey)
    }

    @Test("Figure 7 with the wrong password is refused as the wrong key")
    func figure7WrongPassword() throws {
        let bytes = try Fixture.bytes("rfc6030-figure7.pskcxml")
        #expect(Fixture.error { () throws(TokenFileError) in try TokenFile.readPSKC(bytes, key: .password("qwertz")) }?.code == .wrongKey)
        #expect(Fixture.error { () throws(TokenFileError) in try TokenFile.readPSKC(bytes, key: .none) }?.code == .keyRequired)
    }

    @Test("Figure 8 is refused as unsupported: its secret is encrypted to an RSA key, naming the key")
    func figure8KeyTransport() throws {
        let error = try Fixture.pskcError("rfc6030-figure8.pskcxml", key: .preSharedKey(Fixture.psk128))
        #expect(error?.code == .unsupported)
        #expect(error?.message.contains("MBK000000001") == true)
    }

    @Test("Figure 10 is refused: device 9999999 holds two keys, and a serial names one token")
    func figure10DuplicateSerial() throws {
        let error = try Fixture.pskcError("rfc6030-figure10.pskcxml", key: .none)
        #expect(error?.code == .duplicateSerial)
        #expect(error?.message.contains("9999999") == true)
        #expect(error?.message.contains("key \"3\"") == true && error?.message.contains("key \"4\"") == true)
    }
}
