import Foundation
import Testing
import TwofoldCore
import TwofoldDelivery

@Suite("Webhook callbacks: Twofold-Signature, time window, replays and strict bodies")
struct WebhookCallbackAuthenticatorTests {
    static let now = Date(timeIntervalSince1970: 1_700_000_000)
    static let seconds = 1_700_000_000
    static let url = "https://twofold.example.com/v1/callbacks/webhook/\(Fixtures.challengeID.rawValue)"
    static let delivered = #"{"challenge_id": "\#(Fixtures.challengeID.rawValue)", "status": "delivered"}"#

    static func callback(_ body: String, signature: String?) -> InboundCallback {
        var headers = ["content-type": "application/json"]
        headers["twofold-signature"] = signature
        return InboundCallback(provider: "webhook", challengeID: Fixtures.challengeID, url: url, method: "POST",
                               headers: headers, body: Array(body.utf8))
    }

    static func signed(_ body: String, at seconds: Int = seconds) -> InboundCallback {
        callback(body, signature: WebhookFake.sign(body, secret: Fixtures.webhookSecret, at: seconds))
    }

    static func authenticator() throws -> WebhookCallbackAuthenticator {
        try WebhookCallbackAuthenticator(secret: Fixtures.webhookSecret)
    }

    static func errorCode(_ callback: InboundCallback, _ authenticator: WebhookCallbackAuthenticator, now: Date = now) -> TwofoldError.Code? {
        Fixtures.error { () throws(TwofoldError) in try authenticator.authenticate(callback, now: now) }?.code
    }

    @Test("accepts a callback signed as a gateway signs it")
    func acceptsValid() throws {
        let authenticator = try Self.authenticator()
        #expect(authenticator.provider == "webhook")
        #expect(try authenticator.authenticate(Self.signed(Self.delivered), now: Self.now) == .status(reference: nil, status: "delivered", failure: nil))
        #expect(authenticator.reply(to: .pressed(digit: "1")) == .empty)
    }

