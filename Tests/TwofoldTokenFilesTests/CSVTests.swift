import Testing
import TwofoldOTP
import TwofoldTokenFiles

@Suite("Token CSV")
struct CSVTests {
    @Test("a file with hex and Base32 secrets, HOTP and TOTP, a header, a comment and a blank line imports")
    func goodFile() throws {
        let rfc = Fixture.rfcSecret
        let tokens = try TokenFile.readCSV(Fixture.bytes("tokens.csv"))
        #expect(tokens == [
            HardwareToken(serial: "HW-0001", secret: rfc, kind: .hotp(counter: 0), digits: 6),
            HardwareToken(serial: "HW-0002", secret: rfc, kind: .hotp(counter: 17), digits: 8),
            HardwareToken(serial: "HW-0003", secret: rfc, kind: .totp(period: 60), digits: 6, algorithm: .sha256),
            HardwareToken(serial: "HW-0004", secret: Fixture.hotpSecret, kind: .totp(period: 30), digits: 7),
            HardwareToken(serial: "HW 0005", secret: rfc, kind: .totp(period: 30), digits: 8, algorithm: .sha512),
        ])
    }

    @Test("CRLF line ends are read")
    func crlf() throws {
        #expect(try TokenFile.readCSV(Fixture.bytes("tokens-crlf.csv")) == [
            HardwareToken(serial: "CR-1", secret: [0x00, 0xFF], kind: .hotp(counter: 5), digits: 6),
        ])
    }

    @Test("an empty file, or one of comments, holds no tokens")
    func empty() throws {
        #expect(try TokenFile.readCSV([]) == [])
        #expect(try TokenFile.readCSV(Array("# nothing\n\n   \n".utf8)) == [])
    }

    static let good = "HW-1, hex:3132333435363738393031323334353637383930, hotp, 6, 0"

    /// Each bad line sits on line 3, after a header and a good line.
    @Test("each kind of bad line is refused, naming line 3 and what is wrong", arguments: [
        ("HW-2, hex:3132, hotp", "fields"),
        ("HW-2, hex:31, hotp, 6, 0, sha1, extra", "fields"),
        (", hex:3132, hotp, 6, 0", "serial"),
        ("\(String(repeating: "s", count: 65)), hex:3132, hotp, 6, 0", "serial"),
        ("HW-2, 3132333435, hotp, 6, 0", "hex: or base32:"),
        ("HW-2, hex:313, hotp, 6, 0", "odd number"),
        ("HW-2, hex:31zz, hotp, 6, 0", "not a hex digit"),
        ("HW-2, base32:GEZDGNB1, hotp, 6, 0", "Base32"),
        ("HW-2, hex:, hotp, 6, 0", "1 to 1024 bytes"),
        ("HW-2, hex:3132, ocra, 6, 0", "type"),
        ("HW-2, hex:3132, hotp, 5, 0", "digits"),
        ("HW-2, hex:3132, totp, nine, 30", "digits"),
        ("HW-2, hex:3132, hotp, 6, -1", "counter"),
        ("HW-2, hex:3132, hotp, 6, 18446744073709551616", "counter"),
        ("HW-2, hex:3132, totp, 6, 0", "period"),
        ("HW-2, hex:3132, totp, 6, 86401", "period"),
        ("HW-2, hex:3132, totp, 6, 30, md5", "algorithm"),
    ])
    func badLine(_ line: String, _ complaint: String) {
        let file = Array("serial,secret,type,digits,period-or-counter\n\(Self.good)\n\(line)\n".utf8)
        let error = Fixture.error { () throws(TokenFileError) in try TokenFile.readCSV(file) }
        #expect(error?.code == .malformed)
        #expect(error?.message.hasPrefix("line 3: ") == true, "\(error?.message ?? "")")
        #expect(error?.message.contains(complaint) == true, "\(error?.message ?? "")")
    }

    @Test("a line that is not UTF-8 is refused, naming it")
    func notUTF8() {
        let file = Array("\(Self.good)\n".utf8) + [0x48, 0xFF, 0x2C] + Array(" hex:31, hotp, 6, 0\n".utf8)
        let error = Fixture.error { () throws(TokenFileError) in try TokenFile.readCSV(file) }
        #expect(error?.code == .malformed)
        #expect(error?.message.hasPrefix("line 2") == true)
    }

    @Test("a repeated serial is refused, naming both lines")
    func duplicateSerial() {
        let file = Array("\(Self.good)\n# again\n\(Self.good)\n".utf8)
        let error = Fixture.error { () throws(TokenFileError) in try TokenFile.readCSV(file) }
        #expect(error?.code == .duplicateSerial)
        #expect(error?.message == "line 3: the serial \"HW-1\" is also on line 1")
    }

    @Test("a message about a bad secret never repeats its characters")
    func secretNotEchoed() {
        let file = Array("HW-1, base32:SECRETSECRET18, hotp, 6, 0\n".utf8)
        let error = Fixture.error { () throws(TokenFileError) in try TokenFile.readCSV(file) }
        #expect(error?.message.contains("SECRET") == false)
        #expect(error?.message.contains("\"1\"") == false)
    }
}
