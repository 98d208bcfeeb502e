import Foundation
import Synchronization
import TwofoldCore

/// A provider for tests of the challenge machinery: it delivers to an inbox the test reads
/// (as a phone would show it), or fails as scripted. It is a test double, never configured in
/// a deployment.
public final class RecordingProvider: SMSProvider, VoiceProvider, Sendable {
    /// What reached the "phone".
    public struct Delivered: Sendable, Equatable {
        public var challengeID: ChallengeID
        public var to: PhoneNumber
        /// The SMS text, or what the call says.
        public var text: String
        public var digitsCallback: URL?
        public var statusCallback: URL?
    }

    public let name: String
    private let state = Mutex(State())

    private struct State {
        var inbox: [Delivered] = []
        var failures: [DeliveryFailure] = []
        var attempts = 0
        var delay: Duration = .zero
    }

    public init(name: String) {
        self.name = name
    }

    /// The next sends fail with these, in order; later ones succeed.
    public func failNext(_ failures: DeliveryFailure...) {
        state.withLock { $0.failures.append(contentsOf: failures) }
    }

    /// Every send waits this long first.
    public func delay(by duration: Duration) {
        state.withLock { $0.delay = duration }
    }

    public var inbox: [Delivered] { state.withLock { $0.inbox } }
    /// Sends tried, failed ones included.
    public var attempts: Int { state.withLock { $0.attempts } }

    /// The six-digit code in the last message to `number`.
    public func lastCode(to number: String) -> String? {
        guard let text = state.withLock({ $0.inbox.last { $0.to.e164 == number }?.text }) else { return nil }
        let digits = text.filter(\.isNumber)
        return digits.count >= 6 ? String(digits.prefix(6)) : nil
    }

    public func send(_ message: SMSMessage) async throws(DeliveryFailure) -> DeliveryReceipt {
        try await take(Delivered(challengeID: message.challengeID, to: message.to, text: message.body, statusCallback: message.statusCallback))
    }

    public func call(_ call: VoiceCall) async throws(DeliveryFailure) -> DeliveryReceipt {
        switch call.script {
        case .say(let speech):
            try await take(Delivered(challengeID: call.challengeID, to: call.to, text: speech, statusCallback: call.statusCallback))
        case .pressKey(let prompt, let callback):
            try await take(Delivered(challengeID: call.challengeID, to: call.to, text: prompt, digitsCallback: callback,
                                     statusCallback: call.statusCallback))
        }
    }

    private func take(_ delivered: Delivered) async throws(DeliveryFailure) -> DeliveryReceipt {
        let delay = state.withLock { $0.delay }
        if delay > .zero {
            try? await Task.sleep(for: delay)
            if Task.isCancelled { throw DeliveryFailure(.timeout, "cancelled while waiting") }
        }
        let failure = state.withLock { state -> DeliveryFailure? in
            state.attempts += 1
            return state.failures.isEmpty ? nil : state.failures.removeFirst()
        }
        if let failure { throw failure }
        state.withLock { $0.inbox.append(delivered) }
        return DeliveryReceipt(reference: "\(name)-\(delivered.challengeID.rawValue)", status: "sent")
    }
}

/// Callbacks for tests: accepted when the header `x-test-signature` is `valid`; the body is
/// `pressed:<digit>`, `status:<word>`, `failed:<kind>` or `ended:<reason>`.
public struct ScriptedCallbackAuthenticator: CallbackAuthenticator {
    public let provider: String

    public init(provider: String) {
        self.provider = provider
    }

    public func authenticate(_ callback: InboundCallback, now: Date) throws(TwofoldError) -> DeliveryReport {
        guard callback.headers["x-test-signature"] == "valid" else { throw TwofoldError(.unauthorized, "bad test signature") }
        let text = String(decoding: callback.body, as: UTF8.self)
        let parts = text.split(separator: ":", maxSplits: 1).map(String.init)
        guard parts.count == 2 else { throw TwofoldError(.invalidRequest, "not a test report") }
        switch parts[0] {
        case "pressed": return .pressed(digit: parts[1])
        case "status": return .status(reference: nil, status: parts[1], failure: nil)
        case "failed":
            guard let kind = DeliveryFailure.Kind(rawValue: parts[1]) else { throw TwofoldError(.invalidRequest, "unknown failure") }
            return .status(reference: nil, status: "failed", failure: DeliveryFailure(kind, "reported failed"))
        case "ended": return .callEnded(reference: nil, status: parts[1], reason: ChallengeReason(rawValue: parts[1]))
        default: throw TwofoldError(.invalidRequest, "not a test report")
        }
    }

    public func reply(to report: DeliveryReport) -> CallbackReply { .empty }
}

/// Counts what the challenge machinery reports.
public final class RecordingChallengeObserver: ChallengeObserver, Sendable {
    private let events = Mutex([String]())

    public init() {}

    public var recorded: [String] { events.withLock { $0 } }

    public func delivery(channel: ChallengeType, provider: String, outcome: String, seconds: Double) {
        events.withLock { $0.append("delivery \(channel.rawValue) \(provider) \(outcome)") }
    }

    public func challengeFinished(type: ChallengeType, status: ChallengeStatus) {
        events.withLock { $0.append("finished \(type.rawValue) \(status.rawValue)") }
    }

    public func sendRefused(channel: ChallengeType, limit: String) {
        events.withLock { $0.append("refused \(channel.rawValue) \(limit)") }
    }

    public func fraudReported(channel: ChallengeType) {
        events.withLock { $0.append("fraud \(channel.rawValue)") }
    }
}
