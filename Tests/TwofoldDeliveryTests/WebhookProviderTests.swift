import Foundation
import Testing
import TwofoldCore
import TwofoldDelivery
import TwofoldTesting

@Suite("Webhook provider against a fake gateway")
struct WebhookProviderTests {
    static let clock = FixedClock(Date(timeIntervalSince1970: 1_700_000_123))
    static let fake = WebhookFake(secret: Fixtures.webhookSecret, now: clock.now())

    static func provider(_ channel: ChallengeType, _ url: String, http: OutboundHTTP) throws -> WebhookProvider {
        try WebhookProvider(settings: WebhookSettings(channel: channel, url: url, secret: Fixtures.webhookSecret), http: http, clock: clock)
    }

    static func json(_ request: RecordedRequest) throws -> NSDictionary {
        try #require(try JSONSerialization.jsonObject(with: Data(request.body)) as? NSDictionary)
    }

    static func accepting(_ request: RecordedRequest, _: Int) -> FakeResponse {
        fake.verify(request) == .valid ? .json(202, #"{"id": "gw-42", "queued": true}"#) : .json(401, #"{"error": "bad signature"}"#)
    }

    @Test("posts an SMS as signed JSON that a receiver following the README verifies")
    func postsSMS() async throws {
        try await FakeServer.with(respond: Self.accepting) { server, base in
            let receipt = try await Fixtures.withHTTP(Fixtures.http()) { http in
                try await Self.provider(.sms, base + "/send?tenant=a", http: http).send(SMSMessage(
                    challengeID: Fixtures.challengeID, to: Fixtures.number, body: "Your code is 482913", statusCallback: Fixtures.callback))
            }
            #expect(receipt == DeliveryReceipt(reference: "gw-42", status: "sent"))
            let request = try #require(server.requests.first)
            #expect(request.path == "/send")
            #expect(request.query == "tenant=a")
            #expect(request.headers["content-type"] == "application/json")
            #expect(request.headers["idempotency-key"] == Fixtures.challengeID.rawValue)
            #expect(request.headers["twofold-signature"]?.hasPrefix("t=1700000123,v1=") == true)
            #expect(Self.fake.verify(request) == .valid)
            #expect(try Self.json(request) == [
                "type": "sms", "challenge_id": Fixtures.challengeID.rawValue, "to": "+447700900123",
                "body": "Your code is 482913", "callback_url": Fixtures.callback.absoluteString,
            ] as NSDictionary)
        }
    }

    @Test("a signature made with another secret or for another body does not verify")
    func fakeRefusesWrongSignature() async throws {
        try await FakeServer.with(respond: Self.accepting) { server, base in
            let failure = try await Fixtures.withHTTP(Fixtures.http()) { http in
                let provider = try WebhookProvider(settings: WebhookSettings(channel: .sms, url: base, secret: String(repeating: "x", count: 40)),
                                                   http: http, clock: Self.clock)
                return await Fixtures.failure { () async throws(DeliveryFailure) in
                    try await provider.send(SMSMessage(challengeID: Fixtures.challengeID, to: Fixtures.number, body: "x", statusCallback: nil))
                }
            }
            #expect(failure?.kind == .providerError)
            var request = try #require(server.requests.first)
            #expect(Self.fake.verify(request) == .invalid("no v1 matches"))
            request.body += [UInt8(ascii: " ")]
            #expect(WebhookFake(secret: String(repeating: "x", count: 40), now: Self.clock.now()).verify(request) == .invalid("no v1 matches"))
        }
    }

    @Test("posts a call to say, with the full number and null for a missing callback")
    func postsSayCall() async throws {
        try await FakeServer.with(respond: Self.accepting) { server, base in
            _ = try await Fixtures.withHTTP(Fixtures.http()) { http in
                try await Self.provider(.voice, base, http: http).call(VoiceCall(
                    challengeID: Fixtures.challengeID, to: Fixtures.number, script: .say(speech: "Your code is 4 8 2"), statusCallback: nil))
            }
            let request = try #require(server.requests.first)
            #expect(Self.fake.verify(request) == .valid)
            #expect(try Self.json(request) == [
                "type": "voice", "challenge_id": Fixtures.challengeID.rawValue, "to": "+447700900123",
                "mode": "say", "speech": "Your code is 4 8 2", "callback_url": NSNull(),
            ] as NSDictionary)
        }
    }

    @Test("posts a press-a-key call with the prompt and the digits callback")
    func postsPressKeyCall() async throws {
        try await FakeServer.with(respond: Self.accepting) { server, base in
            _ = try await Fixtures.withHTTP(Fixtures.http()) { http in
                try await Self.provider(.voice, base, http: http).call(VoiceCall(
                    challengeID: Fixtures.challengeID, to: Fixtures.number,
                    script: .pressKey(prompt: "Press 1 to approve", digitsCallback: Fixtures.digitsCallback), statusCallback: Fixtures.callback))
            }
            let request = try #require(server.requests.first)
            #expect(Self.fake.verify(request) == .valid)
            #expect(try Self.json(request) == [
                "type": "voice", "challenge_id": Fixtures.challengeID.rawValue, "to": "+447700900123",
                "mode": "press_key", "prompt": "Press 1 to approve", "callback_url": Fixtures.callback.absoluteString,
                "digits_callback_url": Fixtures.digitsCallback.absoluteString,
            ] as NSDictionary)
        }
    }

    @Test("retries a 503 with the same Idempotency-Key and the same signed bytes")
    func retriesWithSameKey() async throws {
        try await FakeServer.with(respond: { request, index in
            index == 0 ? FakeResponse(status: 503) : FakeResponse(status: 200, body: "ok")
        }) { server, base in
            let receipt = try await Fixtures.withHTTP(Fixtures.http()) { http in
                try await Self.provider(.sms, base, http: http).send(SMSMessage(
                    challengeID: Fixtures.challengeID, to: Fixtures.number, body: "code", statusCallback: nil))
            }
            #expect(receipt == DeliveryReceipt(reference: nil, status: "sent"))
            #expect(server.requests.count == 2)
            #expect(server.requests.map { $0.headers["idempotency-key"] } == [Fixtures.challengeID.rawValue, Fixtures.challengeID.rawValue])
            #expect(server.requests[0].headers["twofold-signature"] == server.requests[1].headers["twofold-signature"])
            #expect(server.requests[0].body == server.requests[1].body)
        }
    }

    @Test("a gateway's refusal is final; its JSON error names the kind", arguments: [
        (400, #"{"error": "invalid_number"}"#, DeliveryFailure.Kind.invalidNumber),
        (422, #"{"error": "opted_out", "detail": "STOP"}"#, .optedOut),
        (403, #"{"error": "blocked"}"#, .blocked),
        (400, #"{"error": "something else"}"#, .providerError),
        (404, "Not Found", .providerError),
    ])
    func refusals(status: Int, body: String, kind: DeliveryFailure.Kind) async throws {
        try await FakeServer.with(respond: { _, _ in .json(status, body) }) { server, base in
            let failure = try await Fixtures.withHTTP(Fixtures.http()) { http in
                let provider = try Self.provider(.sms, base, http: http)
                return await Fixtures.failure { () async throws(DeliveryFailure) in
                    try await provider.send(SMSMessage(challengeID: Fixtures.challengeID, to: Fixtures.number, body: "code", statusCallback: nil))
                }
            }
            #expect(failure?.kind == kind)
            #expect(server.requests.count == 1)
        }
    }

    @Test("a gateway that keeps answering 429 is rate limited after two retries")
    func rateLimited() async throws {
        try await FakeServer.with(respond: { _, _ in FakeResponse(status: 429, headers: ["Retry-After": "1"]) }) { server, base in
            let failure = try await Fixtures.withHTTP(Fixtures.http()) { http in
                let provider = try Self.provider(.sms, base, http: http)
                return await Fixtures.failure { () async throws(DeliveryFailure) in
                    try await provider.send(SMSMessage(challengeID: Fixtures.challengeID, to: Fixtures.number, body: "code", statusCallback: nil))
                }
            }
            #expect(failure?.kind == .rateLimited)
            #expect(server.requests.count == 3)
        }
    }

    @Test("an instance serves only its own channel")
    func ownChannelOnly() async throws {
        let failure = try await Fixtures.withHTTP(Fixtures.http()) { http in
            let provider = try Self.provider(.sms, "http://127.0.0.1:1/", http: http)
            return await Fixtures.failure { () async throws(DeliveryFailure) in
                try await provider.call(VoiceCall(challengeID: Fixtures.challengeID, to: Fixtures.number, script: .say(speech: "x"), statusCallback: nil))
            }
        }
        #expect(failure?.kind == .providerError)
    }

    @Test("settings name the wrong setting")
    func settings() {
        let cases: [(WebhookSettings, String)] = [
            (WebhookSettings(channel: .sms, url: "ftp://gateway", secret: Fixtures.webhookSecret), "TWOFOLD_SMS_WEBHOOK_URL"),
            (WebhookSettings(channel: .voice, url: "gateway.example.com/call", secret: Fixtures.webhookSecret), "TWOFOLD_VOICE_WEBHOOK_URL"),
            (WebhookSettings(channel: .sms, url: "https://gateway.example.com", secret: String(repeating: "s", count: 31)), "TWOFOLD_WEBHOOK_SECRET"),
        ]
        for (settings, name) in cases {
            let error = Fixtures.error { () throws(TwofoldError) in try settings.validate() }
            #expect(error?.code == .configuration)
            #expect(error?.message.contains(name) == true, "\(error?.message ?? "no error")")
            #expect(!settings.description.contains(settings.secret))
        }
        #expect(throws: Never.self) {
            try WebhookSettings(channel: .sms, url: "https://gateway.example.com", secret: String(repeating: "s", count: 32)).validate()
        }
    }
}
