import Crypto
import _CryptoExtras

/// The algorithm URIs a PSKC file may name, and what Twofold does with each.
enum PSKCAlgorithms {
    /// What a `Key` is for, from its `Algorithm` attribute.
    enum KeyAlgorithm {
        case hotp
        case totp
        /// The PIN of another key (RFC 6030 §5.2, Figure 5): not a token of its own.
        case pin

        /// RFC 6030 §10 registers the `urn:…:hotp` and `urn:…:pin` forms; TOTP has no
        /// registered URI, and vendors write `urn:…:totp`, or the drafts' `#hotp` / `#totp`
        /// forms. Compared without regard to case.
        init?(uri: String) {
            let forms: [String: KeyAlgorithm] = [
                "urn:ietf:params:xml:ns:keyprov:pskc:hotp": .hotp,
                "urn:ietf:params:xml:ns:keyprov:pskc#hotp": .hotp,
                "http://www.ietf.org/keyprov/pskc#hotp": .hotp,
                "urn:ietf:params:xml:ns:keyprov:pskc:totp": .totp,
                "urn:ietf:params:xml:ns:keyprov:pskc#totp": .totp,
                "http://www.ietf.org/keyprov/pskc#totp": .totp,
                "urn:ietf:params:xml:ns:keyprov:pskc:pin": .pin,
                "urn:ietf:params:xml:ns:keyprov:pskc#pin": .pin,
            ]
            guard let algorithm = forms[TokenFileText.trimmingXMLSpace(uri).lowercased()] else { return nil }
            self = algorithm
        }
    }

    /// An `EncryptionMethod` Twofold decrypts: AES in CBC mode with the IV prepended to the
    /// ciphertext (XML Encryption §5.2.2, RFC 6030 §6.1). Key wrap and key transport
    /// (RSA) are not read.
    struct Cipher {
        let name: String
        let keySize: Int

        init?(uri: String) {
            switch TokenFileText.trimmingXMLSpace(uri) {
            case "http://www.w3.org/2001/04/xmlenc#aes128-cbc": (name, keySize) = ("aes128-cbc", 16)
            case "http://www.w3.org/2001/04/xmlenc#aes192-cbc": (name, keySize) = ("aes192-cbc", 24)
            case "http://www.w3.org/2001/04/xmlenc#aes256-cbc": (name, keySize) = ("aes256-cbc", 32)
            default: return nil
            }
        }

        static let supported = "aes128-cbc, aes192-cbc and aes256-cbc"
    }

    /// The hash under a value MAC (`MACMethod`, RFC 6030 §6.1.1) or under PBKDF2's PRF.
    ///
    /// - Important: HMAC-SHA-1 is RFC 6030's mandatory MAC and PBKDF2's default PRF. SHA-1's
    ///   collisions do not carry over to HMAC, whose security rests on the compression function
    ///   as a PRF (RFC 6194 §3.2), so it is accepted here: refusing it would refuse the files
    ///   tokens ship with.
    enum HMACHash {
        case sha1, sha256, sha384, sha512

        init?(uri: String) {
            switch TokenFileText.trimmingXMLSpace(uri) {
            case "http://www.w3.org/2000/09/xmldsig#hmac-sha1": self = .sha1
            case "http://www.w3.org/2001/04/xmldsig-more#hmac-sha256": self = .sha256
            case "http://www.w3.org/2001/04/xmldsig-more#hmac-sha384": self = .sha384
            case "http://www.w3.org/2001/04/xmldsig-more#hmac-sha512": self = .sha512
            default: return nil
            }
        }

        static let supported = "hmac-sha1, hmac-sha256, hmac-sha384 and hmac-sha512"

        /// Whether `mac` is the HMAC of `data` under `key`, compared in constant time.
        func isValid(mac: [UInt8], of data: [UInt8], key: [UInt8]) -> Bool {
            let key = SymmetricKey(data: key)
            return switch self {
            case .sha1: HMAC<Insecure.SHA1>.isValidAuthenticationCode(mac, authenticating: data, using: key)
            case .sha256: HMAC<SHA256>.isValidAuthenticationCode(mac, authenticating: data, using: key)
            case .sha384: HMAC<SHA384>.isValidAuthenticationCode(mac, authenticating: data, using: key)
            case .sha512: HMAC<SHA512>.isValidAuthenticationCode(mac, authenticating: data, using: key)
            }
        }

        var pbkdf2: KDF.Insecure.PBKDF2.HashFunction {
            switch self {
            case .sha1: .insecureSHA1
            case .sha256: .sha256
            case .sha384: .sha384
            case .sha512: .sha512
            }
        }
    }

    /// `KeyDerivationMethod` algorithms: PBKDF2 as PKCS #5 v2.0's schema names it (RFC 6030
    /// §6.2) and as XML Encryption 1.1 does.
    static func isPBKDF2(_ uri: String) -> Bool {
        let uri = TokenFileText.trimmingXMLSpace(uri)
        return uri == "http://www.rsasecurity.com/rsalabs/pkcs/schemas/pkcs-5v2-0#pbkdf2"
            || uri == "http://www.w3.org/2009/xmlenc11#pbkdf2"
    }
}
