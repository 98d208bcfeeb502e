import Foundation
import TwofoldCore

/// One signed JSON POST to an operator's endpoint (the SMS and voice gateway, the push relay):
/// `Twofold-Signature` over the body, the challenge id as `Idempotency-Key`, and the answer read
/// as `{"id"}` on success or `{"error": "<failure kind>"}` on refusal.
struct SignedWebhookPost: Sendable {
    let url: String
    let signature: WebhookSignature
    let http: OutboundHTTP
    let clock: any WallClock
    /// The provider's name, for metrics and logs.
    let provider: String
    /// What the endpoint is called in failure messages ("webhook gateway", "push relay").
    let peer: String

    func send(_ bytes: [UInt8], idempotencyKey: ChallengeID) async throws(DeliveryFailure) -> DeliveryReceipt {
        let request = OutboundRequest(
            url: url,
            headers: [
                ("Content-Type", "application/json"),
                ("Accept", "application/json"),
                (WebhookSignature.headerName, signature.header(for: bytes, at: clock.now())),
                ("Idempotency-Key", idempotencyKey.rawValue),
            ],
            body: bytes
        )
        let response = try await http.send(request, provider: provider)
        let answer = try? JSONDecoder().decode(Answer.self, from: Data(response.body))
        switch response.status {
        case 200..<300:
            return DeliveryReceipt(reference: answer?.id, status: "sent")
        case 429:
            throw DeliveryFailure(.rateLimited, "the \(peer) answered HTTP 429")
        case 400..<500:
            if let error = answer?.error, let kind = DeliveryFailure.Kind(rawValue: error) {
                throw DeliveryFailure(kind, "the \(peer) refused it: \(kind.rawValue) (HTTP \(response.status))")
            }
            throw DeliveryFailure(.providerError, "the \(peer) refused the request (HTTP \(response.status))")
        default:
            throw DeliveryFailure(.providerError, "the \(peer) answered HTTP \(response.status)")
        }
    }

    /// What Twofold reads of the answer; anything else in it is ignored.
    private struct Answer: Decodable {
        var id: String?
        var error: String?

        enum CodingKeys: String, CodingKey {
            case id, error
        }

        init(from decoder: any Decoder) throws {
            let container = try decoder.container(keyedBy: CodingKeys.self)
            id = try? container.decodeIfPresent(String.self, forKey: .id)
            error = try? container.decodeIfPresent(String.self, forKey: .error)
        }
    }
}
