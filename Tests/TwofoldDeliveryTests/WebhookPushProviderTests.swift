import Foundation
import Testing
import TwofoldCore
@testable import TwofoldDelivery
import TwofoldTesting

@Suite("Webhook push provider against a fake relay")
struct WebhookPushProviderTests {
    static let clock = FixedClock(Date(timeIntervalSince1970: 1_700_000_123))
    static let fake = WebhookFake(secret: Fixtures.webhookSecret, now: clock.now())
    static let deviceID = DeviceID(rawValue: "dev_abcdefghijklmnopqrstuvwxyz")!
    static let token = "fcm:APA91bH-token_value.with:punctuation"

    static func provider(_ url: String, http: OutboundHTTP) throws -> WebhookPushProvider {
        try WebhookPushProvider(settings: WebhookSettings(channel: .push, url: url, secret: Fixtures.webhookSecret), http: http, clock: clock)
    }

    static func notification(context: ChallengeContext = ChallengeContext(ip: "203.0.113.9", userAgent: "Firefox/128", location: "Lyon, FR",
                                                                           appName: "Example Portal")) -> PushNotification {
        PushNotification(challengeID: Fixtures.challengeID, deviceID: deviceID, transport: .webhook(pushToken: token),
                         applicationName: "Example", context: context, expiresAt: Date(timeIntervalSince1970: 1_700_000_423.25))
    }

    static func notify(_ notification: PushNotification = notification(),
                       respond: @escaping @Sendable (RecordedRequest, Int) async -> FakeResponse)
        async throws -> (DeliveryReceipt?, DeliveryFailure?, [RecordedRequest]) {
        try await FakeServer.with(respond: respond) { server, base in
            let (receipt, failure) = try await Fixtures.withHTTP(Fixtures.http()) { http in
                let provider = try Self.provider(base + "/relay?tenant=a", http: http)
                do throws(DeliveryFailure) {
                    return (Optional(try await provider.notify(notification)), DeliveryFailure?.none)
                } catch {
                    return (nil, error)
                }
            }
            return (receipt, failure, server.requests)
        }
    }

