import Foundation

/// The URI a push device scans at enrollment:
/// `twofold://activate?url=<percent-encoded base URL>&token=<one-time token, base64url>`.
///
/// Parsed strictly, since it decides where the device sends its public key and, from then on,
/// whose sign-ins it is asked to approve: the scheme must be `twofold` and the host `activate`,
/// `url` and `token` must each appear exactly once, `url` must be `http` or `https` with a host
/// and nothing after its path, and the token must be base64url. Other parameters are ignored, so
/// that a later server may add some.
public struct DeviceActivationURI: Sendable, Equatable {
    /// The server's base URL without a trailing slash (`https://twofold.example.com`, or with
    /// the prefix a reverse proxy serves it under).
    public let serverURL: String
    /// The one-time activation token.
    public let token: String

    /// The longest token accepted; the server's are far shorter.
    static let maximumTokenLength = 512

    /// - Throws: ``DeviceClient/Failure`` with code `invalid_uri`, naming what is wrong.
    public init(_ text: String) throws(DeviceClient.Failure) {
        func invalid(_ reason: String) -> DeviceClient.Failure {
            DeviceClient.Failure(.invalidURI, "not a Twofold activation URI: \(reason)")
        }
        let text = text.trimmingCharacters(in: .whitespacesAndNewlines)
        guard let components = URLComponents(string: text) else {
            throw invalid("it is not a URI")
        }
        guard components.scheme?.lowercased() == "twofold" else {
            throw invalid("it must start with twofold://activate?")
        }
        guard components.host?.lowercased() == "activate", components.path.isEmpty || components.path == "/",
              components.user == nil, components.password == nil, components.port == nil else {
            throw invalid("it must start with twofold://activate?")
        }
        guard components.fragment == nil else { throw invalid("it has a fragment (#…)") }
        let items = components.queryItems ?? []
        func single(_ name: String) throws(DeviceClient.Failure) -> String {
            let values = items.filter { $0.name == name }
            guard !values.isEmpty else { throw invalid("it has no \(name) parameter") }
            guard values.count == 1 else { throw invalid("it has \(values.count) \(name) parameters") }
            guard let value = values[0].value, !value.isEmpty else { throw invalid("its \(name) parameter is empty") }
            return value
        }
        let url = try single("url")
        let token = try single("token")
        guard token.utf8.count <= Self.maximumTokenLength,
              token.utf8.allSatisfy({ Self.isBase64URLCharacter($0) }) else {
            throw invalid("its token is not base64url (A-Z, a-z, 0-9, - and _)")
        }
        serverURL = try Self.baseURL(url)
        self.token = token
    }

    /// The server URL checked and without a trailing slash.
    private static func baseURL(_ text: String) throws(DeviceClient.Failure) -> String {
        func invalid(_ reason: String) -> DeviceClient.Failure {
            DeviceClient.Failure(.invalidURI, "not a Twofold activation URI: its url \(reason)")
        }
        guard !text.unicodeScalars.contains(where: { $0.value <= 0x20 || $0.value == 0x7F }),
              let components = URLComponents(string: text) else {
            throw invalid("is not a URL")
        }
        guard let scheme = components.scheme?.lowercased(), scheme == "http" || scheme == "https" else {
            throw invalid("must be an http:// or https:// URL")
        }
        guard let host = components.host, !host.isEmpty else { throw invalid("has no host") }
        guard components.user == nil, components.password == nil else { throw invalid("must not hold a user name or password") }
        guard components.query == nil, components.fragment == nil else { throw invalid("must not have a query (?…) or fragment (#…)") }
        var base = text
        while base.hasSuffix("/") { base.removeLast() }
        return base
    }

    private static func isBase64URLCharacter(_ byte: UInt8) -> Bool {
        switch byte {
        case UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "0")...UInt8(ascii: "9"),
             UInt8(ascii: "-"), UInt8(ascii: "_"):
            true
        default:
            false
        }
    }
}
