import Crypto
import Foundation
import Testing
import TwofoldCore
import TwofoldDelivery
import TwofoldTesting

/// Twofold's Twilio signatures against Twilio's own `RequestValidator` (the `twilio` package on
/// PyPI). Locally these skip with a printed reason when it is missing; with `CI` set they fail.
@Suite("Twilio signatures against Twilio's Python library")
struct TwilioInteropTests {
    static let twilio = ExternalTool.pythonModule("twilio", installHint: "pip install twilio")

    struct Case: Codable {
        var url: String
        var params: [String: String]?
        var body: String?
        var signature: String?
    }

    struct Request: Codable {
        var token: String
        var compute: [Case] = []
        var validate: [Case] = []
    }

    struct Response: Codable {
        var signatures: [String]
        var valid: [Bool]
    }

    static func askTwilio(_ request: Request) async throws -> Response {
        let input = try JSONEncoder().encode(request)
        let result = try await ExternalProcess.run("python3", [TestEnvironment.script("twilio_signature.py")], input: input)
        try #require(result.status == 0, "twilio script failed: \(result.standardError)")
        return try JSONDecoder().decode(Response.self, from: result.stdout)
    }

    /// Parameters Twilio really sends, with characters that need encoding and sorting care.
    static let cases: [(url: String, params: [String: String])] = [
        ("https://twofold.example.com/v1/callbacks/twilio/chl_abcdefghijklmnopqrstuvwxyz?kind=status&x=a%20b",
         ["MessageSid": "SM0123456789abcdef0123456789abcdef", "MessageStatus": "delivered", "To": "+447700900123",
          "AccountSid": Fixtures.accountSID, "ApiVersion": "2010-04-01", "SmsStatus": "delivered"]),
        ("https://twofold.example.com/cb",
         ["Digits": "#", "CallSid": "CAabc", "CallStatus": "in-progress", "FromCity": "SÃO PAULO", "Caller": "+5511 & co=1",
          "a": "lower first?", "B": "upper", "Called": "+15005550006"]),
        ("http://127.0.0.1:8080/v1/callbacks/twilio/chl_x?a=1&a=2", ["CallSid": "CAabc", "CallStatus": "no-answer", "Empty": ""]),
    ]

    @Test("Twilio's validator accepts what Twofold signs")
    func twilioAcceptsTwofold() async throws {
        try Self.twilio.require()
        let signer = TwilioRequestSignature(authToken: Fixtures.authToken)
        var validate = Self.cases.map { url, params in
            Case(url: url, params: params, signature: signer.signature(url: url, parameters: params.map { ($0.key, $0.value) }))
        }
        // A JSON body, signed through bodySHA256 in the URL.
        let body = #"{"CallSid":"CAabc","CallStatus":"completed"}"#
        let hash = SHA256.hash(data: Data(body.utf8)).map { String(format: "%02x", $0) }.joined()
        let url = "https://twofold.example.com/cb?bodySHA256=\(hash)"
        validate.append(Case(url: url, body: body, signature: signer.signature(url: url, parameters: [])))
        // And one Twofold signed for another URL, which Twilio must refuse too.
        validate.append(Case(url: "https://twofold.example.com/other", params: Self.cases[0].params, signature: validate[0].signature))

        let answer = try await Self.askTwilio(Request(token: Fixtures.authToken, validate: validate))
        #expect(answer.valid == Array(repeating: true, count: validate.count - 1) + [false])
    }

    @Test("Twofold accepts what Twilio's library signs, with and without the default port")
    func twofoldAcceptsTwilio() async throws {
        try Self.twilio.require()
        let computed = Self.cases.map { Case(url: $0.url, params: $0.params) }
            + [Case(url: "https://twofold.example.com:443/cb", params: ["CallSid": "CAabc", "CallStatus": "busy"])]
        let answer = try await Self.askTwilio(Request(token: Fixtures.authToken, compute: computed))
        try #require(answer.signatures.count == computed.count)

        let authenticator = TwilioCallbackAuthenticator(authToken: Fixtures.authToken)
        let calledURLs = Self.cases.map(\.url) + ["https://twofold.example.com/cb"]
        for (index, item) in computed.enumerated() {
            let body = Array(item.params!.sorted { $0.key < $1.key }.map { name, value in
                "\(Self.encode(name))=\(Self.encode(value))"
            }.joined(separator: "&").utf8)
            let callback = InboundCallback(provider: "twilio", challengeID: Fixtures.challengeID, url: calledURLs[index], method: "POST",
                                           headers: ["x-twilio-signature": answer.signatures[index]], body: body)
            #expect(throws: Never.self, "case \(index)") { _ = try authenticator.authenticate(callback, now: Date()) }
            // The same signature with one value changed is refused.
            var changed = callback
            changed.body = Array(String(decoding: body, as: UTF8.self).replacingOccurrences(of: "CAabc", with: "CAabd").utf8)
            if changed.body != body {
                #expect(throws: TwofoldError.self) { _ = try authenticator.authenticate(changed, now: Date()) }
            }
        }
    }

    private static func encode(_ text: String) -> String {
        text.addingPercentEncoding(withAllowedCharacters: CharacterSet(charactersIn: "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789")) ?? text
    }
}
