import Foundation
import TwofoldCore

/// Checks the webhook gateway's callbacks: `Twofold-Signature` (as on Twofold's posts),
/// a time within 5 minutes of now, a signature not seen before, then a strict body.
///
/// A gateway signs each attempt anew: a callback resent byte for byte is a replay.
public struct WebhookCallbackAuthenticator: CallbackAuthenticator {
    public var provider: String { "webhook" }

    private let signature: WebhookSignature
    private let replays: WebhookReplayGuard

    /// - Parameters:
    ///   - secret: `TWOFOLD_WEBHOOK_SECRET`.
    ///   - capacity: how many signatures are remembered at once; past it, callbacks are refused
    ///     (`unavailable`) until older ones leave the window.
    /// - Throws: `configuration` for a secret shorter than 32 bytes.
    public init(secret: String, capacity: Int = 100_000) throws(TwofoldError) {
        try WebhookSettings.validateSecret(secret)
        signature = WebhookSignature(secret: secret)
        replays = WebhookReplayGuard(capacity: max(capacity, 1), window: Int64(WebhookSignature.tolerance))
    }

    public func authenticate(_ callback: InboundCallback, now: Date) throws(TwofoldError) -> DeliveryReport {
        let verified = try signature.verify(header: callback.headers[WebhookSignature.headerName.lowercased()], body: callback.body, now: now)
        let report = try Self.report(from: callback.body, challengeID: callback.challengeID)
        switch replays.admit(verified.signature, timestamp: verified.timestamp, now: Int64(now.timeIntervalSince1970.rounded(.down))) {
        case .accepted:
            return report
        case .replayed:
            throw TwofoldError(.unauthorized, "the webhook callback was already received (a replay)")
        case .full:
            throw TwofoldError(.unavailable, "too many webhook callbacks in the last \(Int(WebhookSignature.tolerance)) seconds; try again later")
        }
    }

    public func reply(to report: DeliveryReport) -> CallbackReply {
        .empty
    }

    static let fields: Set<String> = ["challenge_id", "status", "reason", "digits"]

    /// The report in a signed body.
    ///
    /// - Throws: `invalid_request` for a body that is not a JSON object of known string fields,
    ///   another challenge's id, an unknown status or reason, or digits that are not one key.
    static func report(from body: [UInt8], challengeID: ChallengeID) throws(TwofoldError) -> DeliveryReport {
        let object: [String: Any]
        do {
            guard let parsed = try JSONSerialization.jsonObject(with: Data(body)) as? [String: Any] else {
                throw TwofoldError(.invalidRequest, "the webhook callback's body is not a JSON object")
            }
            object = parsed
        } catch let error as TwofoldError {
            throw error
        } catch {
            throw TwofoldError(.invalidRequest, "the webhook callback's body is not JSON")
        }
        let unknown = Set(object.keys).subtracting(fields).sorted()
        guard unknown.isEmpty else {
            throw TwofoldError(.invalidRequest, "the webhook callback has unknown field\(unknown.count == 1 ? "" : "s") \(unknown.joined(separator: ", ")); the fields are challenge_id, status, reason, digits")
        }
        func string(_ name: String, required: Bool) throws(TwofoldError) -> String? {
            switch object[name] {
            case nil where !required, is NSNull where !required: return nil
            case let text as String: return text
            default: throw TwofoldError(.invalidRequest, "the webhook callback's \(name) must be a string")
            }
        }
        guard try string("challenge_id", required: true) == challengeID.rawValue else {
            throw TwofoldError(.invalidRequest, "the webhook callback's challenge_id is not the challenge of its URL")
        }
        let status = try string("status", required: true) ?? ""
        let reason = try string("reason", required: false)
        if let digits = try string("digits", required: false) {
            guard digits.count == 1, let key = digits.first, key.isASCII, key.isNumber || key == "*" || key == "#" else {
                throw TwofoldError(.invalidRequest, "the webhook callback's digits is not one key (0-9, * or #)")
            }
            return .pressed(digit: digits)
        }
        switch status {
        case "delivered", "sent", "completed":
            guard reason == nil else {
                throw TwofoldError(.invalidRequest, "the webhook callback gives a reason for status \(status)")
            }
            return .status(reference: nil, status: status, failure: nil)
        case "failed", "undelivered":
            let kind: DeliveryFailure.Kind
            if let reason {
                guard let known = DeliveryFailure.Kind(rawValue: reason) else {
                    throw TwofoldError(.invalidRequest, "the webhook callback's reason is not one of invalid_number, opted_out, unreachable, blocked, rate_limited, provider_error, timeout")
                }
                kind = known
            } else {
                kind = .providerError
            }
            return .status(reference: nil, status: status, failure: DeliveryFailure(kind, "the webhook gateway reported \(status)"))
        case "no_answer":
            return .callEnded(reference: nil, status: status, reason: .noAnswer)
        case "busy":
            return .callEnded(reference: nil, status: status, reason: .busy)
        default:
            throw TwofoldError(.invalidRequest, "the webhook callback's status is not one of delivered, sent, failed, undelivered, completed, no_answer, busy")
        }
    }
}
