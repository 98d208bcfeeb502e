import Foundation
import TwofoldCore
import TwofoldDelivery

/// How challenges are delivered: the providers of each channel in order, their settings, and
/// the limits and texts of challenges. Part of ``TwofoldConfiguration``, read from the same
/// `TWOFOLD_*` settings and checked when they are read: a bad one stops `serve` naming it.
public struct DeliveryConfiguration: Sendable {
    /// The providers Twofold knows.
    public enum ProviderName: String, Sendable, CaseIterable {
        case twilio
        case webhook
        case console
    }

    public var smsProviders: [ProviderName]
    public var voiceProviders: [ProviderName]
    public var twilio: TwilioSettings?
    public var smsWebhook: WebhookSettings?
    public var voiceWebhook: WebhookSettings?
    /// The secret that signs webhook posts and checks the gateways' callbacks.
    public var webhookSecret: String?
    /// Where providers call back; `nil` for the listen address (development only).
    public var publicURL: URL?
    /// One attempt's limit for an outbound call.
    public var timeout: Duration = .seconds(5)
    public var smsCountries: CountryAllowlist?
    public var voiceCountries: CountryAllowlist?
    public var smsTemplate: String?
    public var smsDailyLimit: Int?
    public var retention: TimeInterval?
    /// The transports that wake push devices (`TWOFOLD_PUSH_PROVIDERS`); polling always works.
    public var pushProviders: [PushTransportKind] = []
    public var webPush: WebPushSettings?
    public var pushWebhook: WebhookSettings?
    public var pushFraudSuspension: TimeInterval?
    public var pushAnswerWindow: TimeInterval?
    public var pushActivationLifetime: TimeInterval?

    /// Development: the console for both channels. Production: nothing until configured.
    init(deployment: TwofoldConfiguration.Deployment) {
        smsProviders = deployment == .development ? [.console] : []
        voiceProviders = deployment == .development ? [.console] : []
    }

    /// Whether a configured provider calls Twofold back (then `TWOFOLD_PUBLIC_URL` matters).
    var callsBack: Bool {
        (smsProviders + voiceProviders).contains { $0 != .console }
    }

    /// The settings this part reads.
    static let settings: [(name: String, form: String, defaultValue: String)] = [
        ("TWOFOLD_PUBLIC_URL", "https://HOST[:PORT][/PREFIX], where providers call back", "the listen address, in development"),
        ("TWOFOLD_SMS_PROVIDERS", "comma-separated, tried in order: twilio, webhook, console", "console in development, none in production"),
        ("TWOFOLD_VOICE_PROVIDERS", "comma-separated, tried in order: twilio, webhook, console", "console in development, none in production"),
        ("TWOFOLD_TWILIO_ACCOUNT_SID", "AC and 32 hex digits", "none"),
        ("TWOFOLD_TWILIO_AUTH_TOKEN", "the account's Auth Token", "none"),
        ("TWOFOLD_TWILIO_FROM", "E.164 number (or alphanumeric sender, SMS only)", "none"),
        ("TWOFOLD_TWILIO_MESSAGING_SERVICE_SID", "MG and 32 hex digits (instead of TWOFOLD_TWILIO_FROM)", "none"),
        ("TWOFOLD_TWILIO_BASE_URL", "http(s) URL", TwilioSettings.defaultBaseURL),
        ("TWOFOLD_SMS_WEBHOOK_URL", "http(s) URL the SMS gateway listens on", "none"),
        ("TWOFOLD_VOICE_WEBHOOK_URL", "http(s) URL the voice gateway listens on", "none"),
        ("TWOFOLD_WEBHOOK_SECRET", "at least 32 bytes", "none"),
        ("TWOFOLD_DELIVERY_TIMEOUT", "duration, 1s to 60s", "5s"),
        ("TWOFOLD_SMS_COUNTRIES", "ISO letters or calling codes: US,GB,+33", "every country"),
        ("TWOFOLD_VOICE_COUNTRIES", "ISO letters or calling codes: US,GB,+33", "every country"),
        ("TWOFOLD_SMS_TEMPLATE", "text with {code}; {app} and {minutes} optional", "Your {app} code is {code}. It expires in {minutes} minutes."),
        ("TWOFOLD_SMS_DAILY_LIMIT", "challenges per application and channel per day, 1 to 10000000", "1000"),
        ("TWOFOLD_CHALLENGE_RETENTION", "duration, 1d to 3650d", "30d"),
        ("TWOFOLD_PUSH_PROVIDERS", "comma-separated transports that wake devices: webpush, webhook (devices can always poll)", "none"),
        ("TWOFOLD_VAPID_KEY_FILE", "P-256 private key in PEM, for webpush", "none"),
        ("TWOFOLD_VAPID_SUBJECT", "mailto: address or https: URL push services can reach you at", "none"),
        ("TWOFOLD_PUSH_WEBHOOK_URL", "http(s) URL of your own push relay, for webhook", "none"),
        ("TWOFOLD_PUSH_ANSWER_WINDOW", "duration, 15s to 10m", "2m"),
        ("TWOFOLD_PUSH_ACTIVATION_LIFETIME", "duration, 1m to 24h", "10m"),
        ("TWOFOLD_PUSH_FRAUD_SUSPENSION", "duration, 0s to 7d", "20m"),
    ]