    @Test("signs what it verifies: a header from WebhookSignature passes")
    func roundTrip() throws {
        let header = WebhookSignature(secret: Fixtures.webhookSecret).header(for: Array(Self.delivered.utf8), at: Self.now)
        #expect(header == WebhookFake.sign(Self.delivered, secret: Fixtures.webhookSecret, at: Self.seconds))
        #expect(try Self.authenticator().authenticate(Self.callback(Self.delivered, signature: header), now: Self.now)
            == .status(reference: nil, status: "delivered", failure: nil))
    }

    @Test("refuses the same signed callback twice")
    func refusesReplay() throws {
        let authenticator = try Self.authenticator()
        _ = try authenticator.authenticate(Self.signed(Self.delivered), now: Self.now)
        #expect(Self.errorCode(Self.signed(Self.delivered), authenticator, now: Self.now.addingTimeInterval(10)) == .unauthorized)
        // Signed anew (another second), the same report is accepted.
        #expect(Self.errorCode(Self.signed(Self.delivered, at: Self.seconds + 1), authenticator) == nil)
    }

    @Test("refuses a time more than 300 seconds from now, either way", arguments: [
        (-301, TwofoldError.Code?.some(.unauthorized)), (301, .unauthorized), (-300, nil), (300, nil),
    ])
    func timeWindow(offset: Int, code: TwofoldError.Code?) throws {
        #expect(Self.errorCode(Self.signed(Self.delivered, at: Self.seconds + offset), try Self.authenticator()) == code)
    }

    @Test("refuses a changed body, a missing or malformed header, another secret")
    func refusesBadSignatures() throws {
        let authenticator = try Self.authenticator()
        let header = WebhookFake.sign(Self.delivered, secret: Fixtures.webhookSecret, at: Self.seconds)
        let tampered = Self.delivered.replacingOccurrences(of: "delivered", with: "failed")
        for callback in [
            Self.callback(tampered, signature: header),
            Self.callback(Self.delivered, signature: nil),
            Self.callback(Self.delivered, signature: ""),
            Self.callback(Self.delivered, signature: "v1=" + header.split(separator: "=").last!),
            Self.callback(Self.delivered, signature: header.replacingOccurrences(of: "t=\(Self.seconds)", with: "t=\(Self.seconds + 1)")),
            Self.callback(Self.delivered, signature: "t=\(Self.seconds),v1=zz"),
            Self.callback(Self.delivered, signature: WebhookFake.sign(Self.delivered, secret: String(repeating: "k", count: 40), at: Self.seconds)),
        ] {
            #expect(Self.errorCode(callback, authenticator) == .unauthorized)
        }
    }

    @Test("accepts any matching v1, as while a secret is being changed")
    func severalSignatures() throws {
        let good = WebhookFake.sign(Self.delivered, secret: Fixtures.webhookSecret, at: Self.seconds)
        let other = WebhookFake.sign(Self.delivered, secret: String(repeating: "k", count: 40), at: Self.seconds)
        let header = other + "," + good.split(separator: ",")[1]
        #expect(Self.errorCode(Self.callback(Self.delivered, signature: header), try Self.authenticator()) == nil)
    }

    @Test("reads the reports a gateway sends", arguments: [
        (#""status": "sent""#, DeliveryReport.status(reference: nil, status: "sent", failure: nil)),
        (#""status": "completed""#, .status(reference: nil, status: "completed", failure: nil)),
        (#""status": "failed", "reason": "invalid_number""#, .status(reference: nil, status: "failed", failure: DeliveryFailure(.invalidNumber, "the webhook gateway reported failed"))),
        (#""status": "undelivered", "reason": "opted_out""#, .status(reference: nil, status: "undelivered", failure: DeliveryFailure(.optedOut, "the webhook gateway reported undelivered"))),
        (#""status": "failed""#, .status(reference: nil, status: "failed", failure: DeliveryFailure(.providerError, "the webhook gateway reported failed"))),
        (#""status": "no_answer""#, .callEnded(reference: nil, status: "no_answer", reason: .noAnswer)),
        (#""status": "busy""#, .callEnded(reference: nil, status: "busy", reason: .busy)),
        (#""status": "completed", "digits": "1""#, .pressed(digit: "1")),
        (##""status": "completed", "digits": "#", "reason": null"##, .pressed(digit: "#")),
    ])
    func reports(fields: String, report: DeliveryReport) throws {
        let body = #"{"challenge_id": "\#(Fixtures.challengeID.rawValue)", \#(fields)}"#
        #expect(try Self.authenticator().authenticate(Self.signed(body), now: Self.now) == report)
    }

    @Test("signed nonsense is an invalid request", arguments: [
        #"{"challenge_id": "chl_zzzzzzzzzzzzzzzzzzzzzzzzzz", "status": "delivered"}"#,
        #"{"challenge_id": "chl_abcdefghijklmnopqrstuvwxyz", "status": "delivered", "extra": 1}"#,
        #"{"challenge_id": "chl_abcdefghijklmnopqrstuvwxyz", "status": "exploded"}"#,
        #"{"challenge_id": "chl_abcdefghijklmnopqrstuvwxyz"}"#,
        #"{"status": "delivered"}"#,
        #"{"challenge_id": "chl_abcdefghijklmnopqrstuvwxyz", "status": 3}"#,
        #"{"challenge_id": "chl_abcdefghijklmnopqrstuvwxyz", "status": "failed", "reason": "carrier said no"}"#,
        #"{"challenge_id": "chl_abcdefghijklmnopqrstuvwxyz", "status": "completed", "digits": "12"}"#,
        #"{"challenge_id": "chl_abcdefghijklmnopqrstuvwxyz", "status": "completed", "digits": 1}"#,
        #"["delivered"]"#,
        "not json",
    ])
    func signedNonsense(body: String) throws {
        #expect(Self.errorCode(Self.signed(body), try Self.authenticator()) == .invalidRequest)
    }

    @Test("when the memory of recent signatures is full, refuses rather than forgets")
    func boundedMemory() throws {
        let authenticator = try WebhookCallbackAuthenticator(secret: Fixtures.webhookSecret, capacity: 2)
        #expect(Self.errorCode(Self.signed(Self.delivered, at: Self.seconds), authenticator) == nil)
        #expect(Self.errorCode(Self.signed(Self.delivered, at: Self.seconds - 1), authenticator) == nil)
        #expect(Self.errorCode(Self.signed(Self.delivered, at: Self.seconds - 2), authenticator) == .unavailable)
        // Once the first two are past the window, there is room again.
        let later = Self.now.addingTimeInterval(302)
        #expect(Self.errorCode(Self.signed(Self.delivered, at: Self.seconds + 300), authenticator, now: later) == nil)
    }

    @Test("refuses a secret shorter than 32 bytes")
    func shortSecret() {
        let error = Fixtures.error { () throws(TwofoldError) in try WebhookCallbackAuthenticator(secret: "short") }
        #expect(error?.code == .configuration)
        #expect(error?.message.contains("TWOFOLD_WEBHOOK_SECRET") == true)
    }
}
