import Testing
import TwofoldOTP
import TwofoldTesting

@Suite("Base32 as people type it")
struct Base32Tests {
    @Test("lower case, spaces, hyphens and missing padding decode like the canonical form")
    func forgiving() throws {
        let canonical = try Base32.decode("JBSWY3DPEHPK3PXP")
        #expect(try Base32.decode("jbsw y3dp ehpk 3pxp") == canonical)
        #expect(try Base32.decode("JBSW-Y3DP-EHPK-3PXP") == canonical)
        #expect(try Base32.decode("jbswy3dpehpk3pxp\n") == canonical)
        #expect(try Base32.decode("MZXW6YQ") == Array("foob".utf8))
        #expect(try Base32.decode("MZXW6YQ=") == Array("foob".utf8))
    }

    @Test("invalid characters are typed errors naming the character",
          arguments: ["JBSWY3DPEHPK3PX0", "JBSWY3DPEHPK3PX1", "JBSWY3DPEHPK3PX8", "JBSW!3DP", "ÄBCDEFGH", "MZ=XW6YQ"])
    func invalidCharacters(text: String) {
        #expect {
            try Base32.decode(text)
        } throws: { error in
            (error as? OTPError)?.code == .invalidBase32
        }
    }

    @Test("lengths that cannot encode whole bytes are refused", arguments: ["A", "ABC", "ABCDEF", "ABCDEFGHA", "MZXW6YTBO"])
    func impossibleLengths(text: String) {
        #expect {
            try Base32.decode(text)
        } throws: { error in
            guard let error = error as? OTPError else { return false }
            return error.code == .invalidBase32 && error.message.contains("length")
        }
    }

    @Test("encode then decode gives back the bytes, for random inputs of every length up to 100")
    func roundTrip() throws {
        var random = SeededGenerator(seed: 32)
        for length in 0...100 {
            let bytes = (0..<length).map { _ in UInt8.random(in: 0...255, using: &random) }
            #expect(try Base32.decode(Base32.encode(bytes)) == bytes)
            #expect(try Base32.decode(Base32.encode(bytes, padding: false).lowercased()) == bytes)
        }
    }

    @Test("generated secrets are the recommended size and never below 160 bits")
    func generatedSecrets() throws {
        #expect(OTPSecret.generate(for: .sha1).bytes.count == 20)
        #expect(OTPSecret.generate(for: .sha256).bytes.count == 32)
        #expect(OTPSecret.generate(for: .sha512).bytes.count == 64)
        var random = SystemRandomNumberGenerator()
        #expect(throws: OTPError.self) { try OTPSecret.generate(byteCount: 19, using: &random) }
        #expect(try OTPSecret.generate(byteCount: 20, using: &random).bytes.count == 20)
        #expect(OTPSecret.generate(for: .sha1) != OTPSecret.generate(for: .sha1))
    }

    @Test("short existing secrets are accepted for codes, an empty one is not")
    func existingSecrets() throws {
        let short = try OTPSecret(base32: "MZXW6")
        #expect(short.bytes == Array("foo".utf8))
        #expect(throws: OTPError.self) { try OTPSecret(bytes: []) }
        #expect(throws: OTPError.self) { try OTPSecret(base32: "  ") }
    }

    @Test("a secret's description never shows the key")
    func redacted() throws {
        let secret = try OTPSecret(base32: "JBSWY3DPEHPK3PXP")
        #expect(!"\(secret)".contains("JBSW"))
        #expect(!String(reflecting: secret).contains("JBSW"))
        #expect("\(secret)".contains("redacted"))
    }
}
