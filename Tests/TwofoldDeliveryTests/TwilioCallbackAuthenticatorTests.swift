import Crypto
import Foundation
import Testing
import TwofoldCore
import TwofoldDelivery

@Suite("Twilio callbacks: X-Twilio-Signature and the reports they carry")
struct TwilioCallbackAuthenticatorTests {
    static let url = "https://twofold.example.com/v1/callbacks/twilio/chl_abcdefghijklmnopqrstuvwxyz?kind=status"
    static let authenticator = TwilioCallbackAuthenticator(authToken: Fixtures.authToken)
    static let signer = TwilioRequestSignature(authToken: Fixtures.authToken)
    static let now = Date(timeIntervalSince1970: 1_700_000_000)

    static let delivered: [(String, String)] = [
        ("AccountSid", Fixtures.accountSID), ("MessageSid", "SM0123456789abcdef0123456789abcdef"),
        ("MessageStatus", "delivered"), ("To", "+447700900123"), ("ApiVersion", "2010-04-01"),
    ]

    /// A form body encoded independently of Twofold's encoder.
    static func form(_ parameters: [(String, String)]) -> [UInt8] {
        var allowed = CharacterSet.alphanumerics
        allowed.insert(charactersIn: "-._*")
        let text = parameters.map { name, value in
            let encode = { (text: String) in
                text.unicodeScalars.map { allowed.contains($0) && $0.isASCII ? String($0) : ($0 == " " ? "+" : String($0).utf8.map { String(format: "%%%02X", $0) }.joined()) }.joined()
            }
            return encode(name) + "=" + encode(value)
        }.joined(separator: "&")
        return Array(text.utf8)
    }

    static func callback(url: String = url, signature: String?, body: [UInt8]) -> InboundCallback {
        var headers = ["content-type": "application/x-www-form-urlencoded"]
        headers["x-twilio-signature"] = signature
        return InboundCallback(provider: "twilio", challengeID: Fixtures.challengeID, url: url, method: "POST", headers: headers, body: body)
    }

    static func signed(_ parameters: [(String, String)], url: String = url, signedURL: String? = nil) -> InboundCallback {
        callback(url: url, signature: signer.signature(url: signedURL ?? url, parameters: parameters), body: form(parameters))
    }

    static func outcome(_ callback: InboundCallback) -> Result<DeliveryReport, TwofoldError> {
        do {
            return .success(try authenticator.authenticate(callback, now: now))
        } catch {
            return .failure(error)
        }
    }

    static func errorCode(_ callback: InboundCallback) -> TwofoldError.Code? {
        if case .failure(let error) = outcome(callback) { return error.code }
        return nil
    }

    @Test("computes the signature of Twilio's documented example")
    func documentedExample() {
        let signer = TwilioRequestSignature(authToken: "12345")
        let signature = signer.signature(url: "https://mycompany.com/myapp.php?foo=1&bar=2", parameters: [
            ("From", "+12349013030"), ("CallSid", "CA1234567890ABCDE"), ("To", "+18005551212"),
            ("Caller", "+12349013030"), ("Digits", "1234"),
        ])
        #expect(signature == "0/KCTR6DLpKmkAf8muzZqo1nDgQ=")
    }

    @Test("accepts a correctly signed status callback")
    func acceptsValid() throws {
        let report = try Self.authenticator.authenticate(Self.signed(Self.delivered), now: Self.now)
        #expect(report == .status(reference: "SM0123456789abcdef0123456789abcdef", status: "delivered", failure: nil))
        #expect(Self.authenticator.provider == "twilio")
    }

    @Test("refuses a callback whose body was changed after signing")
    func refusesTamperedBody() {
        var callback = Self.signed(Self.delivered)
        callback.body = Self.form(Self.delivered.map { $0.0 == "MessageStatus" ? ($0.0, "failed") : $0 })
        #expect(Self.errorCode(callback) == .unauthorized)
        callback.body = Self.form(Self.delivered + [("Extra", "1")])
        #expect(Self.errorCode(callback) == .unauthorized)
    }

