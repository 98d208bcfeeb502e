import Crypto
import Foundation

/// A gateway that checks Twofold's posts as README tells receivers to: read `t` and every `v1`
/// from `Twofold-Signature`, compute HMAC-SHA-256 of `"<t>." + raw body` with the shared secret,
/// compare in constant time, and refuse a `t` more than 300 s from its clock.
struct WebhookFake: Sendable {
    var secret: String
    var now: Date

    enum Verdict: Equatable {
        case valid
        case invalid(String)
    }

    func verify(_ request: RecordedRequest) -> Verdict {
        guard let header = request.headers["twofold-signature"] else { return .invalid("no Twofold-Signature") }
        var timestamp: String?
        var signatures: [String] = []
        for part in header.split(separator: ",") {
            let pair = part.split(separator: "=", maxSplits: 1).map(String.init)
            guard pair.count == 2 else { return .invalid("malformed") }
            if pair[0] == "t" { timestamp = pair[1] }
            if pair[0] == "v1" { signatures.append(pair[1]) }
        }
        guard let timestamp, let seconds = Double(timestamp) else { return .invalid("no t") }
        guard abs(seconds - now.timeIntervalSince1970) <= 300 else { return .invalid("stale") }
        let mac = HMAC<SHA256>.authenticationCode(for: Data("\(timestamp).".utf8) + Data(request.body),
                                                  using: SymmetricKey(data: Data(secret.utf8)))
        let expected = mac.map { String(format: "%02x", $0) }.joined()
        return signatures.contains(expected) ? .valid : .invalid("no v1 matches")
    }

    /// Signs a callback body as a gateway does.
    static func sign(_ body: String, secret: String, at seconds: Int) -> String {
        let mac = HMAC<SHA256>.authenticationCode(for: Data("\(seconds).\(body)".utf8), using: SymmetricKey(data: Data(secret.utf8)))
        return "t=\(seconds),v1=" + mac.map { String(format: "%02x", $0) }.joined()
    }
}
