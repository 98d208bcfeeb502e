import Crypto
import Foundation
import Hummingbird
import Logging
import NIOCore
import Synchronization

/// A request as a loopback gateway received it.
struct GatewayRequest: Sendable {
    var method: String
    var path: String
    /// Names lower-cased.
    var headers: [String: String]
    var body: [UInt8]

    var text: String { String(decoding: body, as: UTF8.self) }

    /// The body as a JSON object, or nil.
    func json() -> [String: Any]? {
        (try? JSONSerialization.jsonObject(with: Data(body))) as? [String: Any]
    }

    /// The body as form fields, decoded independently of the product (`+` as space, percent).
    func form() -> [(String, String)] {
        text.split(separator: "&").map { pair in
            let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false).map {
                $0.replacingOccurrences(of: "+", with: " ").removingPercentEncoding ?? "<bad encoding>"
            }
            return (parts[0], parts.count > 1 ? parts[1] : "")
        }
    }
}

/// What a loopback gateway answers, after an optional delay.
struct GatewayResponse: Sendable {
    var status: Int
    var headers: [String: String] = [:]
    var body: String = ""
    var delay: Duration?

    static func json(_ status: Int, _ body: String, delay: Duration? = nil) -> GatewayResponse {
        GatewayResponse(status: status, headers: ["Content-Type": "application/json"], body: body, delay: delay)
    }
}

/// A loopback HTTP server (Hummingbird on 127.0.0.1, a port the system picks) that records every
/// POST and answers each with `respond(request, index)`, the index counting from 0.
/// (The approach of `TwofoldDeliveryTests/FakeServer.swift`: test targets cannot share files.)
final class LoopbackGateway: Sendable {
    private let recorded = Mutex<[GatewayRequest]>([])
    private let respond: @Sendable (GatewayRequest, Int) async -> GatewayResponse

    private init(respond: @escaping @Sendable (GatewayRequest, Int) async -> GatewayResponse) {
        self.respond = respond
    }

    var requests: [GatewayRequest] { recorded.withLock { $0 } }

    /// The requests whose path is `path`.
    func requests(to path: String) -> [GatewayRequest] { requests.filter { $0.path == path } }

    /// Waits (at most `timeout`) until `count` requests to `path` arrived; returns them.
    func waitForRequests(to path: String, count: Int, timeout: Duration = .seconds(5)) async throws -> [GatewayRequest] {
        let deadline = ContinuousClock.now + timeout
        while true {
            let received = requests(to: path)
            if received.count >= count { return received }
            guard ContinuousClock.now < deadline else {
                throw GatewayError.timedOut("\(count) request(s) to \(path); got \(received.count)")
            }
            try await Task.sleep(for: .milliseconds(20))
        }
    }

    /// Runs `body` with the server's base URL (`http://127.0.0.1:<port>`), then stops the server.
    static func with<T: Sendable>(
        respond: @escaping @Sendable (GatewayRequest, Int) async -> GatewayResponse,
        _ body: (LoopbackGateway, String) async throws -> T
    ) async throws -> T {
        let gateway = LoopbackGateway(respond: respond)
        let router = Router()
        router.post("**") { request, _ in try await gateway.handle(request) }
        let (ports, portSink) = AsyncStream.makeStream(of: Int.self)
        var logger = Logger(label: "loopback-gateway")
        logger.logLevel = .critical
        let app = Application(
            router: router,
            configuration: ApplicationConfiguration(address: .hostname("127.0.0.1", port: 0), serverName: nil),
            onServerRunning: { channel in
                portSink.yield(channel.localAddress?.port ?? 0)
                portSink.finish()
            },
            logger: logger
        )
        return try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await app.run() }
            var iterator = ports.makeAsyncIterator()
            guard let port = await iterator.next(), port > 0 else {
                group.cancelAll()
                throw GatewayError.didNotStart
            }
            do {
                let result = try await body(gateway, "http://127.0.0.1:\(port)")
                group.cancelAll()
                return result
            } catch {
                group.cancelAll()
                throw error
            }
        }
    }

    private func handle(_ request: Request) async throws -> Response {
        var request = request
        let buffer = try await request.collectBody(upTo: 1 << 20)
        var headers: [String: String] = [:]
        for field in request.headers {
            headers[field.name.canonicalName] = field.value
        }
        let received = GatewayRequest(method: request.method.rawValue, path: request.uri.path, headers: headers,
                                      body: Array(buffer.readableBytesView))
        let index = recorded.withLock { list in
            list.append(received)
            return list.count - 1
        }
        let answer = await respond(received, index)
        if let delay = answer.delay {
            try await Task.sleep(for: delay)
        }
        var fields = HTTPFields()
        for (name, value) in answer.headers {
            fields[.init(name)!] = value
        }
        return Response(status: HTTPResponse.Status(code: answer.status), headers: fields,
                        body: ResponseBody(byteBuffer: ByteBuffer(string: answer.body)))
    }
}

enum GatewayError: Error, CustomStringConvertible {
    case didNotStart
    case timedOut(String)

    var description: String {
        switch self {
        case .didNotStart: "the loopback gateway did not start"
        case .timedOut(let what): "timed out waiting for \(what)"
        }
    }
}