    @Test("refuses a signature made for another URL", arguments: [
        "https://twofold.example.com/v1/callbacks/twilio/chl_zzzzzzzzzzzzzzzzzzzzzzzzzz?kind=status",
        "https://twofold.example.com/v1/callbacks/twilio/chl_abcdefghijklmnopqrstuvwxyz?kind=digits",
        "https://twofold.example.com/v1/callbacks/twilio/chl_abcdefghijklmnopqrstuvwxyz",
        "http://twofold.example.com/v1/callbacks/twilio/chl_abcdefghijklmnopqrstuvwxyz?kind=status",
        "https://twofold.example.com:8443/v1/callbacks/twilio/chl_abcdefghijklmnopqrstuvwxyz?kind=status",
    ])
    func refusesWrongURL(signedURL: String) {
        #expect(Self.errorCode(Self.signed(Self.delivered, signedURL: signedURL)) == .unauthorized)
    }

    @Test("refuses a callback without a signature, or with a wrong one")
    func refusesMissingSignature() {
        let body = Self.form(Self.delivered)
        #expect(Self.errorCode(Self.callback(signature: nil, body: body)) == .unauthorized)
        #expect(Self.errorCode(Self.callback(signature: "", body: body)) == .unauthorized)
        #expect(Self.errorCode(Self.callback(signature: "not base64!", body: body)) == .unauthorized)
        let other = TwilioRequestSignature(authToken: "another token").signature(url: Self.url, parameters: Self.delivered)
        #expect(Self.errorCode(Self.callback(signature: other, body: body)) == .unauthorized)
    }

    @Test("accepts the URL with or without its default port, either way round", arguments: [
        ("https://twofold.example.com/cb?x=1", "https://twofold.example.com:443/cb?x=1"),
        ("https://twofold.example.com:443/cb?x=1", "https://twofold.example.com/cb?x=1"),
        ("http://127.0.0.1/cb", "http://127.0.0.1:80/cb"),
        ("http://[::1]:80/cb", "http://[::1]/cb"),
    ])
    func defaultPortForms(called: String, signed: String) {
        #expect(Self.errorCode(Self.signed(Self.delivered, url: called, signedURL: signed)) == nil)
    }

    @Test("does not drop a port that is not the default")
    func keepsOtherPorts() {
        #expect(Self.errorCode(Self.signed(Self.delivered, url: "https://twofold.example.com:8443/cb", signedURL: "https://twofold.example.com/cb")) == .unauthorized)
        #expect(Self.errorCode(Self.signed(Self.delivered, url: "https://twofold.example.com/cb", signedURL: "https://twofold.example.com:80/cb")) == .unauthorized)
    }

