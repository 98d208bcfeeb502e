import Foundation
import Testing
import TwofoldCore
import TwofoldDelivery
import TwofoldTesting

@Suite("Twilio provider against a fake Twilio REST API")
struct TwilioProviderTests {
    static let message = SMSMessage(challengeID: Fixtures.challengeID, to: Fixtures.number,
                                    body: "Your code is 482 913 & <b>é</b> +1%/=?", statusCallback: Fixtures.callback)

    static func wellBehaved(_ request: RecordedRequest, _: Int) -> FakeResponse {
        TwilioFake.answer(request, accountSID: Fixtures.accountSID, authToken: Fixtures.authToken)
    }

    @Test("sends an SMS as the Messages resource expects: form fields, encoding, basic auth")
    func sendsSMS() async throws {
        try await FakeServer.with(respond: Self.wellBehaved) { server, base in
            try await Fixtures.withHTTP(Fixtures.http()) { http in
                let provider = try TwilioProvider(settings: Fixtures.twilioSettings(baseURL: base), http: http)
                let receipt = try await provider.send(Self.message)
                #expect(provider.name == "twilio")
                #expect(receipt == DeliveryReceipt(reference: "SM0123456789abcdef0123456789abcdef", status: "queued"))
            }
            let request = try #require(server.requests.first)
            #expect(server.requests.count == 1)
            #expect(request.path == "/2010-04-01/Accounts/\(Fixtures.accountSID)/Messages.json")
            #expect(request.headers["content-type"] == "application/x-www-form-urlencoded")
            let fields = decodeForm(request.text)
            #expect(fields.map(\.0) == ["To", "From", "Body", "StatusCallback"])
            #expect(Dictionary(uniqueKeysWithValues: fields) == [
                "To": "+447700900123",
                "From": Fixtures.from,
                "Body": Self.message.body,
                "StatusCallback": Fixtures.callback.absoluteString,
            ])
            // Reserved characters are percent-encoded, so none of them splits a field.
            #expect(request.text.contains("To=%2B447700900123&"))
            #expect(request.text.contains("&Body=Your+code+is+482+913+%26+%3Cb%3E%C3%A9%3C%2Fb%3E+%2B1%25%2F%3D%3F&"))
        }
    }

    @Test("sends through the Messaging Service, without From, when one is configured")
    func sendsThroughMessagingService() async throws {
        try await FakeServer.with(respond: Self.wellBehaved) { server, base in
            try await Fixtures.withHTTP(Fixtures.http()) { http in
                let provider = try TwilioProvider(settings: Fixtures.twilioSettings(baseURL: base, messagingService: true), http: http)
                _ = try await provider.send(SMSMessage(challengeID: Fixtures.challengeID, to: Fixtures.number, body: "code", statusCallback: nil))
            }
            let fields = decodeForm(try #require(server.requests.first).text)
            #expect(fields.map(\.0) == ["To", "MessagingServiceSid", "Body"])
            #expect(fields[1].1 == Fixtures.messagingServiceSID)
        }
    }

    @Test("places a call that says the speech, as escaped TwiML, with a POST status callback")
    func placesSayCall() async throws {
        let speech = "Your code is 4, 8, 2. </Say><Dial>+1900</Dial> & 'that' is \"all\""
        try await FakeServer.with(respond: Self.wellBehaved) { server, base in
            try await Fixtures.withHTTP(Fixtures.http()) { http in
                let provider = try TwilioProvider(settings: Fixtures.twilioSettings(baseURL: base), http: http)
                let receipt = try await provider.call(VoiceCall(challengeID: Fixtures.challengeID, to: Fixtures.number,
                                                                script: .say(speech: speech), statusCallback: Fixtures.callback))
                #expect(receipt == DeliveryReceipt(reference: "CA0123456789abcdef0123456789abcdef", status: "queued"))
            }
            let request = try #require(server.requests.first)
            #expect(request.path == "/2010-04-01/Accounts/\(Fixtures.accountSID)/Calls.json")
            let fields = Dictionary(uniqueKeysWithValues: decodeForm(request.text))
            #expect(fields["To"] == "+447700900123")
            #expect(fields["From"] == Fixtures.from)
            #expect(fields["StatusCallback"] == Fixtures.callback.absoluteString)
            #expect(fields["StatusCallbackMethod"] == "POST")
            let document = try #require(fields["Twiml"])
            let twiml = try #require(XMLTree.parse(document), "TwiML is not well-formed XML")
            #expect(twiml.name == "Response")
            #expect(twiml.children.map(\.name) == ["Say"])
            #expect(twiml.children.first?.text == speech)
            #expect(twiml.children.first?.children.isEmpty == true)
        }
    }

    @Test("places a press-a-key call that gathers one digit and posts it to the digits callback")
    func placesPressKeyCall() async throws {
        let prompt = "Someone is signing in to ACME & co. Press 1 to approve, 9 to deny."
        try await FakeServer.with(respond: Self.wellBehaved) { server, base in
            try await Fixtures.withHTTP(Fixtures.http()) { http in
                let provider = try TwilioProvider(settings: Fixtures.twilioSettings(baseURL: base), http: http)
                _ = try await provider.call(VoiceCall(challengeID: Fixtures.challengeID, to: Fixtures.number,
                                                      script: .pressKey(prompt: prompt, digitsCallback: Fixtures.digitsCallback),
                                                      statusCallback: nil))
            }
            let fields = Dictionary(uniqueKeysWithValues: decodeForm(try #require(server.requests.first).text))
            #expect(fields["StatusCallback"] == nil)
            let document = try #require(fields["Twiml"])
            let twiml = try #require(XMLTree.parse(document), "TwiML is not well-formed XML")
            #expect(twiml.name == "Response")
            #expect(twiml.children.map(\.name) == ["Gather", "Say"])
            let gather = twiml.children[0]
            #expect(gather.attributes == ["numDigits": "1", "action": Fixtures.digitsCallback.absoluteString, "method": "POST", "timeout": "10"])
            #expect(gather.children.map(\.name) == ["Say"])
            #expect(gather.children.first?.text == prompt)
            #expect(twiml.children[1].text.lowercased().contains("goodbye"))
        }
    }

    @Test("refused credentials are a provider error that says so, and are not retried")
    func refusedCredentials() async throws {
        try await FakeServer.with(respond: Self.wellBehaved) { server, base in
            let failure = try await Fixtures.withHTTP(Fixtures.http()) { http in
                let provider = try TwilioProvider(settings: Fixtures.twilioSettings(baseURL: base, authToken: "0000wrong0000"), http: http)
                return await Fixtures.failure { () async throws(DeliveryFailure) in try await provider.send(Self.message) }
            }
            #expect(failure?.kind == .providerError)
            #expect(failure?.message.contains("refused the credentials") == true)
            #expect(server.requests.count == 1)
        }
    }

    @Test("Twilio's error codes map to failure kinds; invalid and opted-out numbers are final and not retried",
          arguments: [
              (21211, DeliveryFailure.Kind.invalidNumber), (21614, .invalidNumber), (21217, .invalidNumber),
              (21610, .optedOut), (21612, .unreachable), (21408, .blocked), (21215, .blocked),
          ])
    func errorCodes(code: Int, kind: DeliveryFailure.Kind) async throws {
        try await FakeServer.with(respond: { _, _ in
            TwilioFake.error(400, code: code, message: "The 'To' number +447700900123 is not valid.")
        }) { server, base in
            let failure = try await Fixtures.withHTTP(Fixtures.http()) { http in
                let provider = try TwilioProvider(settings: Fixtures.twilioSettings(baseURL: base), http: http)
                return await Fixtures.failure { () async throws(DeliveryFailure) in try await provider.send(Self.message) }
            }
            let found = try #require(failure)
            #expect(found.kind == kind)
            #expect(found.isFinal == (kind == .invalidNumber || kind == .optedOut))
            #expect(found.message.contains("\(code)"))
            // Twilio's own message quotes the number: it must not travel into logs.
            #expect(!found.message.contains("7700900123"))
            #expect(server.requests.count == 1)
        }
    }

    @Test("retries after a 500 and succeeds, sending the same request again")
    func retriesAfterServerError() async throws {
        let sleeps = SleepRecorder()
        try await FakeServer.with(respond: { request, index in
            index == 0 ? TwilioFake.error(500, code: 20500, message: "Internal Server Error")
                : TwilioFake.answer(request, accountSID: Fixtures.accountSID, authToken: Fixtures.authToken)
        }) { server, base in
            let receipt = try await Fixtures.withHTTP(Fixtures.http(sleeps: sleeps)) { http in
                try await TwilioProvider(settings: Fixtures.twilioSettings(baseURL: base), http: http).send(Self.message)
            }
            #expect(receipt.reference == "SM0123456789abcdef0123456789abcdef")
            #expect(server.requests.count == 2)
            #expect(server.requests[0].body == server.requests[1].body)
            #expect(server.requests[0].headers["authorization"] == server.requests[1].headers["authorization"])
            #expect(sleeps.recorded == [.milliseconds(250)])
        }
    }

    @Test("honours Retry-After on 429, then succeeds")
    func honoursRetryAfter() async throws {
        let sleeps = SleepRecorder()
        try await FakeServer.with(respond: { request, index in
            index == 0 ? TwilioFake.error(429, code: 20429, message: "Too Many Requests", headers: ["Retry-After": "3"])
                : TwilioFake.answer(request, accountSID: Fixtures.accountSID, authToken: Fixtures.authToken)
        }) { server, base in
            _ = try await Fixtures.withHTTP(Fixtures.http(sleeps: sleeps)) { http in
                try await TwilioProvider(settings: Fixtures.twilioSettings(baseURL: base), http: http).send(Self.message)
            }
            #expect(server.requests.count == 2)
            #expect(sleeps.recorded == [.seconds(3)])
        }
    }

    @Test("caps a long Retry-After at the longest backoff")
    func capsRetryAfter() async throws {
        let sleeps = SleepRecorder()
        try await FakeServer.with(respond: { request, index in
            index == 0 ? TwilioFake.error(429, code: 20429, message: "Too Many Requests", headers: ["Retry-After": "3600"])
                : TwilioFake.answer(request, accountSID: Fixtures.accountSID, authToken: Fixtures.authToken)
        }) { _, base in
            _ = try await Fixtures.withHTTP(Fixtures.http(OutboundHTTP.Policy(budget: .seconds(60)), sleeps: sleeps)) { http in
                try await TwilioProvider(settings: Fixtures.twilioSettings(baseURL: base), http: http).send(Self.message)
            }
            #expect(sleeps.recorded == [.seconds(10)])
        }
    }

    @Test("does not wait past the time budget: a Retry-After beyond it ends the attempts")
    func stopsAtBudget() async throws {
        let sleeps = SleepRecorder()
        try await FakeServer.with(respond: { _, _ in
            TwilioFake.error(429, code: 20429, message: "Too Many Requests", headers: ["Retry-After": "30"])
        }) { server, base in
            // A timeout generous enough for a loaded machine; the budget is what the test is about.
            let policy = OutboundHTTP.Policy(timeout: .seconds(10), maxBackoff: .seconds(60), budget: .seconds(20))
            let failure = try await Fixtures.withHTTP(Fixtures.http(policy, sleeps: sleeps)) { http in
                let provider = try TwilioProvider(settings: Fixtures.twilioSettings(baseURL: base), http: http)
                return await Fixtures.failure { () async throws(DeliveryFailure) in try await provider.send(Self.message) }
            }
            #expect(failure?.kind == .rateLimited)
            #expect(server.requests.count == 1)
            #expect(sleeps.recorded.isEmpty)
        }
    }

    @Test("gives up after two retries", arguments: [
        (429, 20429, DeliveryFailure.Kind.rateLimited), (503, 20503, .providerError),
    ])
    func givesUpAfterTwoRetries(status: Int, code: Int, kind: DeliveryFailure.Kind) async throws {
        let sleeps = SleepRecorder()
        try await FakeServer.with(respond: { _, _ in TwilioFake.error(status, code: code, message: "busy") }) { server, base in
            let failure = try await Fixtures.withHTTP(Fixtures.http(sleeps: sleeps)) { http in
                let provider = try TwilioProvider(settings: Fixtures.twilioSettings(baseURL: base), http: http)
                return await Fixtures.failure { () async throws(DeliveryFailure) in try await provider.send(Self.message) }
            }
            #expect(failure?.kind == kind)
            #expect(server.requests.count == 3)
            // Exponential: 250 ms, then 500 ms (jitter pinned at 1).
            #expect(sleeps.recorded == [.milliseconds(250), .milliseconds(500)])
        }
    }

    @Test("times out when Twilio does not answer in time, and retries")
    func timesOut() async throws {
        try await FakeServer.with(respond: { _, _ in
            FakeResponse(status: 201, body: #"{"sid": "SMlate", "status": "queued"}"#, delay: .seconds(20))
        }) { server, base in
            let policy = OutboundHTTP.Policy(timeout: .seconds(2), maxRetries: 1)
            let start = ContinuousClock.now
            let failure = try await Fixtures.withHTTP(Fixtures.http(policy)) { http in
                let provider = try TwilioProvider(settings: Fixtures.twilioSettings(baseURL: base), http: http)
                return await Fixtures.failure { () async throws(DeliveryFailure) in try await provider.send(Self.message) }
            }
            #expect(failure?.kind == .timeout)
            // Two attempts that waited for the answer would take 40 s; a loaded machine may
            // stretch two 2 s timeouts (and delay the second attempt's request past its own
            // timeout, so the fake may see one or two), but not that far.
            #expect(ContinuousClock.now - start < .seconds(20))
            #expect((1...2).contains(server.requests.count))
        }
    }

    @Test("a host that refuses connections is unreachable")
    func unreachable() async throws {
        let sleeps = SleepRecorder()
        // Port 1 on loopback: nothing listens there, so every connection is refused.
        // A timeout long enough that a loaded machine still sees the refusal, not a slow connect,
        // and a budget no load can spend before the third attempt (a CI run took 37 s for two).
        let policy = OutboundHTTP.Policy(timeout: .seconds(5), budget: .seconds(600))
        let failure = try await Fixtures.withHTTP(Fixtures.http(policy, sleeps: sleeps)) { http in
            let provider = try TwilioProvider(settings: Fixtures.twilioSettings(baseURL: "http://127.0.0.1:1"), http: http)
            return await Fixtures.failure { () async throws(DeliveryFailure) in try await provider.send(Self.message) }
        }
        #expect(failure?.kind == .unreachable)
        #expect(sleeps.recorded.count == 2)
    }

    @Test("logs the provider, status and attempt, never the number, the code or the message")
    func logsNoSecrets() async throws {
        let logs = LogCapture()
        try await FakeServer.with(respond: { request, index in
            index == 0 ? TwilioFake.error(500, code: 20500, message: "Internal Server Error")
                : TwilioFake.answer(request, accountSID: Fixtures.accountSID, authToken: Fixtures.authToken)
        }) { _, base in
            _ = try await Fixtures.withHTTP(Fixtures.http(logs: logs)) { http in
                try await TwilioProvider(settings: Fixtures.twilioSettings(baseURL: base), http: http).send(Self.message)
            }
        }
        let retry = try #require(logs.lines.first { $0.metadata["status"] == "500" })
        #expect(retry.metadata["provider"] == "twilio")
        #expect(retry.metadata["attempt"] == "1")
        #expect(logs.lines.contains { $0.metadata["status"] == "201" && $0.metadata["attempt"] == "2" })
        for line in logs.lines {
            #expect(!line.text.contains("7700900123"))
            #expect(!line.text.contains("482"))
            #expect(!line.text.contains(Fixtures.authToken))
            #expect(!line.text.contains("Your code"))
        }
    }
}