    /// Reads and checks the delivery settings.
    /// - Throws: `configuration` naming the setting.
    init(values value: (String) -> String?, deployment: TwofoldConfiguration.Deployment,
         duration: (String, ClosedRange<TimeInterval>) throws(TwofoldError) -> TimeInterval?,
         integer: (String, ClosedRange<Int>) throws(TwofoldError) -> Int?) throws(TwofoldError) {
        self.init(deployment: deployment)
        if let text = value("TWOFOLD_SMS_PROVIDERS") { smsProviders = try Self.parseProviders(text, setting: "TWOFOLD_SMS_PROVIDERS") }
        if let text = value("TWOFOLD_VOICE_PROVIDERS") { voiceProviders = try Self.parseProviders(text, setting: "TWOFOLD_VOICE_PROVIDERS") }
        if deployment == .production, (smsProviders + voiceProviders).contains(.console) {
            throw TwofoldError(.configuration, "the console provider prints codes and is for development only: remove console from TWOFOLD_SMS_PROVIDERS and TWOFOLD_VOICE_PROVIDERS when TWOFOLD_ENV=production")
        }
        let usesTwilio = (smsProviders + voiceProviders).contains(.twilio)
        if usesTwilio {
            let settings = TwilioSettings(
                accountSID: value("TWOFOLD_TWILIO_ACCOUNT_SID") ?? "", authToken: value("TWOFOLD_TWILIO_AUTH_TOKEN") ?? "",
                from: value("TWOFOLD_TWILIO_FROM"), messagingServiceSID: value("TWOFOLD_TWILIO_MESSAGING_SERVICE_SID"),
                baseURL: value("TWOFOLD_TWILIO_BASE_URL") ?? TwilioSettings.defaultBaseURL)
            try settings.validate(forVoice: voiceProviders.contains(.twilio))
            twilio = settings
        }
        if (smsProviders + voiceProviders).contains(.webhook) {
            guard let secret = value("TWOFOLD_WEBHOOK_SECRET") else {
                throw TwofoldError(.configuration, "TWOFOLD_WEBHOOK_SECRET is required by the webhook provider: at least 32 bytes (e.g. openssl rand -hex 32)")
            }
            webhookSecret = secret
            for (channel, providers) in [(ChallengeType.sms, smsProviders), (.voice, voiceProviders)] where providers.contains(.webhook) {
                let setting = channel == .sms ? "TWOFOLD_SMS_WEBHOOK_URL" : "TWOFOLD_VOICE_WEBHOOK_URL"
                guard let url = value(setting) else {
                    throw TwofoldError(.configuration, "\(setting) is required: the webhook provider is listed for \(channel.rawValue)")
                }
                let settings = WebhookSettings(channel: channel, url: url, secret: secret)
                try settings.validate()
                if channel == .sms { smsWebhook = settings } else { voiceWebhook = settings }
            }
        }
        if let text = value("TWOFOLD_PUBLIC_URL") {
            guard let url = URL(string: text), let scheme = url.scheme?.lowercased(), scheme == "https" || scheme == "http",
                  let host = url.host, !host.isEmpty, url.query == nil, url.fragment == nil else {
                throw TwofoldError(.configuration, "TWOFOLD_PUBLIC_URL=\"\(text)\" is invalid: use the https:// URL at which providers reach this service, such as https://twofold.example.com")
            }
            publicURL = url
        } else if deployment == .production, callsBack {
            throw TwofoldError(.configuration, "TWOFOLD_PUBLIC_URL is required when TWOFOLD_ENV=production and a provider calls back (\((smsProviders + voiceProviders).filter { $0 != .console }.map(\.rawValue).joined(separator: ", ")))")
        }
        if let seconds = try duration("TWOFOLD_DELIVERY_TIMEOUT", 1...60) { timeout = .milliseconds(Int64(seconds * 1000)) }
        if let text = value("TWOFOLD_SMS_COUNTRIES") { smsCountries = try CountryAllowlist(text, setting: "TWOFOLD_SMS_COUNTRIES") }
        if let text = value("TWOFOLD_VOICE_COUNTRIES") { voiceCountries = try CountryAllowlist(text, setting: "TWOFOLD_VOICE_COUNTRIES") }
        if let text = value("TWOFOLD_SMS_TEMPLATE") {
            guard text.contains("{code}"), text.utf8.count <= 320 else {
                throw TwofoldError(.configuration, "TWOFOLD_SMS_TEMPLATE must contain {code} and be at most 320 bytes")
            }
            smsTemplate = text
        }
        smsDailyLimit = try integer("TWOFOLD_SMS_DAILY_LIMIT", 1...10_000_000)
        retention = try duration("TWOFOLD_CHALLENGE_RETENTION", 86_400...(3650 * 86_400))
        try readPush(value, deployment: deployment, duration: duration)
    }

