import Testing
import TwofoldOTP
import TwofoldTokenFiles

/// Twofold's own encrypted fixtures, made by Fixtures/make_fixtures.py with Python's
/// `cryptography`: an independent AES-CBC, HMAC and PBKDF2.
@Suite("Encrypted PSKC files")
struct EncryptedPSKCTests {
    @Test("a pre-shared-key file with HMAC-SHA1 MACs imports both keys, whatever prefixes name the namespaces")
    func preSharedKeyAES128() throws {
        let tokens = try TokenFile.readPSKC(Fixture.bytes("psk-aes128.pskcxml"), key: .preSharedKey(Fixture.psk128))
        #expect(tokens == [
            HardwareToken(serial: "TF-HOTP-0001", secret: Fixture.hotpSecret, kind: .hotp(counter: 42), digits: 6,
                          algorithm: .sha1, manufacturer: "Twofold Test"),
            HardwareToken(serial: "TF-TOTP-0002", secret: Fixture.totpSecret, kind: .totp(period: 60), digits: 8,
                          algorithm: .sha256, manufacturer: "Twofold Test"),
        ])
    }

    @Test("an AES-256 file with HMAC-SHA256 MACs and an encrypted counter imports")
    func preSharedKeyAES256() throws {
        let tokens = try TokenFile.readPSKC(Fixture.bytes("psk-aes256-sha256.pskcxml"), key: .preSharedKey(Fixture.psk256))
        #expect(tokens == [
            HardwareToken(serial: "TF-HOTP-0256", secret: Fixture.hotp256Secret, kind: .hotp(counter: 1_000), digits: 7, algorithm: .sha512),
        ])
    }

    @Test("a password-based file (PBKDF2-HMAC-SHA256) imports with its password")
    func passwordBased() throws {
        let tokens = try TokenFile.readPSKC(Fixture.bytes("password-pbkdf2.pskcxml"), key: .password(Fixture.password))
        #expect(tokens == [
            HardwareToken(serial: "TF-PBKDF2-0003", secret: Fixture.pbkdf2Secret, kind: .totp(period: 30), digits: 6,
                          algorithm: .sha1, manufacturer: "Twofold Test"),
        ])
    }

    @Test("a wrong pre-shared key is refused as the wrong key")
    func wrongPreSharedKey() throws {
        var key = Fixture.psk128
        key[15] ^= 0x80
        #expect(try Fixture.pskcError("psk-aes128.pskcxml", key: .preSharedKey(key))?.code == .wrongKey)
        #expect(try Fixture.pskcError("psk-aes256-sha256.pskcxml", key: .preSharedKey(Fixture.psk128))?.code == .wrongKey)
    }

    @Test("a wrong password is refused as the wrong key")
    func wrongPassword() throws {
        #expect(try Fixture.pskcError("password-pbkdf2.pskcxml", key: .password("Twofold import 2025"))?.code == .wrongKey)
    }

    @Test("an encrypted file without a key, or with the wrong kind of key, asks for one")
    func missingKey() throws {
        #expect(try Fixture.pskcError("psk-aes128.pskcxml")?.code == .keyRequired)
        #expect(try Fixture.pskcError("psk-aes128.pskcxml", key: .password("Twofold import 2024"))?.code == .keyRequired)
        let error = try Fixture.pskcError("password-pbkdf2.pskcxml")
        #expect(error?.code == .keyRequired)
        #expect(error?.message.contains("password") == true)
    }

    @Test("one altered value MAC refuses the whole file, the key whose MAC failed named")
    func tamperedMAC() throws {
        let error = try Fixture.pskcError("tampered-mac.pskcxml", key: .preSharedKey(Fixture.psk128))
        #expect(error?.code == .wrongKey)
        #expect(error?.message.contains("totp-2") == true)
    }

    @Test("bad padding under a MAC that holds is refused as malformed, not as a wrong key")
    func badPadding() throws {
        let error = try Fixture.pskcError("bad-padding.pskcxml", key: .preSharedKey(Fixture.psk128))
        #expect(error?.code == .malformed)
        #expect(error?.message.contains("PKCS #7") == true)
    }

    @Test("an AES-CBC value without a ValueMAC is refused")
    func missingMAC() throws {
        let error = try Fixture.pskcError("missing-mac.pskcxml", key: .preSharedKey(Fixture.psk128))
        #expect(error?.code == .malformed)
        #expect(error?.message.contains("ValueMAC") == true)
    }

    @Test("a plain file opens whatever key is given")
    func plainFileIgnoresKey() throws {
        let bytes = try Fixture.bytes("rfc6030-figure3.pskcxml")
        let plain = try TokenFile.readPSKC(bytes, key: .none)
        #expect(try TokenFile.readPSKC(bytes, key: .preSharedKey(Fixture.psk128)) == plain)
        #expect(try TokenFile.readPSKC(bytes, key: .password("x")) == plain)
    }

    @Test("no error message holds a decrypted secret or the key given", arguments: [
        ("psk-aes128.pskcxml", TokenFileKey.password("nope")),
        ("tampered-mac.pskcxml", .preSharedKey(Fixture.psk128)),
        ("bad-padding.pskcxml", .preSharedKey(Fixture.psk128)),
        ("password-pbkdf2.pskcxml", .password("wrong")),
    ])
    func errorsHoldNoSecrets(_ name: String, _ key: TokenFileKey) throws {
        let error = try #require(try Fixture.pskcError(name, key: key))
        for secret in [Fixture.hotpSecret, Fixture.totpSecret, Fixture.psk128, Fixture.pbkdf2Secret] {
            let hex = secret.map { String($0, radix: 16).count == 1 ? "0" + String($0, radix: 16) : String($0, radix: 16) }.joined()
            #expect(!error.description.lowercased().contains(hex))
            #expect(!error.description.contains(Base32.encode(secret, padding: false)))
        }
    }
}