    static func accepting(_ request: RecordedRequest, _: Int) -> FakeResponse {
        fake.verify(request) == .valid ? .json(202, #"{"id": "relay-7"}"#) : .json(401, #"{"error": "bad signature"}"#)
    }

    @Test("posts signed JSON with exactly the push fields, keyed by the challenge id")
    func postsSignedJSON() async throws {
        let (receipt, failure, requests) = try await Self.notify(respond: Self.accepting)
        #expect(failure == nil)
        #expect(receipt == DeliveryReceipt(reference: "relay-7", status: "sent"))
        let request = try #require(requests.first)
        #expect(request.path == "/relay")
        #expect(request.query == "tenant=a")
        #expect(request.headers["content-type"] == "application/json")
        #expect(request.headers["idempotency-key"] == Fixtures.challengeID.rawValue)
        #expect(request.headers["twofold-signature"]?.hasPrefix("t=1700000123,v1=") == true)
        #expect(Self.fake.verify(request) == .valid)
        let json = try #require(try JSONSerialization.jsonObject(with: Data(request.body)) as? NSDictionary)
        #expect(json == [
            "type": "push", "challenge_id": Fixtures.challengeID.rawValue, "device_id": Self.deviceID.rawValue,
            "push_token": Self.token, "app_name": "Example",
            "context": ["ip": "203.0.113.9", "user_agent": "Firefox/128", "location": "Lyon, FR", "app_name": "Example Portal"],
            "expires_at": "2023-11-14T22:20:23.250Z",
        ] as NSDictionary)
    }

    @Test("the signature verifies with WebhookSignature's own check, and not after the body changes")
    func signatureVerifiesWithWebhookSignature() async throws {
        let (_, _, requests) = try await Self.notify(respond: Self.accepting)
        let request = try #require(requests.first)
        let signature = WebhookSignature(secret: Fixtures.webhookSecret)
        let header = request.headers["twofold-signature"]
        #expect(throws: Never.self) { _ = try signature.verify(header: header, body: request.body, now: Self.clock.now()) }
        var changed = request.body
        changed[changed.count / 2] ^= 0x01
        #expect(throws: TwofoldError.self) { _ = try signature.verify(header: header, body: changed, now: Self.clock.now()) }
        #expect(throws: TwofoldError.self) {
            _ = try WebhookSignature(secret: String(repeating: "x", count: 40)).verify(header: header, body: request.body, now: Self.clock.now())
        }
    }

    @Test("an empty context is an empty object")
    func emptyContext() async throws {
        let (_, _, requests) = try await Self.notify(Self.notification(context: ChallengeContext()), respond: Self.accepting)
        let request = try #require(requests.first)
        let json = try #require(try JSONSerialization.jsonObject(with: Data(request.body)) as? NSDictionary)
        #expect(json["context"] as? NSDictionary == [:] as NSDictionary)
        #expect(json.count == 7)
    }

    @Test("a relay's answer maps to a delivery outcome", arguments: [
        (404, #"{"error": "unreachable"}"#, DeliveryFailure.Kind.unreachable, 1),
        (400, #"{"error": "something"}"#, .providerError, 1),
        (410, "Gone", .providerError, 1),
        (429, "", .rateLimited, 3),
        (500, "", .providerError, 3),
    ])
    func statusMapping(status: Int, body: String, kind: DeliveryFailure.Kind, attempts: Int) async throws {
        let (_, failure, requests) = try await Self.notify { _, _ in .json(status, body) }
        #expect(failure?.kind == kind)
        #expect(failure?.message.contains(Self.token) == false)
        #expect(requests.count == attempts)
        #expect(Set(requests.map(\.body)).count == 1)
    }

    @Test("validate accepts printable push tokens and refuses others, naming transport.push_token")
    func validate() throws {
        let provider = try Self.provider("https://relay.example.com/push", http: Self.unusedHTTP)
        #expect(throws: Never.self) { try provider.validate(.webhook(pushToken: Self.token)) }
        #expect(throws: Never.self) { try provider.validate(.webhook(pushToken: String(repeating: "a", count: 4096))) }
        for token in ["", "has space", "tab\there", "é", String(repeating: "a", count: 4097)] {
            let error = Fixtures.error { () throws(TwofoldError) in try provider.validate(.webhook(pushToken: token)) }
            #expect(error?.code == .invalidRequest)
            #expect(error?.message.contains("transport.push_token") == true)
        }
        let other = Fixtures.error { () throws(TwofoldError) in try provider.validate(.polling) }
        #expect(other?.message.contains("transport.type") == true)
    }

    @Test("settings must be the push channel's, named TWOFOLD_PUSH_WEBHOOK_URL")
    func settings() {
        let sms = Fixtures.error { () throws(TwofoldError) in
            _ = try WebhookPushProvider(settings: WebhookSettings(channel: .sms, url: "https://relay.example.com", secret: Fixtures.webhookSecret),
                                        http: Self.unusedHTTP)
        }
        #expect(sms?.code == .configuration)
        #expect(sms?.message.contains("TWOFOLD_PUSH_WEBHOOK_URL") == true)
        let url = Fixtures.error { () throws(TwofoldError) in
            _ = try WebhookPushProvider(settings: WebhookSettings(channel: .push, url: "relay.example.com", secret: Fixtures.webhookSecret),
                                        http: Self.unusedHTTP)
        }
        #expect(url?.message.contains("TWOFOLD_PUSH_WEBHOOK_URL") == true)
        let secret = Fixtures.error { () throws(TwofoldError) in
            _ = try WebhookPushProvider(settings: WebhookSettings(channel: .push, url: "https://relay.example.com", secret: "short"),
                                        http: Self.unusedHTTP)
        }
        #expect(secret?.message.contains("TWOFOLD_WEBHOOK_SECRET") == true)
    }

    /// A client for tests that make no request.
    static let unusedHTTP = Fixtures.http()
}