/// What a webhook receiver checks of Twofold's posts, written from the protocol rather than from
/// the product: `Twofold-Signature: t=<unix seconds>,v1=<hex HMAC-SHA-256 of "<t>." + raw body>`
/// keyed with the shared secret, one `v1` matching in constant time, `t` within 300 s of the
/// receiver's own clock; and an `Idempotency-Key` that is the posted challenge id.
struct WebhookReceiver: Sendable {
    var secret: String

    enum Verdict: Equatable, CustomStringConvertible {
        case valid
        case invalid(String)

        var description: String {
            switch self {
            case .valid: "valid"
            case .invalid(let why): "invalid: \(why)"
            }
        }
    }

    func verify(_ request: GatewayRequest, now: Date = Date()) -> Verdict {
        guard request.method == "POST" else { return .invalid("method \(request.method)") }
        guard request.headers["content-type"] == "application/json" else { return .invalid("content type") }
        guard let header = request.headers["twofold-signature"] else { return .invalid("no Twofold-Signature") }
        var timestamp: String?
        var signatures: [String] = []
        for part in header.split(separator: ",") {
            let pair = part.split(separator: "=", maxSplits: 1).map(String.init)
            guard pair.count == 2 else { return .invalid("malformed Twofold-Signature") }
            if pair[0] == "t" { timestamp = pair[1] }
            if pair[0] == "v1" { signatures.append(pair[1]) }
        }
        guard let timestamp, let seconds = Double(timestamp) else { return .invalid("no t") }
        guard abs(seconds - now.timeIntervalSince1970) <= 300 else { return .invalid("t is more than 300 s from now") }
        let expected = Array(HMAC<SHA256>.authenticationCode(for: Array("\(timestamp).".utf8) + request.body,
                                                             using: SymmetricKey(data: Data(secret.utf8))))
        let matches = signatures.contains { candidate in
            guard let bytes = Self.hexBytes(candidate), bytes.count == expected.count else { return false }
            return zip(bytes, expected).reduce(UInt8(0)) { $0 | ($1.0 ^ $1.1) } == 0
        }
        guard matches else { return .invalid("no v1 matches") }
        guard let key = request.headers["idempotency-key"], !key.isEmpty else { return .invalid("no Idempotency-Key") }
        guard let challengeID = request.json()?["challenge_id"] as? String, key == challengeID else {
            return .invalid("Idempotency-Key \(key) is not the posted challenge_id")
        }
        return .valid
    }

    /// A gateway's callback signature over `body`, at `seconds`.
    func sign(_ body: String, at seconds: Int64) -> String {
        let mac = HMAC<SHA256>.authenticationCode(for: Data("\(seconds).\(body)".utf8), using: SymmetricKey(data: Data(secret.utf8)))
        return "t=\(seconds),v1=" + mac.map { String(format: "%02x", $0) }.joined()
    }

    private static func hexBytes(_ text: String) -> [UInt8]? {
        let digits = Array(text.utf8)
        guard digits.count % 2 == 0 else { return nil }
        var bytes: [UInt8] = []
        var index = 0
        while index < digits.count {
            guard let high = nibble(digits[index]), let low = nibble(digits[index + 1]) else { return nil }
            bytes.append(high << 4 | low)
            index += 2
        }
        return bytes
    }

    private static func nibble(_ byte: UInt8) -> UInt8? {
        switch byte {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): byte - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): byte - UInt8(ascii: "a") + 10
        default: nil
        }
    }
}

/// Twilio's REST API as far as Twofold uses it: the path, basic authentication, the content type
/// and the required form fields checked; 201 with a message resource, or Twilio's error body.
struct TwilioREST: Sendable {
    var accountSID: String
    var authToken: String

    static let messageSID = "SM0123456789abcdef0123456789abcdef"

    var messagesPath: String { "/2010-04-01/Accounts/\(accountSID)/Messages.json" }

    func answer(_ request: GatewayRequest) -> GatewayResponse {
        let expected = "Basic " + Data("\(accountSID):\(authToken)".utf8).base64EncodedString()
        guard request.headers["authorization"] == expected else {
            return Self.error(401, code: 20003, message: "Authenticate")
        }
        guard request.headers["content-type"] == "application/x-www-form-urlencoded" else {
            return Self.error(400, code: 20001, message: "wrong content type")
        }
        guard request.path == messagesPath else {
            return Self.error(404, code: 20404, message: "The requested resource was not found")
        }
        let fields = Dictionary(request.form(), uniquingKeysWith: { first, _ in first })
        guard fields["To"] != nil, fields["Body"] != nil, (fields["From"] != nil) != (fields["MessagingServiceSid"] != nil) else {
            return Self.error(400, code: 21604, message: "A 'To', 'Body' and 'From' or 'MessagingServiceSid' are required")
        }
        return .json(201, #"{"sid": "\#(Self.messageSID)", "status": "queued", "body": "…"}"#)
    }

    static func error(_ status: Int, code: Int, message: String) -> GatewayResponse {
        .json(status, #"{"code": \#(code), "message": "\#(message)", "more_info": "https://www.twilio.com/docs/errors/\#(code)", "status": \#(status)}"#)
    }
}
