import Testing
import TwofoldOTP
import TwofoldTokenFiles

/// Files that are refused whole: hostile XML, keys Twofold cannot use, limits.
@Suite("PSKC refusals")
struct PSKCRefusalTests {
    @Test("a DOCTYPE with nested entities (billion laughs) is refused before parsing")
    func entityBomb() throws {
        let error = try Fixture.pskcError("entity-bomb.pskcxml")
        #expect(error?.code == .malformed)
        #expect(error?.message.contains("DOCTYPE") == true)
    }

    @Test("an external entity (XXE) is refused and nothing is read from disk")
    func externalEntity() throws {
        let error = try Fixture.pskcError("external-entity.pskcxml")
        #expect(error?.code == .malformed)
        #expect(error?.message.contains("root:") == false)
    }

    @Test("a declaration hidden after the root is refused too, but comments and CDATA are fine")
    func declarationsAnywhere() throws {
        let hidden = Array(#"<KeyContainer xmlns="urn:ietf:params:xml:ns:keyprov:pskc"><!ENTITY x "y"></KeyContainer>"#.utf8)
        #expect(Fixture.error { () throws(TokenFileError) in try TokenFile.readPSKC(hidden, key: .none) }?.code == .malformed)
        let fine = Array(#"<!-- c --><KeyContainer Version="1.0" xmlns="urn:ietf:params:xml:ns:keyprov:pskc"><![CDATA[x]]></KeyContainer>"#.utf8)
        #expect(try TokenFile.readPSKC(fine, key: .none) == [])
    }

    @Test("UTF-16 and declared non-UTF-8 encodings are refused")
    func encodings() throws {
        let utf16: [UInt8] = [0xFF, 0xFE] + "<KeyContainer/>".utf16.flatMap { unit -> [UInt8] in [UInt8(unit & 0xFF), UInt8(unit >> 8)] }
        #expect(Fixture.error { () throws(TokenFileError) in try TokenFile.readPSKC(utf16, key: .none) }?.code == .malformed)
        let utf7 = Array(#"<?xml version="1.0" encoding="UTF-7"?><KeyContainer/>"#.utf8)
        #expect(Fixture.error { () throws(TokenFileError) in try TokenFile.readPSKC(utf7, key: .none) }?.code == .unsupported)
    }

    /// A fuzzer's find: FoundationXML trapped on the comment's bytes before the preflight
    /// refused text that is not UTF-8.
    @Test("bytes that are not UTF-8, in a comment or anywhere, are refused before the parser sees them")
    func invalidUTF8() throws {
        let comment = Array("<!-- RFC 6030 Figure 2 (basic PSKC".utf8) + [0xFF, 0xFF] + Array(#" Key Container) --><KeyContainer Version="1.0" xmlns="urn:ietf:params:xml:ns:keyprov:pskc"/>"#.utf8)
        let error = Fixture.error { () throws(TokenFileError) in try TokenFile.readPSKC(comment, key: .none) }
        #expect(error?.code == .malformed)
        #expect(error?.message.contains("UTF-8") == true)
        let value = Array(#"<KeyContainer Version="1.0" xmlns="urn:ietf:params:xml:ns:keyprov:pskc"><KeyPackage>"#.utf8) + [0xE4, 0x28]
            + Array("</KeyPackage></KeyContainer>".utf8)
        #expect(Fixture.error { () throws(TokenFileError) in try TokenFile.readPSKC(value, key: .none) }?.code == .malformed)
    }

    @Test("XML cut off in the middle is refused as malformed, with no tokens")
    func malformedXML() throws {
        #expect(try Fixture.pskcError("malformed.pskcxml")?.code == .malformed)
        #expect(Fixture.error { () throws(TokenFileError) in try TokenFile.readPSKC([], key: .none) }?.code == .malformed)
    }

    @Test("a root that is not PSKC's KeyContainer is refused")
    func wrongRoot() {
        let other = Array(#"<KeyContainer xmlns="urn:example"/>"#.utf8)
        #expect(Fixture.error { () throws(TokenFileError) in try TokenFile.readPSKC(other, key: .none) }?.code == .malformed)
        let later = Array(#"<KeyContainer Version="2.0" xmlns="urn:ietf:params:xml:ns:keyprov:pskc"/>"#.utf8)
        #expect(Fixture.error { () throws(TokenFileError) in try TokenFile.readPSKC(later, key: .none) }?.code == .unsupported)
    }

    @Test("an OCRA key refuses the file, naming the key, though the other key is fine")
    func ocraKey() throws {
        let error = try Fixture.pskcError("ocra.pskcxml")
        #expect(error?.code == .unsupported)
        #expect(error?.message.contains("ocra-key-7") == true)
    }

    @Test("two keys on one serial are refused, both named")
    func duplicateSerials() throws {
        let error = try Fixture.pskcError("duplicate-serials.pskcxml")
        #expect(error?.code == .duplicateSerial)
        #expect(error?.message.contains("TF-DUP-0001") == true)
        #expect(error?.message.contains("\"first\"") == true && error?.message.contains("\"second\"") == true)
    }

    static func container(_ key: String) -> [UInt8] {
        Array("""
            <KeyContainer Version="1.0" xmlns="urn:ietf:params:xml:ns:keyprov:pskc"><KeyPackage>\(key)</KeyPackage></KeyContainer>
            """.utf8)
    }

    static let secret = "<Data><Secret><PlainValue>MTIzNDU2Nzg5MDEyMzQ1Njc4OTA=</PlainValue></Secret></Data>"

    @Test("keys Twofold cannot use are refused as unsupported, naming the key", arguments: [
        // Challenge-response under an HOTP name.
        #"<Key Id="k1" Algorithm="urn:ietf:params:xml:ns:keyprov:pskc:hotp"><AlgorithmParameters><ChallengeFormat Encoding="DECIMAL" Min="6" Max="6"/></AlgorithmParameters>\#(secret)</Key>"#,
        // Hexadecimal codes, 4 and 9 digits, a Luhn check digit.
        #"<Key Id="k1" Algorithm="urn:ietf:params:xml:ns:keyprov:pskc:hotp"><AlgorithmParameters><ResponseFormat Length="6" Encoding="HEXADECIMAL"/></AlgorithmParameters>\#(secret)</Key>"#,
        #"<Key Id="k1" Algorithm="urn:ietf:params:xml:ns:keyprov:pskc:hotp"><AlgorithmParameters><ResponseFormat Length="4" Encoding="DECIMAL"/></AlgorithmParameters>\#(secret)</Key>"#,
        #"<Key Id="k1" Algorithm="urn:ietf:params:xml:ns:keyprov:pskc:totp"><AlgorithmParameters><ResponseFormat Length="9" Encoding="DECIMAL"/></AlgorithmParameters>\#(secret)</Key>"#,
        #"<Key Id="k1" Algorithm="urn:ietf:params:xml:ns:keyprov:pskc:hotp"><AlgorithmParameters><ResponseFormat Length="6" Encoding="DECIMAL" CheckDigits="true"/></AlgorithmParameters>\#(secret)</Key>"#,
        // An unknown hash, a PIN typed with the code, a key not for OTPs, an unknown algorithm.
        #"<Key Id="k1" Algorithm="urn:ietf:params:xml:ns:keyprov:pskc:totp"><AlgorithmParameters><Suite>HMAC-MD5</Suite></AlgorithmParameters>\#(secret)</Key>"#,
        #"<Key Id="k1" Algorithm="urn:ietf:params:xml:ns:keyprov:pskc:hotp">\#(secret)<Policy><PINPolicy PINUsageMode="Prepend"/></Policy></Key>"#,
        #"<Key Id="k1" Algorithm="urn:ietf:params:xml:ns:keyprov:pskc:hotp">\#(secret)<Policy><KeyUsage>CR</KeyUsage></Policy></Key>"#,
        #"<Key Id="k1" Algorithm="urn:example:securid">\#(secret)</Key>"#,
        // A TOTP period beyond a day.
        #"<Key Id="k1" Algorithm="urn:ietf:params:xml:ns:keyprov:pskc:totp"><Data><Secret><PlainValue>MTIzNA==</PlainValue></Secret><TimeInterval><PlainValue>86401</PlainValue></TimeInterval></Data></Key>"#,
    ])
    func unsupportedKeys(_ key: String) {
        let error = Fixture.error { () throws(TokenFileError) in try TokenFile.readPSKC(Self.container(key), key: .none) }
        #expect(error?.code == .unsupported)
        #expect(error?.message.contains("\"k1\"") == true)
    }

    @Test("values of the wrong shape are refused as malformed", arguments: [
        #"<Key Id="k1" Algorithm="urn:ietf:params:xml:ns:keyprov:pskc:hotp"><Data><Secret><PlainValue>not base64!</PlainValue></Secret></Data></Key>"#,
        #"<Key Id="k1" Algorithm="urn:ietf:params:xml:ns:keyprov:pskc:hotp"><Data><Secret><PlainValue></PlainValue></Secret></Data></Key>"#,
        #"<Key Id="k1" Algorithm="urn:ietf:params:xml:ns:keyprov:pskc:hotp">\#(secret)<Data/></Key>"#,
        #"<Key Id="k1" Algorithm="urn:ietf:params:xml:ns:keyprov:pskc:hotp"><Data><Secret><PlainValue>MTIzNA==</PlainValue></Secret><Counter><PlainValue>-1</PlainValue></Counter></Data></Key>"#,
        #"<DeviceInfo><SerialNo>a&#10;b</SerialNo></DeviceInfo><Key Id="k1" Algorithm="urn:ietf:params:xml:ns:keyprov:pskc:hotp">\#(secret)</Key>"#,
        #"<DeviceInfo><SerialNo>\#(String(repeating: "7", count: 65))</SerialNo></DeviceInfo><Key Id="k1" Algorithm="urn:ietf:params:xml:ns:keyprov:pskc:hotp">\#(secret)</Key>"#,
    ])
    func malformedValues(_ key: String) {
        #expect(Fixture.error { () throws(TokenFileError) in try TokenFile.readPSKC(Self.container(key), key: .none) }?.code == .malformed)
    }

    @Test("vendor TOTP URIs, a Suite, a TimeInterval and a counter are read", arguments: [
        ("http://www.ietf.org/keyprov/pskc#totp", "<Suite>HMAC-SHA512</Suite>", "<TimeInterval><PlainValue>60</PlainValue></TimeInterval>",
         HardwareToken.Kind.totp(period: 60), OTPAlgorithm.sha512),
        ("urn:ietf:params:xml:ns:keyprov:pskc#totp", "", "", .totp(period: 30), .sha1),
        ("urn:ietf:params:xml:ns:keyprov:pskc#hotp", "<Suite>SHA256</Suite>", "<Counter><PlainValue>18446744073709551615</PlainValue></Counter>",
         .hotp(counter: .max), .sha256),
    ])
    func vendorForms(_ algorithm: String, _ suite: String, _ data: String, _ kind: HardwareToken.Kind, _ hash: OTPAlgorithm) throws {
        let key = #"<Key Id="k1" Algorithm="\#(algorithm)"><AlgorithmParameters>\#(suite)</AlgorithmParameters><Data><Secret><PlainValue>MTIzNA==</PlainValue></Secret>\#(data)</Data></Key>"#
        let token = try #require(try TokenFile.readPSKC(Self.container(key), key: .none).first)
        #expect(token.kind == kind)
        #expect(token.algorithm == hash)
        #expect(token.serial == "k1")
    }

    @Test("past 16 MiB or 100,000 key packages the file is refused as too large")
    func limits() {
        let big = [UInt8](repeating: UInt8(ascii: " "), count: TokenFile.maximumFileSize + 1)
        #expect(Fixture.error { () throws(TokenFileError) in try TokenFile.readPSKC(big, key: .none) }?.code == .tooLarge)
        #expect(Fixture.error { () throws(TokenFileError) in try TokenFile.readCSV(big) }?.code == .tooLarge)
        let many = Array(("<KeyContainer xmlns=\"urn:ietf:params:xml:ns:keyprov:pskc\">"
            + String(repeating: "<KeyPackage/>", count: TokenFile.maximumTokenCount + 1) + "</KeyContainer>").utf8)
        #expect(Fixture.error { () throws(TokenFileError) in try TokenFile.readPSKC(many, key: .none) }?.code == .tooLarge)
    }
}

