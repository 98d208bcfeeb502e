import Crypto
import Foundation
import TwofoldCore

/// The `Twofold-Signature` header of webhook posts and of the gateway's callbacks:
/// `t=<unix seconds>,v1=<hex HMAC-SHA-256 of "<t>.<raw body>">`, keyed with the shared secret.
///
/// The time is signed so that a captured request is good for a few minutes only; several `v1`
/// entries may be sent (while a secret is being changed) and one matching is enough.
public struct WebhookSignature: Sendable {
    public static let headerName = "Twofold-Signature"
    /// How far a signed time may be from now, either way.
    public static let tolerance: TimeInterval = 300

    private let key: SymmetricKey

    public init(secret: String) {
        key = SymmetricKey(data: Data(secret.utf8))
    }

    /// The header value signing `body` at `time` (whole seconds, rounded down).
    public func header(for body: [UInt8], at time: Date) -> String {
        let seconds = Int64(time.timeIntervalSince1970.rounded(.down))
        return "t=\(seconds),v1=\(Hex.encode(mac(body, seconds: seconds)))"
    }

    /// A checked signature: its time and the `v1` that matched.
    struct Verified: Sendable {
        var timestamp: Int64
        var signature: [UInt8]
    }

    /// Checks `header` against `body` and the time.
    ///
    /// - Throws: `unauthorized` for a malformed header, no matching `v1`, or a time more than
    ///   ``tolerance`` seconds from `now`.
    func verify(header: String?, body: [UInt8], now: Date) throws(TwofoldError) -> Verified {
        guard let header, !header.isEmpty else {
            throw TwofoldError(.unauthorized, "the webhook callback has no \(Self.headerName) header")
        }
        var timestamp: Int64?
        var candidates: [[UInt8]] = []
        for part in header.split(separator: ",") {
            let pair = part.trimmingCharacters(in: .whitespaces).split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            guard pair.count == 2 else { throw Self.malformed }
            switch pair[0] {
            case "t":
                guard timestamp == nil, (1...12).contains(pair[1].utf8.count),
                      pair[1].utf8.allSatisfy({ $0 >= UInt8(ascii: "0") && $0 <= UInt8(ascii: "9") }),
                      let value = Int64(pair[1]) else { throw Self.malformed }
                timestamp = value
            case "v1":
                guard pair[1].utf8.count == 64, let bytes = Hex.decode(String(pair[1])) else { throw Self.malformed }
                candidates.append(bytes)
            default:
                continue  // a later scheme (v2, …), ignored as Stripe-style signatures are
            }
        }
        guard let timestamp, !candidates.isEmpty else { throw Self.malformed }
        let expected = mac(body, seconds: timestamp)
        var matched: [UInt8]?
        for candidate in candidates where ConstantTime.equals(candidate, expected) {
            matched = candidate
        }
        guard let matched else {
            throw TwofoldError(.unauthorized, "the webhook callback's \(Self.headerName) does not match its body")
        }
        guard abs(Double(timestamp) - now.timeIntervalSince1970) <= Self.tolerance else {
            throw TwofoldError(.unauthorized, "the webhook callback's \(Self.headerName) is more than \(Int(Self.tolerance)) seconds from now")
        }
        return Verified(timestamp: timestamp, signature: matched)
    }

    private static let malformed = TwofoldError(.unauthorized, "the webhook callback's \(headerName) is not t=<seconds>,v1=<64 hex digits>")

    private func mac(_ body: [UInt8], seconds: Int64) -> [UInt8] {
        var message = Array("\(seconds).".utf8)
        message += body
        return Array(HMAC<SHA256>.authenticationCode(for: message, using: key))
    }
}
