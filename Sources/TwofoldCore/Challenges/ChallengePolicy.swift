import Foundation

/// How challenges are made, delivered and limited.
public struct ChallengePolicy: Sendable {
    /// A token-bucket limit: `count` sends per `period`.
    public struct Rate: Sendable, Equatable {
        public var count: Int
        public var period: TimeInterval

        public init(_ count: Int, per period: TimeInterval) {
            self.count = count
            self.period = period
        }
    }

    /// How long a code challenge, or a press-a-key call, waits for its answer.
    public var codeLifetime: TimeInterval = 300
    /// Wrong codes a challenge takes before it ends `denied` (`too_many_attempts`).
    public var maxAttempts = 5
    /// The text of an SMS; `{app}`, `{code}` and `{minutes}` are replaced.
    public var smsTemplate = "Your {app} code is {code}. It expires in {minutes} minutes."
    public var smsCountries: CountryAllowlist?
    public var voiceCountries: CountryAllowlist?
    /// Per user and channel: a short and a long limit.
    public var userShortRate = Rate(1, per: 30)
    public var userLongRate = Rate(5, per: 3600)
    /// Per application and channel, per day.
    public var applicationDailyLimit = 1_000
    /// Per destination number and channel, across applications, per day.
    public var destinationDailyLimit = 10
    /// The pumping guard: per number prefix (calling code and three digits) and channel, how many
    /// more challenges than were completed may be sent per `pumpingGuard.period`. A completed
    /// challenge gives its token back, so traffic that users complete never meets it, while
    /// messages to numbers nobody answers (toll fraud, "SMS pumping") soon do.
    public var pumpingGuard = Rate(30, per: 3600)
    /// Finished challenges stay readable this long after their creation.
    public var retention: TimeInterval = 30 * 86_400
    /// Where providers call back (`…/v1/callbacks/<provider>/<challenge id>/…`).
    public var publicURL: URL

    public init(publicURL: URL) {
        self.publicURL = publicURL
    }

    /// - Throws: `configuration` naming the setting out of range.
    public func validate() throws(TwofoldError) {
        guard (30...3_600).contains(codeLifetime) else {
            throw TwofoldError(.configuration, "the challenge lifetime must be 30 s to 1 h")
        }
        guard (1...20).contains(maxAttempts) else {
            throw TwofoldError(.configuration, "the attempts per challenge must be 1 to 20")
        }
        guard smsTemplate.contains("{code}") else {
            throw TwofoldError(.configuration, "TWOFOLD_SMS_TEMPLATE must contain {code}")
        }
        guard applicationDailyLimit >= 1 else {
            throw TwofoldError(.configuration, "TWOFOLD_SMS_DAILY_LIMIT must be at least 1")
        }
        guard publicURL.scheme == "https" || publicURL.scheme == "http", publicURL.host != nil else {
            throw TwofoldError(.configuration, "TWOFOLD_PUBLIC_URL must be an http(s) URL with a host")
        }
    }

    /// The allowlist of a channel, `nil` for every country.
    func countries(for type: ChallengeType) -> CountryAllowlist? {
        switch type {
        case .sms: smsCountries
        case .voice: voiceCountries
        case .push, .webauthn: nil
        }
    }

    /// The SMS text for `code`, with the origin-bound line (`@domain #code`) that phones and
    /// browsers read to offer the code for that site, when the application has a domain.
    func smsText(appName: String, code: String, template: String?, domain: String?) -> String {
        let minutes = String(Int((codeLifetime / 60).rounded(.up)))
        var text = (template ?? smsTemplate)
            .replacingOccurrences(of: "{app}", with: appName)
            .replacingOccurrences(of: "{minutes}", with: minutes)
            .replacingOccurrences(of: "{code}", with: code)
        if let domain { text += "\n\n@\(domain) #\(code)" }
        return text
    }

    /// What a code call says: the code digit by digit, twice.
    func spokenCode(appName: String, code: String) -> String {
        let digits = code.map(String.init).joined(separator: ", ")
        return "Your \(appName) code is: \(digits). Again, your code is: \(digits)."
    }

    /// What a press-a-key call says before it listens for the key.
    func approvalPrompt(appName: String, context: ChallengeContext) -> String {
        var prompt = "This is \(context.appName ?? appName). Someone is signing in to your account"
        if let location = context.location { prompt += " from \(location)" }
        prompt += ". Press 1 to approve. If this was not you, press 9 to deny and report it."
        return prompt
    }

    /// A callback URL for `provider` about `challenge`: `…/v1/callbacks/<provider>/<id>/<kind>`.
    func callbackURL(provider: String, challengeID: ChallengeID, kind: String) -> URL {
        publicURL.appendingPathComponent("v1").appendingPathComponent("callbacks").appendingPathComponent(provider)
            .appendingPathComponent(challengeID.rawValue).appendingPathComponent(kind)
    }
}

/// Challenge codes: six random digits, each equally likely.
enum ChallengeCodes {
    static let digits = 6

    static func generate(using random: any RandomSource) -> String {
        var generator = RandomSourceGenerator(source: random)
        return String(UInt32.random(in: 0..<1_000_000, using: &generator)).leftPadded(to: digits)
    }
}

extension String {
    func leftPadded(to length: Int) -> String {
        count >= length ? self : String(repeating: "0", count: length - count) + self
    }
}
