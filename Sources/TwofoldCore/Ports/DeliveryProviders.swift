import Foundation

/// Sends text messages. Implementations live in `TwofoldDelivery`; none reports success
/// without having handed the message to someone who delivers it.
public protocol SMSProvider: Sendable {
    /// The name in configuration and metrics (`twilio`, `webhook`, `console`).
    var name: String { get }
    func send(_ message: SMSMessage) async throws(DeliveryFailure) -> DeliveryReceipt
}

/// Places calls that read a code or ask for a key press.
public protocol VoiceProvider: Sendable {
    var name: String { get }
    func call(_ call: VoiceCall) async throws(DeliveryFailure) -> DeliveryReceipt
}

public struct SMSMessage: Sendable, Equatable {
    public var challengeID: ChallengeID
    public var to: PhoneNumber
    public var body: String
    /// Where the provider reports delivery (signed), when it reports at all.
    public var statusCallback: URL?

    public init(challengeID: ChallengeID, to: PhoneNumber, body: String, statusCallback: URL?) {
        self.challengeID = challengeID
        self.to = to
        self.body = body
        self.statusCallback = statusCallback
    }
}

public struct VoiceCall: Sendable, Equatable {
    public enum Script: Sendable, Equatable {
        /// Say `speech` (which reads the code) and hang up.
        case say(speech: String)
        /// Say `prompt`, gather one digit and send it to `digitsCallback`.
        case pressKey(prompt: String, digitsCallback: URL)
    }

    public var challengeID: ChallengeID
    public var to: PhoneNumber
    public var script: Script
    public var statusCallback: URL?

    public init(challengeID: ChallengeID, to: PhoneNumber, script: Script, statusCallback: URL?) {
        self.challengeID = challengeID
        self.to = to
        self.script = script
        self.statusCallback = statusCallback
    }
}

/// A provider took the message or call.
public struct DeliveryReceipt: Sendable, Equatable {
    /// The provider's id for it (Twilio's SID), matched against its callbacks.
    public var reference: String?
    /// The provider's status word (`queued`, `sent`, …).
    public var status: String

    public init(reference: String?, status: String) {
        self.reference = reference
        self.status = status
    }
}

/// A provider did not take the message or call.
public struct DeliveryFailure: Error, Sendable, Equatable, CustomStringConvertible {
    public enum Kind: String, Sendable, Equatable {
        case invalidNumber = "invalid_number"
        case optedOut = "opted_out"
        case unreachable
        case blocked
        case rateLimited = "rate_limited"
        case providerError = "provider_error"
        case timeout
    }

    public var kind: Kind
    /// Safe to log: never the number or the message text.
    public var message: String

    public init(_ kind: Kind, _ message: String) {
        self.kind = kind
        self.message = message
    }

    /// Whether another provider could not do better: the number itself is refused.
    public var isFinal: Bool { kind == .invalidNumber || kind == .optedOut }

    /// The reason a challenge ends with when this is the last failure.
    public var challengeReason: ChallengeReason {
        switch kind {
        case .invalidNumber: .invalidNumber
        case .optedOut, .blocked: .blocked
        case .unreachable: .unreachable
        case .rateLimited: .rateLimited
        case .providerError, .timeout: .providerError
        }
    }

    public var description: String { "\(kind.rawValue): \(message)" }
}

/// A request a provider made to Twofold's callback URL, as received.
public struct InboundCallback: Sendable {
    /// The provider named in the path.
    public var provider: String
    public var challengeID: ChallengeID
    /// The full URL as the provider called it, on the configured public URL.
    public var url: String
    public var method: String
    /// Header names lower-cased.
    public var headers: [String: String]
    public var body: [UInt8]

    public init(provider: String, challengeID: ChallengeID, url: String, method: String, headers: [String: String], body: [UInt8]) {
        self.provider = provider
        self.challengeID = challengeID
        self.url = url
        self.method = method
        self.headers = headers
        self.body = body
    }
}

/// What an authenticated callback reports.
public enum DeliveryReport: Sendable, Equatable {
    /// A delivery status: `delivered`, `sent`, `completed` move nothing; `failed` moves the
    /// challenge to the next provider or ends it.
    case status(reference: String?, status: String, failure: DeliveryFailure?)
    /// The call ended without a key being pressed (`no-answer`, `busy`, `failed`, hung up).
    case callEnded(reference: String?, status: String, reason: ChallengeReason)
    /// The user pressed `digit` on a press-a-key call.
    case pressed(digit: String)
}

/// Checks and reads a provider's callbacks: the signature first, then the body.
public protocol CallbackAuthenticator: Sendable {
    var provider: String { get }
    /// - Throws: `unauthorized` for a missing, wrong, stale or replayed signature;
    ///   `invalid_request` for a signed body that is not a report.
    func authenticate(_ callback: InboundCallback, now: Date) throws(TwofoldError) -> DeliveryReport
    /// The answer to an authenticated callback, once Twofold has applied its report.
    func reply(to report: DeliveryReport) -> CallbackReply
}

/// What Twofold answers a provider's callback with: some providers expect a document back
/// (Twilio reads TwiML from the answer to gathered digits).
public struct CallbackReply: Sendable, Equatable {
    public var contentType: String
    public var body: String

    public init(contentType: String, body: String) {
        self.contentType = contentType
        self.body = body
    }

    public static let empty = CallbackReply(contentType: "text/plain; charset=utf-8", body: "")
}
