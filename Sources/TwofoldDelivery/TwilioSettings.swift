import Foundation
import TwofoldCore

/// How to reach a Twilio account. The token signs Twilio's callbacks too, so it is never
/// printed: ``description`` leaves it out.
public struct TwilioSettings: Sendable, Equatable, CustomStringConvertible {
    /// `AC` and 32 hex digits (`TWOFOLD_TWILIO_ACCOUNT_SID`).
    public var accountSID: String
    /// The account's Auth Token (`TWOFOLD_TWILIO_AUTH_TOKEN`).
    public var authToken: String
    /// The sending number in E.164 form, or an alphanumeric sender ID for SMS
    /// (`TWOFOLD_TWILIO_FROM`). Calls need a number.
    public var from: String?
    /// `MG` and 32 hex digits (`TWOFOLD_TWILIO_MESSAGING_SERVICE_SID`): Twilio picks the sender.
    public var messagingServiceSID: String?
    /// The REST API's root (`TWOFOLD_TWILIO_BASE_URL`); only tests and proxies change it.
    public var baseURL: String

    public static let defaultBaseURL = "https://api.twilio.com"

    public init(accountSID: String, authToken: String, from: String? = nil, messagingServiceSID: String? = nil,
                baseURL: String = TwilioSettings.defaultBaseURL) {
        self.accountSID = accountSID
        self.authToken = authToken
        self.from = from
        self.messagingServiceSID = messagingServiceSID
        self.baseURL = baseURL
    }

    /// The settings from `TWOFOLD_TWILIO_*` variables; `nil` when none is set (Twilio unused).
    /// An empty variable counts as unset.
    ///
    /// - Throws: `configuration` naming the setting, as ``validate()`` does.
    public static func fromEnvironment(_ environment: [String: String]) throws(TwofoldError) -> TwilioSettings? {
        func value(_ name: String) -> String? {
            guard let text = environment[name], !text.isEmpty else { return nil }
            return text
        }
        let names = ["TWOFOLD_TWILIO_ACCOUNT_SID", "TWOFOLD_TWILIO_AUTH_TOKEN", "TWOFOLD_TWILIO_FROM",
                     "TWOFOLD_TWILIO_MESSAGING_SERVICE_SID", "TWOFOLD_TWILIO_BASE_URL"]
        guard names.contains(where: { value($0) != nil }) else { return nil }
        let settings = TwilioSettings(
            accountSID: value("TWOFOLD_TWILIO_ACCOUNT_SID") ?? "",
            authToken: value("TWOFOLD_TWILIO_AUTH_TOKEN") ?? "",
            from: value("TWOFOLD_TWILIO_FROM"),
            messagingServiceSID: value("TWOFOLD_TWILIO_MESSAGING_SERVICE_SID"),
            baseURL: value("TWOFOLD_TWILIO_BASE_URL") ?? defaultBaseURL
        )
        try settings.validate()
        return settings
    }

    /// Checks every setting, for the start-up checks.
    ///
    /// - Parameter forVoice: also require `from` to be a phone number: a Messaging Service or
    ///   an alphanumeric sender places no calls.
    /// - Throws: `configuration` naming the first wrong setting.
    public func validate(forVoice: Bool = false) throws(TwofoldError) {
        guard Self.isSID(accountSID, prefix: "AC") else {
            throw TwofoldError(.configuration, "TWOFOLD_TWILIO_ACCOUNT_SID must be the account SID: AC and 32 hex digits")
        }
        guard !authToken.isEmpty, authToken.unicodeScalars.allSatisfy({ $0.isASCII && $0.value > 0x20 && $0.value < 0x7f }) else {
            throw TwofoldError(.configuration, "TWOFOLD_TWILIO_AUTH_TOKEN must be set to the account's Auth Token")
        }
        switch (from, messagingServiceSID) {
        case (nil, nil):
            throw TwofoldError(.configuration, "set TWOFOLD_TWILIO_FROM (a Twilio number) or TWOFOLD_TWILIO_MESSAGING_SERVICE_SID")
        case (.some, .some):
            throw TwofoldError(.configuration, "set only one of TWOFOLD_TWILIO_FROM and TWOFOLD_TWILIO_MESSAGING_SERVICE_SID")
        case (.some(let from), nil):
            guard (try? PhoneNumber(from)) != nil || (!forVoice && Self.isAlphanumericSenderID(from)) else {
                throw TwofoldError(.configuration, forVoice
                    ? "TWOFOLD_TWILIO_FROM must be a Twilio phone number in E.164 form (e.g. +15551234567) to place calls"
                    : "TWOFOLD_TWILIO_FROM must be a phone number in E.164 form (e.g. +15551234567) or an alphanumeric sender ID of 1 to 11 letters, digits and spaces")
            }
        case (nil, .some(let service)):
            guard Self.isSID(service, prefix: "MG") else {
                throw TwofoldError(.configuration, "TWOFOLD_TWILIO_MESSAGING_SERVICE_SID must be a Messaging Service SID: MG and 32 hex digits")
            }
            guard !forVoice else {
                throw TwofoldError(.configuration, "voice calls need TWOFOLD_TWILIO_FROM (a Twilio phone number): a Messaging Service places no calls")
            }
        }
        guard normalizedBaseURL != nil else {
            throw TwofoldError(.configuration, "TWOFOLD_TWILIO_BASE_URL must be an http:// or https:// URL with a host and no query, such as https://api.twilio.com")
        }
    }

    /// The base URL without a trailing slash, or `nil` when it is not a plain http(s) URL.
    var normalizedBaseURL: String? {
        guard let components = URLComponents(string: baseURL),
              let scheme = components.scheme?.lowercased(), scheme == "http" || scheme == "https",
              let host = components.host, !host.isEmpty,
              components.user == nil, components.password == nil, components.query == nil, components.fragment == nil,
              baseURL.unicodeScalars.allSatisfy({ $0.isASCII && $0.value > 0x20 && $0.value < 0x7f })
        else { return nil }
        var text = baseURL
        while text.hasSuffix("/") { text.removeLast() }
        return text
    }

    public var description: String {
        let sender = from.map { "from: \($0)" } ?? "messaging service: \(messagingServiceSID ?? "")"
        return "Twilio account \(accountSID), \(sender), at \(baseURL) (auth token not shown)"
    }

    static func isSID(_ text: String, prefix: String) -> Bool {
        let bytes = Array(text.utf8)
        return bytes.count == 34 && text.hasPrefix(prefix) && bytes.dropFirst(2).allSatisfy { Hex.value($0) != nil }
    }

    /// 1 to 11 ASCII letters, digits and spaces, at least one letter (Twilio's alphanumeric sender ID).
    static func isAlphanumericSenderID(_ text: String) -> Bool {
        let bytes = Array(text.utf8)
        let letters = bytes.filter { (UInt8(ascii: "a")...UInt8(ascii: "z")).contains($0 | 0x20) }
        return (1...11).contains(bytes.count) && !letters.isEmpty && bytes.allSatisfy {
            (UInt8(ascii: "a")...UInt8(ascii: "z")).contains($0 | 0x20) || (UInt8(ascii: "0")...UInt8(ascii: "9")).contains($0) || $0 == UInt8(ascii: " ")
        }
    }
}
