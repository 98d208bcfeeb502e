import TwofoldTesting

/// Realistic otpauth:// URIs (Key Uri Format) of the kinds authenticator apps receive: long
/// issuers, labels with non-ASCII characters both percent-encoded and raw, SHA-512 secrets of
/// 103 base32 characters, HOTP counters.
enum OTPAuthURIs {
    static let issuers = [
        "Twofold", "ACME Corporation", "Example", "GitHub", "Bank of Ünterwalden",
        "Société Générale Investissements et Gestion de Patrimoine Internationale",
        "東京ファイナンス", "Zürich Versicherungs-Gesellschaft AG", "a", "O'Reilly & Sons (EMEA) Ltd.",
    ]
    static let accounts = [
        "alice@example.com", "bob", "carol.danvers+2fa@subdomain.example.org", "Jürgen Müller",
        "李小龙", "user_0001", "z@z.zz", "very.long.account.name.for.testing.capacity@enterprise-directory.example.com",
        "Renée O'Connor", "admin",
    ]
    static let base32 = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZ234567")

    /// One URI with randomly chosen parts.
    static func random(using generator: inout SeededGenerator) -> String {
        let issuer = issuers.randomElement(using: &generator)!
        let account = accounts.randomElement(using: &generator)!
        let rawUTF8 = Bool.random(using: &generator)
        func encode(_ text: String) -> String {
            rawUTF8 ? rawLabelEncoding(text) : percentEncoding(text)
        }
        let hotp = Int.random(in: 0..<5, using: &generator) == 0
        // 20-byte (SHA-1), 32-byte (SHA-256) and 64-byte (SHA-512) secrets, plus short legacy ones.
        let (algorithm, secretLength) = [("SHA1", 32), ("SHA256", 52), ("SHA512", 103), ("SHA1", 16), ("SHA1", 26)]
            .randomElement(using: &generator)!
        let secret = String((0..<secretLength).map { _ in base32.randomElement(using: &generator)! })
        var uri = "otpauth://\(hotp ? "hotp" : "totp")/\(encode(issuer)):\(encode(account))?secret=\(secret)"
        uri += "&issuer=\(encode(issuer))"
        if algorithm != "SHA1" || Bool.random(using: &generator) {
            uri += "&algorithm=\(algorithm)"
        }
        uri += "&digits=\([6, 8].randomElement(using: &generator)!)"
        if hotp {
            uri += "&counter=\(UInt64.random(in: 0...UInt64.max, using: &generator))"
        } else {
            uri += "&period=\([30, 60].randomElement(using: &generator)!)"
        }
        return uri
    }

    /// RFC 3986 percent-encoding of everything but the unreserved characters.
    static func percentEncoding(_ text: String) -> String {
        var result = ""
        for byte in text.utf8 {
            switch byte {
            case 0x41...0x5A, 0x61...0x7A, 0x30...0x39, 0x2D, 0x2E, 0x5F, 0x7E:
                result.unicodeScalars.append(Unicode.Scalar(byte))
            default:
                let digits = Array("0123456789ABCDEF")
                result += "%\(digits[Int(byte >> 4)])\(digits[Int(byte & 0x0F)])"
            }
        }
        return result
    }

    /// What many issuers actually send: spaces and reserved characters escaped, non-ASCII
    /// left as raw UTF-8.
    static func rawLabelEncoding(_ text: String) -> String {
        var result = ""
        for scalar in text.unicodeScalars {
            switch scalar {
            case " ": result += "%20"
            case ":": result += "%3A"
            case "&": result += "%26"
            case "?": result += "%3F"
            case "#": result += "%23"
            case "+": result += "%2B"
            case "%": result += "%25"
            default: result.unicodeScalars.append(scalar)
            }
        }
        return result
    }
}
