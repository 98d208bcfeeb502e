import Crypto
import Foundation

/// Twilio's request signature, `X-Twilio-Signature`: Base64 of HMAC-SHA1, keyed with the Auth
/// Token, over the full URL followed by each POST parameter's name and value, sorted by name.
///
/// - Important: SHA-1 is broken for collisions, not as HMAC's hash: HMAC-SHA1 is still a sound
///   MAC (RFC 2104, and NIST SP 800-107 §5.3), and it is the scheme Twilio signs with.
public struct TwilioRequestSignature: Sendable {
    private let key: SymmetricKey

    public init(authToken: String) {
        key = SymmetricKey(data: Data(authToken.utf8))
    }

    /// The signature of a request to `url` with form `parameters`.
    ///
    /// Parameters are sorted by name, then value, as byte strings (Twilio sorts case-sensitively);
    /// a JSON request signed through `bodySHA256` passes no parameters.
    public func signature(url: String, parameters: [(String, String)]) -> String {
        Data(HMAC<Insecure.SHA1>.authenticationCode(for: Self.signedText(url: url, parameters: parameters), using: key))
            .base64EncodedString()
    }

    /// Whether `signature` signs the request, for `url` as given or with its default port
    /// added or removed (Twilio signs either form). Compared in constant time.
    public func isValid(_ signature: String, url: String, parameters: [(String, String)]) -> Bool {
        guard let received = Data(base64Encoded: signature) else { return false }
        var valid = false
        for candidate in Self.urlForms(url) {
            // Every form is checked, so the time taken does not depend on which one matched.
            let matches = HMAC<Insecure.SHA1>.isValidAuthenticationCode(
                received, authenticating: Self.signedText(url: candidate, parameters: parameters), using: key)
            valid = valid || matches
        }
        return valid
    }

    static func signedText(url: String, parameters: [(String, String)]) -> Data {
        var text = Array(url.utf8)
        let sorted = parameters.map { (Array($0.0.utf8), Array($0.1.utf8)) }.sorted {
            $0.0 != $1.0 ? $0.0.lexicographicallyPrecedes($1.0) : $0.1.lexicographicallyPrecedes($1.1)
        }
        for (name, value) in sorted {
            text += name
            text += value
        }
        return Data(text)
    }

    /// `url` itself, and the same URL with the scheme's default port (`:443` for https, `:80`
    /// for http) added when it has none, or removed when it has it. A URL with another port
    /// has one form only. The path and query are kept byte for byte.
    static func urlForms(_ url: String) -> [String] {
        guard let schemeEnd = url.range(of: "://") else { return [url] }
        let scheme = url[..<schemeEnd.lowerBound].lowercased()
        let defaultPort: String
        switch scheme {
        case "https": defaultPort = "443"
        case "http": defaultPort = "80"
        default: return [url]
        }
        let rest = url[schemeEnd.upperBound...]
        let authorityEnd = rest.firstIndex(where: { $0 == "/" || $0 == "?" || $0 == "#" }) ?? rest.endIndex
        let authority = rest[..<authorityEnd]
        let tail = rest[authorityEnd...]
        let head = url[..<schemeEnd.upperBound]
        // The port follows the last colon after the user information and the host, which may
        // be a bracketed IPv6 address.
        let hostStart = authority.lastIndex(of: "@") ?? authority.startIndex
        let hostEnd = authority[hostStart...].lastIndex(of: "]") ?? hostStart
        if let colon = authority[hostEnd...].lastIndex(of: ":") {
            let port = authority[authority.index(after: colon)...]
            guard port == defaultPort else { return [url] }
            return [url, String(head + authority[..<colon] + tail)]
        }
        return [url, String(head + authority) + ":" + defaultPort + String(tail)]
    }
}
