import TwofoldCore

/// Twilio's numbered errors (https://www.twilio.com/docs/api/errors) as delivery failures.
///
/// Twilio's own messages are not kept: they often quote the phone number. A failure says the
/// code and what it means instead.
enum TwilioErrorCode {
    /// The kind and a short explanation for `code`, or `nil` for one not listed here.
    static func classify(_ code: Int) -> (kind: DeliveryFailure.Kind, meaning: String)? {
        switch code {
        case 21211, 21217, 21401, 21614, 30005, 30006, 13224:
            (.invalidNumber, "the number is not a valid phone number for this channel")
        case 21610:
            (.optedOut, "the recipient has opted out (replied STOP)")
        case 21612, 30003:
            (.unreachable, "Twilio cannot route to this number")
        case 21408, 21215, 21216, 21219, 13227, 30004, 30007, 30032, 30034:
            (.blocked, "the account may not send to this number (region not enabled, unverified or filtered)")
        case 20429, 14107, 21611, 30022:
            (.rateLimited, "Twilio's rate limit was reached")
        case 20003, 20005, 20008:
            (.providerError, "Twilio refused the credentials (TWOFOLD_TWILIO_ACCOUNT_SID, TWOFOLD_TWILIO_AUTH_TOKEN)")
        case 21212, 21606, 21659, 21703, 21704, 21705, 21210:
            (.providerError, "Twilio refused the sender (TWOFOLD_TWILIO_FROM or TWOFOLD_TWILIO_MESSAGING_SERVICE_SID)")
        default:
            nil
        }
    }

    /// The failure for an error answer to a REST call.
    ///
    /// - Parameters:
    ///   - status: the HTTP status.
    ///   - code: the `code` of the JSON error body, when there was one.
    static func failure(status: Int, code: Int?) -> DeliveryFailure {
        let label = code.map { "Twilio error \($0) (HTTP \(status))" } ?? "Twilio answered HTTP \(status)"
        if let code, let (kind, meaning) = classify(code) {
            return DeliveryFailure(kind, "\(label): \(meaning)")
        }
        switch status {
        case 401, 403:
            return DeliveryFailure(.providerError, "\(label): Twilio refused the credentials (TWOFOLD_TWILIO_ACCOUNT_SID, TWOFOLD_TWILIO_AUTH_TOKEN)")
        case 429:
            return DeliveryFailure(.rateLimited, "\(label): Twilio's rate limit was reached")
        case 500..<600:
            return DeliveryFailure(.providerError, "\(label): Twilio failed")
        default:
            return DeliveryFailure(.providerError, "\(label): Twilio refused the request")
        }
    }

    /// The failure a status callback reports with `ErrorCode` (a failed or undelivered message).
    static func callbackFailure(status: String, code: Int?) -> DeliveryFailure {
        let label = code.map { "Twilio reported \(status), error \($0)" } ?? "Twilio reported \(status)"
        if let code, let (kind, meaning) = classify(code) {
            return DeliveryFailure(kind, "\(label): \(meaning)")
        }
        return DeliveryFailure(.providerError, label)
    }
}
