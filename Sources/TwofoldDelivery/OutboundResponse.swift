import Foundation

/// A provider's answer, read in full (bodies are small; a larger one is refused).
public struct OutboundResponse: Sendable, Equatable {
    public var status: Int
    /// Header names lower-cased; a repeated header keeps its first value.
    public var headers: [String: String]
    public var body: [UInt8]

    public init(status: Int, headers: [String: String] = [:], body: [UInt8] = []) {
        self.status = status
        self.headers = headers
        self.body = body
    }

    public var isSuccess: Bool { (200..<300).contains(status) }

    /// Worth another try: the provider is overloaded or failed, not refusing this request.
    public var isRetryable: Bool { status == 429 || (500..<600).contains(status) }

    /// `Retry-After` in delay-seconds form (RFC 9110 §10.2.3); the HTTP-date form is ignored.
    public var retryAfterSeconds: Int? {
        guard let text = headers["retry-after"]?.trimmingCharacters(in: .whitespaces), !text.isEmpty,
              text.utf8.allSatisfy({ $0 >= UInt8(ascii: "0") && $0 <= UInt8(ascii: "9") }) else { return nil }
        return Int(text.prefix(9))
    }
}
