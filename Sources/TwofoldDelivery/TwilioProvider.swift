import Foundation
import TwofoldCore

/// Texts and calls through Twilio's REST API (2010-04-01): `Messages.json` and `Calls.json`,
/// form-encoded, with HTTP basic authentication as the account.
public struct TwilioProvider: SMSProvider, VoiceProvider {
    public var name: String { "twilio" }

    private let settings: TwilioSettings
    private let baseURL: String
    private let http: OutboundHTTP

    /// - Parameters:
    ///   - settings: the account; checked here, so that a provider never runs half-configured.
    ///   - http: the shared outbound client (timeouts, retries, logs).
    /// - Throws: `configuration` naming the wrong setting.
    public init(settings: TwilioSettings, http: OutboundHTTP) throws(TwofoldError) {
        try settings.validate()
        guard let baseURL = settings.normalizedBaseURL else {
            throw TwofoldError(.configuration, "TWOFOLD_TWILIO_BASE_URL is not a usable URL")
        }
        self.settings = settings
        self.baseURL = baseURL
        self.http = http
    }

    public func send(_ message: SMSMessage) async throws(DeliveryFailure) -> DeliveryReceipt {
        var fields = [("To", message.to.e164)]
        if let service = settings.messagingServiceSID {
            fields.append(("MessagingServiceSid", service))
        } else if let from = settings.from {
            fields.append(("From", from))
        }
        fields.append(("Body", message.body))
        if let callback = message.statusCallback {
            fields.append(("StatusCallback", callback.absoluteString))
        }
        return try await post("Messages.json", fields: fields)
    }

    public func call(_ call: VoiceCall) async throws(DeliveryFailure) -> DeliveryReceipt {
        guard let from = settings.from else {
            throw DeliveryFailure(.providerError, "Twilio calls need TWOFOLD_TWILIO_FROM: a Messaging Service places no calls")
        }
        var fields = [("To", call.to.e164), ("From", from), ("Twiml", TwiML.document(for: call.script))]
        if let callback = call.statusCallback {
            fields.append(("StatusCallback", callback.absoluteString))
            fields.append(("StatusCallbackMethod", "POST"))
        }
        return try await post("Calls.json", fields: fields)
    }

    private func post(_ resource: String, fields: [(String, String)]) async throws(DeliveryFailure) -> DeliveryReceipt {
        let credentials = Data("\(settings.accountSID):\(settings.authToken)".utf8).base64EncodedString()
        let request = OutboundRequest(
            url: "\(baseURL)/2010-04-01/Accounts/\(settings.accountSID)/\(resource)",
            headers: [
                ("Authorization", "Basic \(credentials)"),
                ("Content-Type", "application/x-www-form-urlencoded"),
                ("Accept", "application/json"),
            ],
            body: Array(FormURLEncoding.encode(fields).utf8)
        )
        let response = try await http.send(request, provider: name)
        let answer = try? JSONDecoder().decode(Answer.self, from: Data(response.body))
        guard response.isSuccess else {
            throw TwilioErrorCode.failure(status: response.status, code: answer?.code)
        }
        guard let sid = answer?.sid, !sid.isEmpty else {
            throw DeliveryFailure(.providerError, "Twilio answered HTTP \(response.status) without a sid")
        }
        return DeliveryReceipt(reference: sid, status: answer?.status ?? "queued")
    }

    /// The fields Twofold reads from a resource or an error (`{code, message, more_info, status}`).
    private struct Answer: Decodable {
        var sid: String?
        var status: String?
        var code: Int?

        enum CodingKeys: String, CodingKey {
            case sid, status, code
        }

        init(from decoder: any Decoder) throws {
            let container = try decoder.container(keyedBy: CodingKeys.self)
            sid = try? container.decodeIfPresent(String.self, forKey: .sid)
            code = try? container.decodeIfPresent(Int.self, forKey: .code)
            // A resource's status is a word; an error's is the HTTP status as a number.
            status = try? container.decodeIfPresent(String.self, forKey: .status)
        }
    }
}