    @Test("accepts a JSON body signed through bodySHA256 and refuses one that does not match it")
    func bodySHA256() throws {
        let body = Array(#"{"CallSid":"CA0123456789abcdef0123456789abcdef","CallStatus":"no-answer"}"#.utf8)
        let hash = SHA256.hash(data: body).map { String(format: "%02x", $0) }.joined()
        let url = "https://twofold.example.com/v1/callbacks/twilio/chl_abcdefghijklmnopqrstuvwxyz?bodySHA256=\(hash)"
        let signature = Self.signer.signature(url: url, parameters: [])
        var callback = Self.callback(url: url, signature: signature, body: body)
        callback.headers["content-type"] = "application/json"
        #expect(try Self.authenticator.authenticate(callback, now: Self.now)
            == .callEnded(reference: "CA0123456789abcdef0123456789abcdef", status: "no-answer", reason: .noAnswer))

        var changed = callback
        changed.body = Array(#"{"CallSid":"CA0123456789abcdef0123456789abcdef","CallStatus":"completed"}"#.utf8)
        #expect(Self.errorCode(changed) == .unauthorized)

        // A body hash swapped in the URL breaks the signature, which covers the URL.
        let otherHash = SHA256.hash(data: changed.body).map { String(format: "%02x", $0) }.joined()
        changed.url = url.replacingOccurrences(of: hash, with: otherHash)
        #expect(Self.errorCode(changed) == .unauthorized)
    }

    @Test("refuses a body that is not a form: its signature cannot be checked")
    func refusesMalformedForm() {
        for body in ["MessageStatus=%zz", "MessageStatus", "=x", "a=%C3%28"] {
            let callback = Self.callback(signature: Self.signer.signature(url: Self.url, parameters: []), body: Array(body.utf8))
            #expect(Self.errorCode(callback) == .unauthorized, "\(body)")
        }
    }

    @Test("reads message statuses; failures carry the kind of their error code", arguments: [
        ("queued", nil, nil), ("accepted", nil, nil), ("sending", nil, nil), ("sent", nil, nil), ("delivered", nil, nil),
        ("undelivered", "30003", DeliveryFailure.Kind.unreachable), ("failed", "21211", .invalidNumber),
        ("failed", "21610", .optedOut), ("undelivered", "30007", .blocked), ("failed", "30008", .providerError),
        ("failed", nil, .providerError),
    ] as [(String, String?, DeliveryFailure.Kind?)])
    func messageStatuses(status: String, errorCode: String?, kind: DeliveryFailure.Kind?) throws {
        var parameters = [("MessageSid", "SMabc"), ("MessageStatus", status)]
        if let errorCode { parameters.append(("ErrorCode", errorCode)) }
        let report = try Self.authenticator.authenticate(Self.signed(parameters), now: Self.now)
        guard case .status(let reference, let reported, let failure) = report else {
            Issue.record("not a status: \(report)")
            return
        }
        #expect(reference == "SMabc")
        #expect(reported == status)
        #expect(failure?.kind == kind)
    }

    @Test("reads call statuses; busy, no-answer, failed and canceled end the call", arguments: [
        ("queued", nil), ("ringing", nil), ("in-progress", nil), ("completed", nil),
        ("busy", ChallengeReason.busy), ("no-answer", .noAnswer), ("failed", .providerError), ("canceled", .providerError),
    ] as [(String, ChallengeReason?)])
    func callStatuses(status: String, reason: ChallengeReason?) throws {
        let report = try Self.authenticator.authenticate(Self.signed([("CallSid", "CAabc"), ("CallStatus", status)]), now: Self.now)
        if let reason {
            #expect(report == .callEnded(reference: "CAabc", status: status, reason: reason))
        } else {
            #expect(report == .status(reference: "CAabc", status: status, failure: nil))
        }
    }

    @Test("reads one pressed key", arguments: ["0", "1", "9", "*", "#"])
    func pressedKey(digit: String) throws {
        let report = try Self.authenticator.authenticate(Self.signed([("CallSid", "CAabc"), ("CallStatus", "in-progress"), ("Digits", digit)]), now: Self.now)
        #expect(report == .pressed(digit: digit))
    }

    @Test("signed nonsense is an invalid request", arguments: [
        [("CallSid", "CAabc"), ("Digits", "12")], [("Digits", "")], [("Digits", "a")], [("Digits", "٣")],
        [("MessageSid", "SMabc"), ("MessageStatus", "exploded")], [("CallSid", "CAabc"), ("CallStatus", "on-fire")],
        [("MessageStatus", "delivered")], [("AccountSid", Fixtures.accountSID)], [],
        [("MessageSid", "SMabc"), ("MessageStatus", "failed"), ("ErrorCode", "x1")],
        [("MessageSid", "SMabc"), ("MessageSid", "SMdef"), ("MessageStatus", "sent")],
    ])
    func signedNonsense(parameters: [(String, String)]) {
        #expect(Self.errorCode(Self.signed(parameters)) == .invalidRequest)
    }

    @Test("answers a key press with TwiML that thanks and hangs up, anything else with nothing")
    func replies() throws {
        let reply = Self.authenticator.reply(to: .pressed(digit: "1"))
        #expect(reply.contentType == "application/xml")
        let twiml = try #require(XMLTree.parse(reply.body))
        #expect(twiml.name == "Response")
        #expect(twiml.children.map(\.name) == ["Say", "Hangup"])
        #expect(twiml.children[0].text.lowercased().contains("thank you"))
        #expect(Self.authenticator.reply(to: .status(reference: "SM", status: "sent", failure: nil)) == .empty)
        #expect(Self.authenticator.reply(to: .callEnded(reference: "CA", status: "busy", reason: .busy)) == .empty)
    }
}
