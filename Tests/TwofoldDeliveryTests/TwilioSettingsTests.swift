import Testing
import TwofoldCore
import TwofoldDelivery

@Suite("Twilio settings")
struct TwilioSettingsTests {
    static let good = Fixtures.twilioSettings(baseURL: TwilioSettings.defaultBaseURL)

    @Test("accepts a number, an alphanumeric sender or a Messaging Service, and an http(s) base URL")
    func acceptsGoodSettings() throws {
        try Self.good.validate()
        try Self.good.validate(forVoice: true)
        var sender = Self.good
        sender.from = "ACME 2FA"
        try sender.validate()
        try Fixtures.twilioSettings(baseURL: "http://127.0.0.1:8089/", messagingService: true).validate()
    }

    @Test("names the setting that is wrong", arguments: [
        ("accountSID", "ACnothex", "TWOFOLD_TWILIO_ACCOUNT_SID"),
        ("accountSID", "MG0123456789abcdef0123456789abcdef", "TWOFOLD_TWILIO_ACCOUNT_SID"),
        ("authToken", "", "TWOFOLD_TWILIO_AUTH_TOKEN"),
        ("authToken", "has space", "TWOFOLD_TWILIO_AUTH_TOKEN"),
        ("baseURL", "ftp://api.twilio.com", "TWOFOLD_TWILIO_BASE_URL"),
        ("baseURL", "api.twilio.com", "TWOFOLD_TWILIO_BASE_URL"),
        ("baseURL", "https://api.twilio.com/?x=1", "TWOFOLD_TWILIO_BASE_URL"),
        ("baseURL", "https://", "TWOFOLD_TWILIO_BASE_URL"),
    ])
    func namesWrongSetting(field: String, value: String, setting: String) {
        var settings = Self.good
        switch field {
        case "accountSID": settings.accountSID = value
        case "authToken": settings.authToken = value
        default: settings.baseURL = value
        }
        let error = Fixtures.error { () throws(TwofoldError) in try settings.validate() }
        #expect(error?.code == .configuration)
        #expect(error?.message.contains(setting) == true, "\(error?.message ?? "no error")")
    }

    @Test("wants exactly one of From and the Messaging Service SID, each well-formed")
    func senderChoice() {
        for (from, service, setting) in [
            (nil, nil, "TWOFOLD_TWILIO_FROM"),
            (Fixtures.from, Fixtures.messagingServiceSID, "TWOFOLD_TWILIO_MESSAGING_SERVICE_SID"),
            ("+0123", nil, "TWOFOLD_TWILIO_FROM"),
            ("a sender ID far too long", nil, "TWOFOLD_TWILIO_FROM"),
            (nil, "MGshort", "TWOFOLD_TWILIO_MESSAGING_SERVICE_SID"),
        ] as [(String?, String?, String)] {
            var settings = Self.good
            settings.from = from
            settings.messagingServiceSID = service
            let error = Fixtures.error { () throws(TwofoldError) in try settings.validate() }
            #expect(error?.code == .configuration)
            #expect(error?.message.contains(setting) == true, "\(error?.message ?? "no error")")
        }
    }

    @Test("calls need a phone number as From")
    func voiceNeedsNumber() {
        var settings = Fixtures.twilioSettings(baseURL: TwilioSettings.defaultBaseURL, messagingService: true)
        #expect(Fixtures.error { () throws(TwofoldError) in try settings.validate(forVoice: true) }?.message.contains("TWOFOLD_TWILIO_FROM") == true)
        settings = Self.good
        settings.from = "ACME"
        #expect(Fixtures.error { () throws(TwofoldError) in try settings.validate(forVoice: true) }?.message.contains("TWOFOLD_TWILIO_FROM") == true)
    }

    @Test("reads TWOFOLD_TWILIO_* variables; none set means Twilio is not used")
    func fromEnvironment() throws {
        #expect(try TwilioSettings.fromEnvironment(["TWOFOLD_STORE": "sqlite"]) == nil)
        let settings = try TwilioSettings.fromEnvironment([
            "TWOFOLD_TWILIO_ACCOUNT_SID": Fixtures.accountSID, "TWOFOLD_TWILIO_AUTH_TOKEN": Fixtures.authToken,
            "TWOFOLD_TWILIO_FROM": Fixtures.from, "TWOFOLD_TWILIO_MESSAGING_SERVICE_SID": "",
        ])
        #expect(settings == Self.good)
        let error = Fixtures.error { () throws(TwofoldError) in try TwilioSettings.fromEnvironment(["TWOFOLD_TWILIO_FROM": Fixtures.from]) }
        #expect(error?.message.contains("TWOFOLD_TWILIO_ACCOUNT_SID") == true)
    }

    @Test("never prints the auth token")
    func descriptionHidesToken() {
        #expect(!Self.good.description.contains(Fixtures.authToken))
        #expect(!"\(Self.good)".contains(Fixtures.authToken))
    }
}