    /// The push settings: each transport listed needs its own settings, checked here.
    private mutating func readPush(_ value: (String) -> String?, deployment: TwofoldConfiguration.Deployment,
                                   duration: (String, ClosedRange<TimeInterval>) throws(TwofoldError) -> TimeInterval?) throws(TwofoldError) {
        if let text = value("TWOFOLD_PUSH_PROVIDERS") {
            for raw in text.split(separator: ",") {
                let entry = raw.trimmingCharacters(in: .whitespaces).lowercased()
                guard let kind = PushTransportKind(rawValue: entry), kind != .polling else {
                    throw TwofoldError(.configuration, "TWOFOLD_PUSH_PROVIDERS: \"\(entry)\" is not a push transport: use webpush or webhook (devices can always poll)")
                }
                guard !pushProviders.contains(kind) else {
                    throw TwofoldError(.configuration, "TWOFOLD_PUSH_PROVIDERS lists \(kind.rawValue) twice")
                }
                pushProviders.append(kind)
            }
        }
        if pushProviders.contains(.webPush) {
            let settings = WebPushSettings(vapidKeyFile: value("TWOFOLD_VAPID_KEY_FILE") ?? "", subject: value("TWOFOLD_VAPID_SUBJECT") ?? "",
                                           allowLoopbackHTTP: deployment == .development)
            _ = try settings.loadKey()
            webPush = settings
        }
        if pushProviders.contains(.webhook) {
            guard let secret = value("TWOFOLD_WEBHOOK_SECRET") else {
                throw TwofoldError(.configuration, "TWOFOLD_WEBHOOK_SECRET is required by the webhook push transport: at least 32 bytes (e.g. openssl rand -hex 32)")
            }
            guard let url = value("TWOFOLD_PUSH_WEBHOOK_URL") else {
                throw TwofoldError(.configuration, "TWOFOLD_PUSH_WEBHOOK_URL is required: webhook is listed in TWOFOLD_PUSH_PROVIDERS")
            }
            let settings = WebhookSettings(channel: .push, url: url, secret: secret)
            try settings.validate()
            pushWebhook = settings
        }
        pushAnswerWindow = try duration("TWOFOLD_PUSH_ANSWER_WINDOW", 15...600)
        pushActivationLifetime = try duration("TWOFOLD_PUSH_ACTIVATION_LIFETIME", 60...86_400)
        pushFraudSuspension = try duration("TWOFOLD_PUSH_FRAUD_SUSPENSION", 0...604_800)
    }

    static func parseProviders(_ text: String, setting: String) throws(TwofoldError) -> [ProviderName] {
        var names: [ProviderName] = []
        for raw in text.split(separator: ",") {
            let entry = raw.trimmingCharacters(in: .whitespaces).lowercased()
            guard let name = ProviderName(rawValue: entry) else {
                throw TwofoldError(.configuration, "\(setting): \"\(entry)\" is not a provider: use twilio, webhook or console, in the order to try them")
            }
            guard !names.contains(name) else {
                throw TwofoldError(.configuration, "\(setting) lists \(name.rawValue) twice")
            }
            names.append(name)
        }
        return names
    }

    /// The challenges' policy for a node listening on `listen`.
    func challengePolicy(listen: TwofoldConfiguration.ListenAddress, tls: Bool) -> ChallengePolicy {
        let host = listen.host == "0.0.0.0" || listen.host == "::" ? "127.0.0.1" : listen.host
        // TwofoldConfiguration.parseListen accepts only hosts that make a URL.
        let fallback = URL(string: "\(tls ? "https" : "http")://\(host.contains(":") ? "[\(host)]" : host):\(listen.port)")!
        var policy = ChallengePolicy(publicURL: publicURL ?? fallback)
        policy.smsCountries = smsCountries
        policy.voiceCountries = voiceCountries
        if let smsTemplate { policy.smsTemplate = smsTemplate }
        if let smsDailyLimit { policy.applicationDailyLimit = smsDailyLimit }
        if let retention { policy.retention = retention }
        return policy
    }
}
