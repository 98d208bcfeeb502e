import Foundation

/// A tenant: an application whose users Twofold protects. Users of one application are
/// invisible to every other.
public struct Application: Sendable, Equatable, Codable {
    public let id: ApplicationID
    public let name: String
    public let createdAt: Date
    /// The application's SMS text (`{app}`, `{code}`, `{minutes}`); the deployment's when `nil`.
    public var smsTemplate: String?
    /// The site users sign in to (`example.com`): SMS end with `@example.com #123456`, the
    /// origin-bound one-time code line phones and browsers offer to fill in on that site only.
    public var domain: String?
    /// Whether push challenges show a two-digit number on the login page that the device must
    /// send back with its approval, so that a user who approves a prompt they did not start
    /// (push fatigue) has to read the attacker's screen to do it. On unless turned off.
    public var pushNumberMatching: Bool
    /// The WebAuthn relying party id security keys are registered to (`example.com`); `nil`
    /// until set, and then the application cannot enroll security keys.
    public var relyingPartyID: String?
    /// The origins a WebAuthn ceremony may come from (`https://login.example.com`), each on the
    /// relying party id or a subdomain of it.
    public var origins: [String]

    public init(id: ApplicationID, name: String, createdAt: Date, smsTemplate: String? = nil, domain: String? = nil,
                pushNumberMatching: Bool = true, relyingPartyID: String? = nil, origins: [String] = []) {
        self.id = id
        self.name = name
        self.createdAt = createdAt
        self.smsTemplate = smsTemplate
        self.domain = domain
        self.pushNumberMatching = pushNumberMatching
        self.relyingPartyID = relyingPartyID
        self.origins = origins
    }

    /// Checks that every origin is `https://host[:port]` (or `http://localhost[:port]`, for
    /// development) with a host equal to `relyingPartyID` or under it, as WebAuthn requires,
    /// and that there are at most 16 of them.
    public static func validateRelyingParty(id relyingPartyID: String?, origins: [String], field: String) throws(TwofoldError) {
        guard let relyingPartyID else {
            guard origins.isEmpty else {
                throw TwofoldError(.invalidRequest, "\(field): origins need a relying party id (--rp-id, rp_id) to belong to")
            }
            return
        }
        if relyingPartyID != "localhost" { try validateDomain(relyingPartyID, field: "rp_id") }
        guard !origins.isEmpty, origins.count <= 16 else {
            throw TwofoldError(.invalidRequest, "\(field): give between 1 and 16 origins (--origin, origins) for relying party \(relyingPartyID)")
        }
        for origin in origins {
            guard let components = URLComponents(string: origin), let scheme = components.scheme, let host = components.host,
                  components.user == nil, components.password == nil, components.path.isEmpty, components.query == nil,
                  components.fragment == nil, origin == origin.lowercased(),
                  scheme == "https" || (scheme == "http" && host == "localhost") else {
                throw TwofoldError(.invalidRequest, "\(field): origin \"\(origin)\" must be https://host[:port] in lower case, with no path (http only for localhost)")
            }
            guard host == relyingPartyID || host.hasSuffix("." + relyingPartyID) else {
                throw TwofoldError(.invalidRequest, "\(field): origin \(origin) is not on \(relyingPartyID) or a subdomain of it")
            }
        }
    }

    /// A template needs `{code}`, at most 320 bytes, and no control characters.
    public static func validateSMSTemplate(_ template: String, field: String) throws(TwofoldError) {
        guard template.contains("{code}"), template.utf8.count <= 320,
              !template.unicodeScalars.contains(where: { $0.properties.generalCategory == .control && $0 != "\n" }) else {
            throw TwofoldError(.invalidRequest, "\(field) must contain {code}, be at most 320 bytes and hold no control characters other than newlines")
        }
    }

    /// A domain is a host name: labels of a-z, 0-9 and '-', separated by dots, 253 bytes at most.
    public static func validateDomain(_ domain: String, field: String) throws(TwofoldError) {
        let labels = domain.split(separator: ".", omittingEmptySubsequences: false)
        guard domain.utf8.count <= 253, labels.count >= 2, labels.allSatisfy({ label in
            (1...63).contains(label.utf8.count) && !label.hasPrefix("-") && !label.hasSuffix("-")
                && label.utf8.allSatisfy { ($0 >= 0x61 && $0 <= 0x7A) || ($0 >= 0x30 && $0 <= 0x39) || $0 == 0x2D }
        }) else {
            throw TwofoldError(.invalidRequest, "\(field) must be a lower-case host name such as example.com")
        }
    }

    /// Names are 1–64 characters of `a-z`, `0-9`, `-`, `_` and `.`, starting with a letter or digit,
    /// so they can be typed in commands and configuration without quoting.
    public static func validateName(_ name: String) throws(TwofoldError) {
        let bytes = Array(name.utf8)
        guard (1...64).contains(bytes.count),
              bytes.allSatisfy({ ($0 >= 0x61 && $0 <= 0x7A) || ($0 >= 0x30 && $0 <= 0x39) || $0 == 0x2D || $0 == 0x5F || $0 == 0x2E }),
              let first = bytes.first, (first >= 0x61 && first <= 0x7A) || (first >= 0x30 && first <= 0x39) else {
            throw TwofoldError(.invalidRequest, "application name \"\(name)\" is invalid: use 1–64 characters a-z, 0-9, '-', '_' or '.', starting with a letter or digit")
        }
    }
}
