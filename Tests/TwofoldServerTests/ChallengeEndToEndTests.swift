import Crypto
import Foundation
import Hummingbird
import HummingbirdTesting
import Logging
import NIOCore
import Testing
@testable import TwofoldCore
import TwofoldDelivery
import TwofoldOTP
import TwofoldTesting
@testable import TwofoldServer

/// SMS and voice challenges end to end: the HTTP application `twofold serve` runs, over a runtime
/// on a temporary SQLite store configured through `TWOFOLD_*` settings, delivering to loopback
/// gateways (a signed-webhook receiver, a fake of Twilio's REST API) that check what a real one
/// would, and called back with signed (and forged) callbacks.
@Suite("Challenges end to end: webhook, voice, failover, Twilio, nothing in clear", .timeLimit(.minutes(3)))
struct ChallengeEndToEndTests {
    static let phone = "+15551234567"
    static let publicURL = "https://twofold.example.test"
    static let secret = "whsec-0123456789abcdef0123456789abcdef"
    static let accountSID = "AC0123456789abcdef0123456789abcdef"
    static let authToken = "e2e-twilio-auth-token-0123456789ab"
    static let twilioFrom = "+15005550006"

    // MARK: - 1. SMS through the webhook provider

    @Test("SMS through the webhook: enroll, activate, long poll answered by a verify; signed, forged and replayed callbacks")
    func smsThroughWebhook() async throws {
        let receiver = WebhookReceiver(secret: Self.secret)
        try await LoopbackGateway.with(respond: { request, index in
            // A receiver refuses what it cannot authenticate.
            receiver.verify(request) == .valid ? .json(200, #"{"id": "gw-\#(index)"}"#) : .json(401, #"{"error": "provider_error"}"#)
        }) { gateway, url in
            try await ChallengeNode.with(environment: [
                "TWOFOLD_SMS_PROVIDERS": "webhook",
                "TWOFOLD_SMS_WEBHOOK_URL": url + "/sms",
                "TWOFOLD_WEBHOOK_SECRET": Self.secret,
            ]) { node in
                let api = node.api
                // Enroll: a pending factor, shown masked, and its confirmation challenge.
                let enrolled = try await api.send(.post, "/v1/users/alice/factors", json: #"{"type": "sms", "phone": "\#(Self.phone)"}"#)
                try #require(enrolled.status == 201, "\(enrolled.text)")
                let factor = try #require(enrolled.json["factor"] as? [String: Any])
                let factorID = try #require(factor["id"] as? String)
                #expect(factor["type"] as? String == "sms")
                #expect(factor["status"] as? String == "pending")
                #expect(factor["phone"] as? String == "+1•••••4567")
                let confirmation = try #require(enrolled.json["challenge"] as? [String: Any])
                let confirmationID = try #require(confirmation["challenge_id"] as? String)
                #expect(confirmation["purpose"] as? String == "enrollment")
                #expect(confirmation["status"] as? String == "pending")

                // The gateway got a signed post with the code.
                let first = try await gateway.waitForRequests(to: "/sms", count: 1)[0]
                #expect(receiver.verify(first) == .valid)
                let code = try Self.checkSMSPost(first, challengeID: confirmationID, provider: "webhook")

                // Activation with that code.
                let activated = try await api.send(.post, "/v1/users/alice/factors/\(factorID)/activate", json: #"{"code": "\#(code)"}"#)
                #expect(activated.status == 200, "\(activated.text)")
                #expect((activated.json["factor"] as? [String: Any])?["status"] as? String == "active")

                // One send per 30 s per user: refused now, taken 30 s later (the runtime's clock).
                let tooSoon = try await api.send(.post, "/v1/users/alice/challenges", json: #"{"type": "sms"}"#)
                #expect(tooSoon.status == 429, "\(tooSoon.text)")
                #expect(tooSoon.errorCode == "rate_limited")
                #expect(tooSoon.headers[.retryAfter] == "30")
                #expect(gateway.requests(to: "/sms").count == 1)
                node.clock.advance(by: 30)
                let created = try await api.send(.post, "/v1/users/alice/challenges", json: #"{"type": "sms"}"#)
                try #require(created.status == 202, "\(created.text)")
                #expect(Set(created.json.keys) == ["challenge_id", "type", "status", "expires_at"])
                #expect(created.json["type"] as? String == "sms")
                #expect(created.json["status"] as? String == "pending")
                let challengeID = try #require(created.json["challenge_id"] as? String)

                let second = try await gateway.waitForRequests(to: "/sms", count: 2)[1]
                #expect(receiver.verify(second) == .valid)
                let loginCode = try Self.checkSMSPost(second, challengeID: challengeID, provider: "webhook")
                let sent = try await node.waitForDelivery(challengeID)
                #expect(sent["provider"] == "webhook")
                #expect(sent["status"] == "sent")

                // A signed delivery report is applied.
                let delivered = #"{"challenge_id": "\#(challengeID)", "status": "delivered"}"#
                let signature = receiver.sign(delivered, at: node.unixNow)
                let reported = try await api.callback("webhook", challengeID, "status", body: delivered,
                                                      headers: ["Twofold-Signature": signature])
                #expect(reported.status == 200, "\(reported.text)")
                #expect(reported.text == "")
                var shown = try await api.send(.get, "/v1/challenges/\(challengeID)")
                #expect(shown.json["status"] as? String == "pending")
                #expect(shown.delivery == ["provider": "webhook", "status": "delivered"])

                // Unsigned, tampered, wrongly keyed, stale and replayed callbacks: 401, nothing changes.
                let failure = #"{"challenge_id": "\#(challengeID)", "status": "failed", "reason": "unreachable"}"#
                let forged: [(String, [String: String])] = [
                    ("unsigned", [:]),
                    ("tampered", ["Twofold-Signature": signature]),
                    ("another secret", ["Twofold-Signature": WebhookReceiver(secret: String(Self.secret.reversed())).sign(failure, at: node.unixNow)]),
                    ("stale", ["Twofold-Signature": receiver.sign(failure, at: node.unixNow - 301)]),
                ]
                for (what, headers) in forged {
                    let refused = try await api.callback("webhook", challengeID, "status", body: failure, headers: headers)
                    #expect(refused.status == 401, "\(what): \(refused.text)")
                    #expect(refused.errorCode == "unauthorized", "\(what)")
                }
                let replayed = try await api.callback("webhook", challengeID, "status", body: delivered,
                                                      headers: ["Twofold-Signature": signature])
                #expect(replayed.status == 401, "replay: \(replayed.text)")
                #expect(replayed.errorCode == "unauthorized")
                shown = try await api.send(.get, "/v1/challenges/\(challengeID)")
                #expect(shown.json["status"] as? String == "pending")
                #expect(shown.json["reason"] is NSNull)
                #expect(shown.delivery == ["provider": "webhook", "status": "delivered"])

                // A long poll, answered as soon as the code is verified on another connection.
                let started = ContinuousClock.now
                async let poll = api.send(.get, "/v1/challenges/\(challengeID)?wait=30")
                _ = try await waitFor("the long poll to wait", timeout: .seconds(5)) {
                    node.runtime.services.challenges.watch.waiting > 0 ? true : nil
                }
                let verified = try await api.send(.post, "/v1/users/alice/verify", json: #"{"code": "\#(loginCode)"}"#)
                #expect(verified.status == 200, "\(verified.text)")
                #expect(verified.json["result"] as? String == "allow")
                #expect(verified.json["factor_type"] as? String == "sms")
                #expect(verified.json["factor_id"] as? String == factorID)
                let answered = try await poll
                let waited = ContinuousClock.now - started
                #expect(answered.status == 200, "\(answered.text)")
                #expect(answered.json["status"] as? String == "approved")
                #expect(answered.json["challenge_id"] as? String == challengeID)
                #expect(answered.json["finished_at"] is String)
                // Well before the 30 s wait ends: woken by the answer (loose, for a loaded machine).
                #expect(waited < .seconds(15), "the poll answered after \(waited)")

                // Its code is spent; a late failure report changes nothing.
                let again = try await api.send(.post, "/v1/challenges/\(challengeID)/verify", json: #"{"code": "\#(loginCode)"}"#)
                #expect(again.status == 200, "\(again.text)")
                #expect(again.json["result"] as? String == "deny", "\(again.text)")
                #expect(again.json["reason"] as? String == "replayed")
                let late = #"{"challenge_id": "\#(challengeID)", "status": "failed"}"#
                let lateReport = try await api.callback("webhook", challengeID, "status", body: late,
                                                        headers: ["Twofold-Signature": receiver.sign(late, at: node.unixNow)])
                #expect(lateReport.status == 200, "\(lateReport.text)")
                shown = try await api.send(.get, "/v1/challenges/\(challengeID)")
                #expect(shown.json["status"] as? String == "approved")
                #expect(gateway.requests(to: "/sms").count == 2)

                // `twofold_challenges_finished_total{type,status}` counts challenges by final status.
                let metrics = try await api.send(.get, "/metrics", authorized: false)
                let approvals = metrics.lines.first { $0.hasPrefix("twofold_challenges_finished_total{") && $0.contains(#"type="sms""#)
                    && $0.contains(#"status="approved""#) }
                #expect((approvals.flatMap { Int($0.split(separator: " ").last ?? "") } ?? 0) >= 1, "\(metrics.text)")
                return [code, loginCode]
            }
        }
    }

    // MARK: - 2. Voice: press a key, through the webhook

    @Test("voice through the webhook: a code call confirms the number; 1 approves, 9 denies as fraud and is counted")
    func voicePressKey() async throws {
        let receiver = WebhookReceiver(secret: Self.secret)
        try await LoopbackGateway.with(respond: { request, index in
            receiver.verify(request) == .valid ? .json(200, #"{"id": "call-\#(index)"}"#) : .json(401, #"{"error": "provider_error"}"#)
        }) { gateway, url in
            try await ChallengeNode.with(environment: [
                "TWOFOLD_SMS_PROVIDERS": "webhook",
                "TWOFOLD_VOICE_PROVIDERS": "webhook",
                "TWOFOLD_SMS_WEBHOOK_URL": url + "/sms",
                "TWOFOLD_VOICE_WEBHOOK_URL": url + "/voice",
                "TWOFOLD_WEBHOOK_SECRET": Self.secret,
            ]) { node in
                let api = node.api
                let enrolled = try await api.send(.post, "/v1/users/bob/factors", json: #"{"type": "voice", "phone": "\#(Self.phone)"}"#)
                try #require(enrolled.status == 201, "\(enrolled.text)")
                let factorID = try #require((enrolled.json["factor"] as? [String: Any])?["id"] as? String)
                let confirmationID = try #require((enrolled.json["challenge"] as? [String: Any])?["challenge_id"] as? String)

                // The confirmation call reads the code, digit by digit, twice.
                let call = try await gateway.waitForRequests(to: "/voice", count: 1)[0]
                #expect(receiver.verify(call) == .valid)
                let posted = try #require(call.json())
                #expect(Set(posted.keys) == ["type", "challenge_id", "to", "mode", "speech", "callback_url"])
                #expect(posted["type"] as? String == "voice")
                #expect(posted["mode"] as? String == "say")
                #expect(posted["to"] as? String == Self.phone)
                #expect(posted["challenge_id"] as? String == confirmationID)
                let speech = try #require(posted["speech"] as? String)
                let code = String(speech.filter(\.isNumber).prefix(6))
                let spoken = code.map(String.init).joined(separator: ", ")
                #expect(speech == "Your default code is: \(spoken). Again, your code is: \(spoken).")
                let activated = try await api.send(.post, "/v1/users/bob/factors/\(factorID)/activate", json: #"{"code": "\#(code)"}"#)
                #expect(activated.status == 200, "\(activated.text)")

                // A press-a-key call: the gateway is told where the key goes, on TWOFOLD_PUBLIC_URL.
                node.clock.advance(by: 30)
                let approveID = try await Self.createApproveCall(api, user: "bob", location: "Lisbon")
                let approveCall = try await gateway.waitForRequests(to: "/voice", count: 2)[1]
                #expect(receiver.verify(approveCall) == .valid)
                let approvePost = try #require(approveCall.json())
                #expect(Set(approvePost.keys) == ["type", "challenge_id", "to", "mode", "prompt", "callback_url", "digits_callback_url"])
                #expect(approvePost["mode"] as? String == "press_key")
                #expect(approvePost["challenge_id"] as? String == approveID)
                #expect(approvePost["to"] as? String == Self.phone)
                #expect(approvePost["prompt"] as? String
                    == "This is default. Someone is signing in to your account from Lisbon. Press 1 to approve. If this was not you, press 9 to deny and report it.")
                #expect(approvePost["digits_callback_url"] as? String == "\(Self.publicURL)/v1/callbacks/webhook/\(approveID)/digits")
                #expect(approvePost["callback_url"] as? String == "\(Self.publicURL)/v1/callbacks/webhook/\(approveID)/status")
                _ = try await node.waitForDelivery(approveID)

                // 1 approves.
                let one = #"{"challenge_id": "\#(approveID)", "status": "completed", "digits": "1"}"#
                let pressedOne = try await api.callback("webhook", approveID, "digits", body: one,
                                                        headers: ["Twofold-Signature": receiver.sign(one, at: node.unixNow)])
                #expect(pressedOne.status == 200, "\(pressedOne.text)")
                let approved = try await api.send(.get, "/v1/challenges/\(approveID)")
                #expect(approved.json["status"] as? String == "approved", "\(approved.text)")
                #expect(approved.json["reason"] is NSNull)
                #expect(approved.json["mode"] as? String == "approve")

                // 9 denies, as fraud, and is counted.
                node.clock.advance(by: 30)
                let denyID = try await Self.createApproveCall(api, user: "bob", location: nil)
                _ = try await gateway.waitForRequests(to: "/voice", count: 3)
                _ = try await node.waitForDelivery(denyID)
                let before = try await api.send(.get, "/metrics", authorized: false)
                #expect(!before.text.contains("twofold_fraud_reports_total{"), "\(before.text)")
                let nine = #"{"challenge_id": "\#(denyID)", "status": "completed", "digits": "9"}"#
                let pressedNine = try await api.callback("webhook", denyID, "digits", body: nine,
                                                         headers: ["Twofold-Signature": receiver.sign(nine, at: node.unixNow)])
                #expect(pressedNine.status == 200, "\(pressedNine.text)")
                let denied = try await api.send(.get, "/v1/challenges/\(denyID)")
                #expect(denied.json["status"] as? String == "denied", "\(denied.text)")
                #expect(denied.json["reason"] as? String == "fraud")
                let metrics = try await api.send(.get, "/metrics", authorized: false)
                #expect(metrics.status == 200)
                #expect(metrics.lines.contains(#"twofold_fraud_reports_total{channel="voice"} 1"#), "\(metrics.text)")
                // The first call is still approved: the key of one call moves only its challenge.
                #expect(try await api.send(.get, "/v1/challenges/\(approveID)").json["status"] as? String == "approved")
                return [code]
            }
        }
    }

    // MARK: - 3. A provider down

    @Test("webhook,console with the gateway answering 500: the console delivers after the webhook's retries")
    func failoverToConsole() async throws {
        let receiver = WebhookReceiver(secret: Self.secret)
        try await LoopbackGateway.with(respond: { _, _ in .json(500, #"{"error": "internal"}"#) }) { gateway, url in
            try await ChallengeNode.with(environment: [
                "TWOFOLD_SMS_PROVIDERS": "webhook,console",
                "TWOFOLD_SMS_WEBHOOK_URL": url + "/sms",
                "TWOFOLD_WEBHOOK_SECRET": Self.secret,
            ]) { node in
                let api = node.api
                let enrolled = try await api.send(.post, "/v1/users/carol/factors", json: #"{"type": "sms", "phone": "\#(Self.phone)"}"#)
                try #require(enrolled.status == 201, "\(enrolled.text)")
                let challengeID = try #require((enrolled.json["challenge"] as? [String: Any])?["challenge_id"] as? String)
                let delivery = try await node.waitForDelivery(challengeID, timeout: .seconds(8))
                #expect(delivery["provider"] == "console")
                #expect(delivery["status"] == "sent")
                let shown = try await api.send(.get, "/v1/challenges/\(challengeID)")
                #expect(shown.json["status"] as? String == "pending")
                #expect(shown.json["reason"] is NSNull)

                // The webhook was tried once and retried, each time signed, with one idempotency key.
                let attempts = gateway.requests(to: "/sms")
                #expect(attempts.count == 1 + OutboundHTTP.Policy().maxRetries)
                for attempt in attempts {
                    #expect(receiver.verify(attempt) == .valid)
                    #expect(attempt.headers["idempotency-key"] == challengeID)
                    #expect(attempt.body == attempts[0].body)
                }
                let code = try Self.checkSMSPost(attempts[0], challengeID: challengeID, provider: "webhook")
                let metrics = try await api.send(.get, "/metrics", authorized: false)
                #expect(metrics.lines.contains { $0.hasPrefix("twofold_challenge_sends_total{") && $0.contains(#"provider="webhook""#)
                        && $0.contains(#"outcome="provider_error""#) && $0.hasSuffix(" 1") }, "\(metrics.text)")
                #expect(metrics.lines.contains { $0.hasPrefix("twofold_challenge_sends_total{") && $0.contains(#"provider="console""#)
                        && $0.contains(#"outcome="sent""#) && $0.hasSuffix(" 1") }, "\(metrics.text)")
                return [code]
            }
        }
    }

    @Test("webhook only, the gateway failing slowly: the challenge ends failed; a TOTP verify meanwhile answers at once")
    func onlyProviderDown() async throws {
        // The gateway holds every post until the test opens the gate, then refuses it: the
        // delivery is failing, not yet failed, for as long as the TOTP work below takes.
        let gate = Gate()
        try await LoopbackGateway.with(respond: { _, _ in
            await gate.wait()
            return .json(500, #"{"error": "internal"}"#)
        }) { gateway, url in
            try await ChallengeNode.with(environment: [
                "TWOFOLD_SMS_PROVIDERS": "webhook",
                "TWOFOLD_SMS_WEBHOOK_URL": url + "/sms",
                "TWOFOLD_WEBHOOK_SECRET": Self.secret,
            ]) { node in
                let api = node.api
                let enrolled = try await api.send(.post, "/v1/users/dave/factors", json: #"{"type": "sms", "phone": "\#(Self.phone)"}"#)
                try #require(enrolled.status == 201, "\(enrolled.text)")
                let challengeID = try #require((enrolled.json["challenge"] as? [String: Any])?["challenge_id"] as? String)
                // Another user's TOTP, enrolled, activated and verified while the gateway holds the delivery.
                let totp = try await api.send(.post, "/v1/users/erin/factors", json: #"{"type": "totp"}"#)
                try #require(totp.status == 201, "\(totp.text)")
                let totpID = try #require((totp.json["factor"] as? [String: Any])?["id"] as? String)
                let generator = try TOTP(secret: OTPSecret(base32: try #require(totp.json["secret"] as? String)))
                let activation = try generator.code(at: node.unixSeconds)
                let activated = try await api.send(.post, "/v1/users/erin/factors/\(totpID)/activate", json: #"{"code": "\#(activation)"}"#)
                #expect(activated.status == 200, "\(activated.text)")
                node.clock.advance(by: 30)
                let verifyStarted = ContinuousClock.now
                let verified = try await api.send(.post, "/v1/users/erin/verify", json: #"{"code": "\#(try generator.code(at: node.unixSeconds))"}"#)
                let verifyTook = ContinuousClock.now - verifyStarted
                #expect(verified.status == 200, "\(verified.text)")
                #expect(verified.json["result"] as? String == "allow")
                #expect(verified.json["factor_type"] as? String == "totp")
                // The gate opens only after this: a verify that waited for the delivery would not
                // answer at all. The bound only catches one stuck behind something else for long
                // (a loaded CI machine runs a verify in well under a second, at worst a few).
                #expect(verifyTook < .seconds(20), "the TOTP verify took \(verifyTook)")
                // The delivery was in flight all along: its post reached the gateway, which holds it.
                #expect(!gateway.requests(to: "/sms").isEmpty)
                await gate.open()

                let started = ContinuousClock.now
                var answered = try await api.send(.get, "/v1/challenges/\(challengeID)?wait=30")
                while answered.json["status"] as? String == "pending", ContinuousClock.now - started < .seconds(90) {
                    answered = try await api.send(.get, "/v1/challenges/\(challengeID)?wait=30")
                }
                let waited = ContinuousClock.now - started
                #expect(answered.status == 200, "\(answered.text)")
                #expect(answered.json["status"] as? String == "failed")
                #expect(answered.json["reason"] as? String == "provider_error")
                #expect(answered.json["delivery"] is NSNull)
                #expect(waited < .seconds(60), "the poll answered after \(waited)")
                // The first post, then the retries (a post held past its timeout may be retried
                // before the gate opens, so the retries are counted, not their order).
                let attempts = gateway.requests(to: "/sms")
                #expect((1...(1 + OutboundHTTP.Policy().maxRetries)).contains(attempts.count))
                return try attempts.prefix(1).map { try Self.checkSMSPost($0, challengeID: challengeID, provider: "webhook") }
            }
        }
    }

    // MARK: - 4. Twilio

    @Test("Twilio: the REST call, then a signed 'undelivered' callback moves the challenge on to the webhook, whose failure ends it")
    func twilioThenWebhook() async throws {
        let twilio = TwilioREST(accountSID: Self.accountSID, authToken: Self.authToken)
        let receiver = WebhookReceiver(secret: Self.secret)
        try await LoopbackGateway.with(respond: { request, index in
            if request.path.hasPrefix("/2010-04-01/") { return twilio.answer(request) }
            return receiver.verify(request) == .valid ? .json(200, #"{"id": "gw-\#(index)"}"#) : .json(401, #"{"error": "provider_error"}"#)
        }) { gateway, url in
            try await ChallengeNode.with(environment: Self.twilioEnvironment(url)) { node in
                let api = node.api
                let enrolled = try await api.send(.post, "/v1/users/frank/factors", json: #"{"type": "sms", "phone": "\#(Self.phone)"}"#)
                try #require(enrolled.status == 201, "\(enrolled.text)")
                let factorID = try #require((enrolled.json["factor"] as? [String: Any])?["id"] as? String)
                let confirmationID = try #require((enrolled.json["challenge"] as? [String: Any])?["challenge_id"] as? String)

                let message = try await gateway.waitForRequests(to: twilio.messagesPath, count: 1)[0]
                let code = try Self.checkTwilioMessage(message, challengeID: confirmationID)
                var delivery = try await node.waitForDelivery(confirmationID)
                #expect(delivery["provider"] == "twilio")
                #expect(delivery["status"] == "queued")

                // Unsigned and wrongly signed callbacks: 401, nothing changes.
                let undelivered = Self.twilioStatus("undelivered", errorCode: "30003")
                let unsigned = try await api.twilioCallback(confirmationID, undelivered, signature: nil)
                #expect(unsigned.status == 401, "\(unsigned.text)")
                let wrongToken = TwilioRequestSignature(authToken: "not-the-token")
                    .signature(url: Self.callbackURL("twilio", confirmationID), parameters: undelivered)
                let forged = try await api.twilioCallback(confirmationID, undelivered, signature: wrongToken)
                #expect(forged.status == 401, "\(forged.text)")
                #expect(try await api.send(.get, "/v1/challenges/\(confirmationID)").delivery == ["provider": "twilio", "status": "queued"])
                #expect(gateway.requests(to: "/sms").isEmpty)

                // Signed over the public URL and the sorted parameters: the next provider takes it.
                let moved = try await api.twilioCallback(confirmationID, undelivered, signature: Self.twilioSignature(confirmationID, undelivered))
                #expect(moved.status == 200, "\(moved.text)")
                delivery = try await node.waitForDelivery(confirmationID) { $0["provider"] == "webhook" }
                #expect(delivery["status"] == "sent")
                let relayed = try await gateway.waitForRequests(to: "/sms", count: 1)[0]
                #expect(receiver.verify(relayed) == .valid)
                #expect(try Self.checkSMSPost(relayed, challengeID: confirmationID, provider: "webhook") == code)
                #expect(try await api.send(.get, "/v1/challenges/\(confirmationID)").json["status"] as? String == "pending")

                // The code that went out twice activates the factor.
                let activated = try await api.send(.post, "/v1/users/frank/factors/\(factorID)/activate", json: #"{"code": "\#(code)"}"#)
                #expect(activated.status == 200, "\(activated.text)")

                // A login challenge: Twilio fails it, the webhook too: no provider is left.
                node.clock.advance(by: 30)
                let created = try await api.send(.post, "/v1/users/frank/challenges", json: #"{"type": "sms"}"#)
                try #require(created.status == 202, "\(created.text)")
                let challengeID = try #require(created.json["challenge_id"] as? String)
                let second = try await gateway.waitForRequests(to: twilio.messagesPath, count: 2)[1]
                let loginCode = try Self.checkTwilioMessage(second, challengeID: challengeID)
                _ = try await node.waitForDelivery(challengeID)
                let failedOver = try await api.twilioCallback(challengeID, undelivered, signature: Self.twilioSignature(challengeID, undelivered))
                #expect(failedOver.status == 200, "\(failedOver.text)")
                _ = try await node.waitForDelivery(challengeID) { $0["provider"] == "webhook" }
                let webhookFailure = #"{"challenge_id": "\#(challengeID)", "status": "failed", "reason": "unreachable"}"#
                let reported = try await api.callback("webhook", challengeID, "status", body: webhookFailure,
                                                      headers: ["Twofold-Signature": receiver.sign(webhookFailure, at: node.unixNow)])
                #expect(reported.status == 200, "\(reported.text)")
                let ended = try await api.send(.get, "/v1/challenges/\(challengeID)?wait=5")
                #expect(ended.json["status"] as? String == "failed", "\(ended.text)")
                #expect(ended.json["reason"] as? String == "unreachable")
                #expect(gateway.requests(to: twilio.messagesPath).count == 2)
                #expect(gateway.requests(to: "/sms").count == 2)
                return [code, loginCode]
            }
        }
    }

    @Test("Twilio: a status callback Twilio sends again after the challenge moved on does not fail the next provider's delivery")
    func twilioCallbackAfterFailover() async throws {
        let twilio = TwilioREST(accountSID: Self.accountSID, authToken: Self.authToken)
        let receiver = WebhookReceiver(secret: Self.secret)
        try await LoopbackGateway.with(respond: { request, index in
            if request.path.hasPrefix("/2010-04-01/") { return twilio.answer(request) }
            return receiver.verify(request) == .valid ? .json(200, #"{"id": "gw-\#(index)"}"#) : .json(401, #"{"error": "provider_error"}"#)
        }) { gateway, url in
            try await ChallengeNode.with(environment: Self.twilioEnvironment(url)) { node in
                let api = node.api
                let enrolled = try await api.send(.post, "/v1/users/grace/factors", json: #"{"type": "sms", "phone": "\#(Self.phone)"}"#)
                try #require(enrolled.status == 201, "\(enrolled.text)")
                let challengeID = try #require((enrolled.json["challenge"] as? [String: Any])?["challenge_id"] as? String)
                let message = try await gateway.waitForRequests(to: twilio.messagesPath, count: 1)[0]
                let code = try Self.checkTwilioMessage(message, challengeID: challengeID)
                _ = try await node.waitForDelivery(challengeID)
                let undelivered = Self.twilioStatus("undelivered", errorCode: "30003")
                let signature = Self.twilioSignature(challengeID, undelivered)
                let first = try await api.twilioCallback(challengeID, undelivered, signature: signature)
                #expect(first.status == 200, "\(first.text)")
                _ = try await node.waitForDelivery(challengeID) { $0["provider"] == "webhook" }
                _ = try await gateway.waitForRequests(to: "/sms", count: 1)

                // Twilio retries a callback whose answer it did not get; this one is about Twilio's
                // message (its MessageSid), not about what the webhook provider now delivers.
                let again = try await api.twilioCallback(challengeID, undelivered, signature: signature)
                #expect(again.status == 200 || again.status == 401, "\(again.text)")
                let shown = try await api.send(.get, "/v1/challenges/\(challengeID)")
                // The repeat is about Twilio's message, which is over: it changes nothing.
                #expect(shown.json["status"] as? String == "pending", "\(shown.text)")
                #expect(shown.delivery == ["provider": "webhook", "status": "sent"])
                return [code]
            }
        }
    }

    // MARK: - Helpers

    /// Holds callers until opened; open for good after.
    actor Gate {
        private var isOpen = false
        private var waiting: [CheckedContinuation<Void, Never>] = []

        func wait() async {
            guard !isOpen else { return }
            await withCheckedContinuation { waiting.append($0) }
        }

        func open() {
            isOpen = true
            waiting.forEach { $0.resume() }
            waiting = []
        }
    }

    static func twilioEnvironment(_ url: String) -> [String: String] {
        [
            "TWOFOLD_SMS_PROVIDERS": "twilio,webhook",
            "TWOFOLD_TWILIO_ACCOUNT_SID": accountSID,
            "TWOFOLD_TWILIO_AUTH_TOKEN": authToken,
            "TWOFOLD_TWILIO_FROM": twilioFrom,
            "TWOFOLD_TWILIO_BASE_URL": url,
            "TWOFOLD_SMS_WEBHOOK_URL": url + "/sms",
            "TWOFOLD_WEBHOOK_SECRET": secret,
        ]
    }

    static func callbackURL(_ provider: String, _ challengeID: String, _ kind: String = "status") -> String {
        "\(publicURL)/v1/callbacks/\(provider)/\(challengeID)/\(kind)"
    }

    static func twilioStatus(_ status: String, errorCode: String) -> [(String, String)] {
        [("AccountSid", accountSID), ("MessageSid", TwilioREST.messageSID), ("MessageStatus", status), ("ErrorCode", errorCode)]
    }

    /// `X-Twilio-Signature` for a callback to the challenge's status URL, as Twilio computes it;
    /// checked against an independent computation (HMAC-SHA1 over the URL and the sorted pairs).
    static func twilioSignature(_ challengeID: String, _ parameters: [(String, String)]) -> String {
        let url = callbackURL("twilio", challengeID)
        let signature = TwilioRequestSignature(authToken: authToken).signature(url: url, parameters: parameters)
        let text = url + parameters.sorted { $0.0 < $1.0 }.map { $0.0 + $0.1 }.joined()
        let independent = Data(HMAC<Insecure.SHA1>.authenticationCode(for: Data(text.utf8), using: SymmetricKey(data: Data(authToken.utf8))))
            .base64EncodedString()
        #expect(signature == independent)
        return signature
    }

    /// Checks one webhook SMS post and returns the code it carries.
    static func checkSMSPost(_ request: GatewayRequest, challengeID: String, provider: String,
                             sourceLocation: SourceLocation = #_sourceLocation) throws -> String {
        let posted = try #require(request.json(), "\(request.text)", sourceLocation: sourceLocation)
        #expect(Set(posted.keys) == ["type", "challenge_id", "to", "body", "callback_url"], sourceLocation: sourceLocation)
        #expect(posted["type"] as? String == "sms", sourceLocation: sourceLocation)
        #expect(posted["to"] as? String == phone, sourceLocation: sourceLocation)
        #expect(posted["challenge_id"] as? String == challengeID, sourceLocation: sourceLocation)
        #expect(posted["callback_url"] as? String == callbackURL(provider, challengeID), sourceLocation: sourceLocation)
        #expect(request.headers["idempotency-key"] == challengeID, sourceLocation: sourceLocation)
        let body = try #require(posted["body"] as? String, sourceLocation: sourceLocation)
        let code = try #require(Self.code(in: body), "\(body)", sourceLocation: sourceLocation)
        #expect(body == "Your default code is \(code). It expires in 5 minutes.", sourceLocation: sourceLocation)
        return code
    }

    /// Checks one request to Twilio's Messages.json and returns the code it carries.
    static func checkTwilioMessage(_ request: GatewayRequest, challengeID: String,
                                   sourceLocation: SourceLocation = #_sourceLocation) throws -> String {
        #expect(request.method == "POST", sourceLocation: sourceLocation)
        #expect(request.headers["authorization"] == "Basic " + Data("\(accountSID):\(authToken)".utf8).base64EncodedString(),
                sourceLocation: sourceLocation)
        let fields = request.form()
        #expect(fields.map(\.0) == ["To", "From", "Body", "StatusCallback"], "\(request.text)", sourceLocation: sourceLocation)
        let values = Dictionary(fields, uniquingKeysWith: { first, _ in first })
        #expect(values["To"] == phone, sourceLocation: sourceLocation)
        #expect(values["From"] == twilioFrom, sourceLocation: sourceLocation)
        #expect(values["StatusCallback"] == callbackURL("twilio", challengeID), sourceLocation: sourceLocation)
        let body = try #require(values["Body"], sourceLocation: sourceLocation)
        let code = try #require(Self.code(in: body), "\(body)", sourceLocation: sourceLocation)
        #expect(body == "Your default code is \(code). It expires in 5 minutes.", sourceLocation: sourceLocation)
        return code
    }

    static func createApproveCall(_ api: TwofoldAPI, user: String, location: String?,
                                  sourceLocation: SourceLocation = #_sourceLocation) async throws -> String {
        let context = location.map { #", "context": {"location": "\#($0)"}"# } ?? ""
        let created = try await api.send(.post, "/v1/users/\(user)/challenges", json: #"{"type": "voice", "mode": "approve"\#(context)}"#)
        try #require(created.status == 202, "\(created.text)", sourceLocation: sourceLocation)
        #expect(created.json["type"] as? String == "voice", sourceLocation: sourceLocation)
        return try #require(created.json["challenge_id"] as? String, sourceLocation: sourceLocation)
    }

    /// The first run of exactly six digits.
    static func code(in text: String) -> String? {
        text.split(whereSeparator: { !$0.isASCII || !$0.isNumber }).first { $0.count == 6 }.map(String.init)
    }
}

// MARK: - The node under test

/// A Twofold node as `twofold serve` runs it: configuration from `TWOFOLD_*` settings, a runtime
/// on a SQLite store in a fresh folder with a fixed clock and captured logs, the initial API key,
/// and the HTTP application, live on a loopback port.
struct ChallengeNode: Sendable {
    let directory: URL
    let clock: FixedClock
    let logs: LogCapture
    let runtime: TwofoldRuntime
    let api: TwofoldAPI

    var unixSeconds: UInt64 { UInt64(clock.now().timeIntervalSince1970) }
    var unixNow: Int64 { Int64(clock.now().timeIntervalSince1970) }

    /// Runs `body` on a new node, then closes it, and checks that no phone number, nor any of the
    /// codes `body` returns, is in the store's files or the logs, both while open and after.
    static func with(environment: [String: String], _ body: @escaping @Sendable (ChallengeNode) async throws -> [String],
                     sourceLocation: SourceLocation = #_sourceLocation) async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("twofold-e2e-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: directory) }
        var settings = environment
        settings["TWOFOLD_DATA_DIR"] = directory.path
        settings["TWOFOLD_PUBLIC_URL"] = ChallengeEndToEndTests.publicURL
        settings["TWOFOLD_LOG_LEVEL"] = "trace"
        let configuration = try TwofoldConfiguration.load(file: nil, environment: settings)
        // Now, to the second: the webhook provider signs with the system's clock, the callbacks
        // are checked against this one.
        let clock = FixedClock(Date(timeIntervalSince1970: Date().timeIntervalSince1970.rounded(.down)))
        let logs = LogCapture()
        let runtime = try await TwofoldRuntime.open(configuration, logger: logs.logger(label: "twofold.runtime"), creating: true, clock: clock)
        var codes: [String] = []
        do {
            let keyFile = try #require(try await runtime.ensureInitialAPIKey())
            let token = try String(contentsOfFile: keyFile, encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines)
            let application = try buildApplication(runtime: runtime, logger: logs.logger(label: "twofold.http"))
            codes = try await application.test(.live) { client in
                let node = ChallengeNode(directory: directory, clock: clock, logs: logs, runtime: runtime,
                                         api: TwofoldAPI(port: try #require(client.port), token: token))
                let codes = try await body(node)
                node.expectNothingInClear(codes: codes, when: "while open", sourceLocation: sourceLocation)
                return codes
            }
        } catch {
            try? await runtime.close()
            throw error
        }
        try await runtime.close()
        let node = ChallengeNode(directory: directory, clock: clock, logs: logs, runtime: runtime, api: TwofoldAPI(port: 0, token: ""))
        node.expectNothingInClear(codes: codes, when: "after close", sourceLocation: sourceLocation)
    }

    /// 5. No full phone number (`+15551234567` nor `5551234567`) and no code that was sent, in
    /// the SQLite file, its WAL and shared memory, or any captured log line.
    func expectNothingInClear(codes: [String], when: String, sourceLocation: SourceLocation) {
        let phone = ChallengeEndToEndTests.phone
        let needles = [phone, String(phone.dropFirst(2))] + codes
        #expect(!codes.isEmpty, "the flow sent codes", sourceLocation: sourceLocation)
        let files = ((try? FileManager.default.contentsOfDirectory(atPath: directory.path)) ?? []).filter { $0.hasPrefix("twofold.sqlite") }
        #expect(files.contains("twofold.sqlite"), "\(files)", sourceLocation: sourceLocation)
        if when == "while open" {
            #expect(files.contains("twofold.sqlite-wal"), "\(files)", sourceLocation: sourceLocation)
        }
        for file in files {
            guard let bytes = FileManager.default.contents(atPath: directory.appendingPathComponent(file).path) else {
                Issue.record("cannot read \(file)", sourceLocation: sourceLocation)
                continue
            }
            for needle in needles {
                #expect(bytes.range(of: Data(needle.utf8)) == nil, "\(file) (\(when)) holds \(needle)", sourceLocation: sourceLocation)
            }
        }
        let lines = logs.lines
        #expect(!lines.isEmpty, sourceLocation: sourceLocation)
        for needle in needles {
            let leaking = lines.filter { $0.text.contains(needle) }.map(\.text)
            #expect(leaking.isEmpty, "logs (\(when)) hold \(needle): \(leaking)", sourceLocation: sourceLocation)
        }
    }

    /// Waits until the challenge shows a delivery (satisfying `accept`), and returns it.
    func waitForDelivery(_ challengeID: String, timeout: Duration = .seconds(5),
                         _ accept: @escaping @Sendable ([String: String]) -> Bool = { _ in true }) async throws -> [String: String] {
        try await waitFor("a delivery of \(challengeID)", timeout: timeout) {
            let shown = try await api.send(.get, "/v1/challenges/\(challengeID)")
            guard shown.status == 200, let delivery = shown.delivery, accept(delivery) else { return nil }
            return delivery
        }
    }
}

/// The HTTP API over loopback, one connection per request (so that a long poll and a verify can
/// run at once).
struct TwofoldAPI: Sendable {
    let port: Int
    let token: String

    struct Reply: Sendable {
        let status: Int
        let headers: HTTPFields
        let text: String

        var json: [String: Any] { ((try? JSONSerialization.jsonObject(with: Data(text.utf8))) as? [String: Any]) ?? [:] }
        var errorCode: String? { (json["error"] as? [String: Any])?["code"] as? String }
        var lines: [String] { text.split(separator: "\n").map(String.init) }
        /// `delivery` as provider and status, nil when it is null.
        var delivery: [String: String]? {
            guard let delivery = json["delivery"] as? [String: Any] else { return nil }
            return delivery.compactMapValues { $0 as? String }
        }
    }

    func send(_ method: HTTPRequest.Method, _ path: String, json: String? = nil, authorized: Bool = true) async throws -> Reply {
        var headers: [String: String] = [:]
        if authorized { headers["Authorization"] = "Bearer \(token)" }
        if json != nil { headers["Content-Type"] = "application/json" }
        return try await raw(method, path, body: json, headers: headers)
    }

    /// A provider's callback: no API key.
    func callback(_ provider: String, _ challengeID: String, _ kind: String, body: String, headers: [String: String]) async throws -> Reply {
        try await raw(.post, "/v1/callbacks/\(provider)/\(challengeID)/\(kind)", body: body,
                      headers: headers.merging(["Content-Type": "application/json"]) { mine, _ in mine })
    }

    func twilioCallback(_ challengeID: String, _ parameters: [(String, String)], signature: String?) async throws -> Reply {
        var allowed = CharacterSet.alphanumerics
        allowed.insert(charactersIn: "-._~")
        let body = parameters.map { "\($0.0)=\($0.1.addingPercentEncoding(withAllowedCharacters: allowed) ?? "")" }.joined(separator: "&")
        var headers = ["Content-Type": "application/x-www-form-urlencoded"]
        if let signature { headers["X-Twilio-Signature"] = signature }
        return try await raw(.post, "/v1/callbacks/twilio/\(challengeID)/status", body: body, headers: headers)
    }

    func raw(_ method: HTTPRequest.Method, _ path: String, body: String?, headers: [String: String]) async throws -> Reply {
        var fields = HTTPFields()
        for (name, value) in headers {
            fields[.init(name)!] = value
        }
        let request = TestClient.Request(path, method: method, authority: "localhost", headers: fields, body: body.map { ByteBuffer(string: $0) })
        let response = try await TestClient.withClient(host: "localhost", port: port, configuration: .init(timeout: .seconds(15))) { client in
            try await client.execute(request)
        }
        return Reply(status: Int(response.status.code), headers: response.headers,
                     text: response.body.map { String(buffer: $0) } ?? "")
    }
}

/// Polls `probe` every 20 ms until it returns a value, for at most `timeout`.
func waitFor<T: Sendable>(_ what: String, timeout: Duration, _ probe: @Sendable () async throws -> T?) async throws -> T {
    let deadline = ContinuousClock.now + timeout
    while true {
        if let value = try await probe() { return value }
        guard ContinuousClock.now < deadline else { throw GatewayError.timedOut(what) }
        try await Task.sleep(for: .milliseconds(20))
    }
}
