import AsyncHTTPClient
import Crypto
import Foundation
import NIOCore
import NIOHTTP1
import TwofoldCore

/// A push device's side of the device API: activation, then signed requests to list, read and
/// answer the challenges that wait for it. The reference device (`twofold device`) and the
/// tests use it; a phone app speaks the same API.
///
/// Every request but activation carries a fresh ``DeviceRequestSignature``: the server refuses a
/// signature it has seen, so nothing signed is ever sent twice (ECDSA signatures are randomized,
/// so signing again is enough). Requests are not retried: an answer sent twice would be refused
/// the second time, and a poll simply runs again.
///
/// Owns its HTTP client: call ``shutdown()`` once, when done.
public final class DeviceClient: Sendable, CustomStringConvertible {
    /// The server's base URL, without a trailing slash.
    public let serverURL: String
    public let deviceID: DeviceID
    private let key: P256.Signing.PrivateKey
    private let http: HTTPClient

    /// The limit for establishing a connection.
    public static let connectTimeout: Duration = .seconds(5)
    /// The limit for one request, from sending it to the last byte of the answer.
    public static let requestTimeout: Duration = .seconds(15)
    /// The largest answer read; a larger one is a bad answer.
    public static let maximumResponseBytes = 1 << 20

    /// - Parameters:
    ///   - serverURL: The base URL the activation URI named (``DeviceActivationURI/serverURL``).
    ///   - deviceID: The id the server gave at activation.
    ///   - key: The key whose public half was sent at activation. It signs requests and is
    ///     never sent, logged or printed.
    public init(serverURL: String, deviceID: DeviceID, key: P256.Signing.PrivateKey) {
        var base = serverURL
        while base.hasSuffix("/") { base.removeLast() }
        self.serverURL = base
        self.deviceID = deviceID
        self.key = key
        http = Self.makeHTTPClient()
    }

    /// Closes the connections. Call once; no request may follow.
    public func shutdown() async throws {
        try await http.shutdown()
    }

    /// Names the device and its server, never the key.
    public var description: String { "DeviceClient(\(deviceID) at \(serverURL))" }

    // MARK: - The device API

    /// Activates a device: sends the one-time token and `key`'s public half, asking to poll.
    /// - Returns: The device's id, which names it in every later request.
    /// - Throws: ``Failure``: `unreachable`, `refused` with the server's message (a used or
    ///   expired token, say), or `bad_answer`.
    public static func activate(uri: DeviceActivationURI, key: P256.Signing.PrivateKey) async throws(Failure) -> DeviceID {
        let http = makeHTTPClient()
        let request = ActivationRequest(token: uri.token, publicKey: key.publicKey.derRepresentation.base64EncodedString(),
                                        transport: .init(type: PushTransportKind.polling.rawValue))
        let result: Result<DeviceID, Failure>
        do {
            let body = try encode(request)
            let response = try await exchange(http, serverURL: uri.serverURL, method: .POST, path: "/v1/devices/activate",
                                              body: body, headers: [("Content-Type", "application/json")])
            let answer: ActivationAnswer = try decodeAnswer(response, to: "the activation", method: .POST, path: "/v1/devices/activate")
            result = .success(answer.deviceID)
        } catch {
            result = .failure(error)
        }
        // A client that cannot be shut down leaks only connections the process drops on exit;
        // the activation's outcome is what the caller needs.
        try? await http.shutdown()
        return try result.get()
    }

    /// The challenges waiting for this device's answer.
    /// - Throws: ``Failure``.
    public func pending() async throws(Failure) -> [Challenge] {
        let path = "/v1/devices/\(deviceID)/challenges"
        let list: ChallengeList = try Self.decodeAnswer(try await signed(.GET, path), to: "the request", method: .GET, path: path)
        return list.challenges
    }

    /// One challenge of this device, final or not.
    /// - Throws: ``Failure``; `refused` with status 404 for a challenge the device does not know.
    public func challenge(_ id: ChallengeID) async throws(Failure) -> Challenge {
        let path = "/v1/devices/\(deviceID)/challenges/\(id)"
        return try Self.decodeAnswer(try await signed(.GET, path), to: "the request", method: .GET, path: path)
    }

    /// Approves or denies a challenge.
    /// - Parameters:
    ///   - number: The number the sign-in screen shows, when the challenge asks for one.
    ///   - fraud: With `deny`: the user did not try to sign in. The server then suspends push
    ///     challenges for this device for a while.
    /// - Returns: How the challenge ended: an approval with a wrong number ends `denied`
    ///   (`wrong_number`).
    /// - Throws: ``Failure``; `refused` with status 409 (`invalid_state`) when the challenge no
    ///   longer waits, 404 when the device does not know it.
    public func answer(_ id: ChallengeID, decision: Decision, number: Int? = nil, fraud: Bool = false) async throws(Failure) -> Answer {
        let path = "/v1/devices/\(deviceID)/challenges/\(id)"
        let body = try Self.encode(AnswerRequest(decision: decision, number: number, fraud: fraud ? true : nil))
        return try Self.decodeAnswer(try await signed(.POST, path, body: body), to: "the answer", method: .POST, path: path)
    }

    // MARK: - Types

    /// A challenge as the device API shows it.
    public struct Challenge: Sendable, Equatable, Codable {
        public var id: ChallengeID
        /// `pending`, or how it ended (`approved`, `denied`, `expired`, …).
        public var status: String
        /// Why it ended as it did, when the server says (`wrong_number`, `declined`, `fraud`).
        public var reason: String?
        /// The application (tenant) the sign-in is for.
        public var appName: String
        /// What the application said about the sign-in: address, browser, place, its own name.
        public var context: ChallengeContext
        public var createdAt: Date
        public var expiresAt: Date
        /// Whether approving needs the number shown on the sign-in screen.
        public var numberRequired: Bool

        public init(id: ChallengeID, status: String, reason: String? = nil, appName: String, context: ChallengeContext,
                    createdAt: Date, expiresAt: Date, numberRequired: Bool) {
            self.id = id
            self.status = status
            self.reason = reason
            self.appName = appName
            self.context = context
            self.createdAt = createdAt
            self.expiresAt = expiresAt
            self.numberRequired = numberRequired
        }

        enum CodingKeys: String, CodingKey {
            case id = "challenge_id"
            case status
            case reason
            case appName = "app_name"
            case context
            case createdAt = "created_at"
            case expiresAt = "expires_at"
            case numberRequired = "number_required"
        }

        public init(from decoder: any Decoder) throws {
            let container = try decoder.container(keyedBy: CodingKeys.self)
            id = try container.decode(ChallengeID.self, forKey: .id)
            status = try container.decode(String.self, forKey: .status)
            reason = try container.decodeIfPresent(String.self, forKey: .reason)
            appName = try container.decode(String.self, forKey: .appName)
            context = try container.decodeIfPresent(ChallengeContext.self, forKey: .context) ?? ChallengeContext()
            createdAt = try container.decode(Date.self, forKey: .createdAt)
            expiresAt = try container.decode(Date.self, forKey: .expiresAt)
            numberRequired = try container.decodeIfPresent(Bool.self, forKey: .numberRequired) ?? false
        }
    }

    /// What the user decided.
    public enum Decision: String, Sendable, Codable, CaseIterable {
        case approve
        case deny
    }

    /// How an answered challenge ended.
    public struct Answer: Sendable, Equatable, Codable {
        /// `approved` or `denied`.
        public var status: String
        /// Why it was denied: `wrong_number`, `declined` or `fraud`; `nil` when approved.
        public var reason: String?

        public init(status: String, reason: String?) {
            self.status = status
            self.reason = reason
        }
    }

    /// Why a device request failed: a stable ``code`` and a message a user can act on.
    public struct Failure: Error, Sendable, Equatable, CustomStringConvertible {
        public struct Code: RawRepresentable, Hashable, Sendable, CustomStringConvertible {
            public let rawValue: String
            public init(rawValue: String) { self.rawValue = rawValue }
            public var description: String { rawValue }

            /// The activation URI is malformed.
            public static let invalidURI = Code(rawValue: "invalid_uri")
            /// No answer: the connection failed or the server took too long.
            public static let unreachable = Code(rawValue: "unreachable")
            /// The server answered with an error (4xx, 5xx); ``Failure/serverMessage`` says why.
            public static let refused = Code(rawValue: "refused")
            /// The server answered with something that is not the device API: a redirect, a body
            /// too large, JSON of another shape.
            public static let badAnswer = Code(rawValue: "bad_answer")
        }

        public let code: Code
        public let message: String
        /// For `refused`: the HTTP status.
        public let status: Int?
        /// For `refused`: the server's error code (`invalid_state`, `not_found`, …), if it sent one.
        public let serverCode: String?
        /// For `refused`: the server's message, if it sent one.
        public let serverMessage: String?

        public init(_ code: Code, _ message: String, status: Int? = nil, serverCode: String? = nil, serverMessage: String? = nil) {
            self.code = code
            self.message = message
            self.status = status
            self.serverCode = serverCode
            self.serverMessage = serverMessage
        }

        public var description: String { message }
    }

    // MARK: - Wire

    private struct ActivationRequest: Encodable {
        struct Transport: Encodable {
            let type: String
        }

        let token: String
        let publicKey: String
        let transport: Transport

        enum CodingKeys: String, CodingKey {
            case token
            case publicKey = "public_key"
            case transport
        }
    }

    private struct ActivationAnswer: Decodable {
        let deviceID: DeviceID

        enum CodingKeys: String, CodingKey {
            case deviceID = "device_id"
        }
    }

    private struct ChallengeList: Decodable {
        let challenges: [Challenge]
    }

    private struct AnswerRequest: Encodable {
        let decision: Decision
        let number: Int?
        let fraud: Bool?
    }

    private struct ErrorAnswer: Decodable {
        struct Detail: Decodable {
            let code: String?
            let message: String?
        }

        let error: Detail
    }

    private struct Response {
        let status: Int
        let location: String?
        let body: [UInt8]
    }

    /// Sends a request signed now: a new signature every time, as the server remembers them.
    private func signed(_ method: HTTPMethod, _ path: String, body: [UInt8] = []) async throws(Failure) -> Response {
        let signature: (timestamp: String, signature: String)
        do {
            signature = try DeviceRequestSignature.sign(method: method.rawValue, path: path, body: body, at: Date(), with: key)
        } catch {
            throw Failure(.badAnswer, "cannot sign the request with the device's key")
        }
        var headers = [(DeviceRequestSignature.timestampHeader, signature.timestamp),
                       (DeviceRequestSignature.signatureHeader, signature.signature)]
        if method == .POST { headers.append(("Content-Type", "application/json")) }
        return try await Self.exchange(http, serverURL: serverURL, method: method, path: path, body: method == .GET ? nil : body,
                                       headers: headers)
    }

    private static func makeHTTPClient() -> HTTPClient {
        var configuration = HTTPClient.Configuration(
            redirectConfiguration: .disallow,
            timeout: .init(connect: timeAmount(connectTimeout), read: timeAmount(requestTimeout)),
            decompression: .disabled
        )
        // A refused connection is reported at once rather than retried until the deadline.
        configuration.connectionPool.retryConnectionEstablishment = false
        return HTTPClient(eventLoopGroup: HTTPClient.defaultEventLoopGroup, configuration: configuration)
    }

    /// One request and its whole answer within ``requestTimeout``: the client's deadline, and
    /// behind it a timer of our own that also bounds reading the body.
    private static func exchange(_ http: HTTPClient, serverURL: String, method: HTTPMethod, path: String, body: [UInt8]?,
                                 headers: [(String, String)]) async throws(Failure) -> Response {
        let outcome = await withTaskGroup(of: Result<Response, Failure>?.self) { group in
            group.addTask { await attempt(http, serverURL: serverURL, method: method, path: path, body: body, headers: headers) }
            group.addTask {
                try? await Task.sleep(for: requestTimeout + .milliseconds(500))
                return nil
            }
            let first = await group.next() ?? nil
            group.cancelAll()
            return first
        }
        guard let outcome else {
            throw Failure(.unreachable, "the Twofold server at \(serverURL) did not answer within \(seconds(requestTimeout)) s")
        }
        return try outcome.get()
    }

    private static func attempt(_ http: HTTPClient, serverURL: String, method: HTTPMethod, path: String, body: [UInt8]?,
                                headers: [(String, String)]) async -> Result<Response, Failure> {
        var request = HTTPClientRequest(url: serverURL + path)
        request.method = method
        request.headers.add(name: "Accept", value: "application/json")
        request.headers.add(name: "User-Agent", value: "twofold-device")
        for (name, value) in headers { request.headers.add(name: name, value: value) }
        if let body { request.body = .bytes(body) }
        do {
            let response = try await http.execute(request, deadline: .now() + timeAmount(requestTimeout))
            var buffer = try await response.body.collect(upTo: maximumResponseBytes)
            return .success(Response(status: Int(response.status.code), location: response.headers.first(name: "Location"),
                                     body: buffer.readBytes(length: buffer.readableBytes) ?? []))
        } catch {
            return .failure(failure(for: error, serverURL: serverURL))
        }
    }

    /// Transport errors as failures a user can act on.
    static func failure(for error: any Error, serverURL: String) -> Failure {
        if error is NIOTooManyBytesError {
            return Failure(.badAnswer, "the answer of \(serverURL) is larger than \(maximumResponseBytes / 1024) KiB: it is not a Twofold server")
        }
        if let error = error as? HTTPClientError {
            if [.deadlineExceeded, .readTimeout, .writeTimeout].contains(error) {
                return Failure(.unreachable, "the Twofold server at \(serverURL) did not answer within \(seconds(requestTimeout)) s")
            }
            if [.connectTimeout, .getConnectionFromPoolTimeout].contains(error) {
                return Failure(.unreachable, "cannot reach the Twofold server at \(serverURL): no connection within \(seconds(connectTimeout)) s")
            }
            if [.invalidURL, .emptyHost, .emptyScheme].contains(error) || error.shortDescription == "Unsupported scheme" {
                return Failure(.unreachable, "cannot reach the Twofold server: \(serverURL) is not a usable URL")
            }
            return Failure(.unreachable, "cannot reach the Twofold server at \(serverURL) (\(error.shortDescription))")
        }
        if error is CancellationError {
            return Failure(.unreachable, "the request to \(serverURL) was cancelled")
        }
        return Failure(.unreachable, "cannot reach the Twofold server at \(serverURL) (\(describe(error)))")
    }

    /// A connection error's own words (`Connection refused (errno: 111)`), without the
    /// type dump Swift's default description adds.
    private static func describe(_ error: any Error) -> String {
        let text = String(describing: error)
        return text.count <= 200 ? text : String(describing: type(of: error))
    }

    /// The body of a 2xx answer as `T`; anything else as a failure naming what was refused.
    private static func decodeAnswer<T: Decodable>(_ response: Response, to what: String, method: HTTPMethod,
                                                   path: String) throws(Failure) -> T {
        switch response.status {
        case 200..<300:
            do {
                return try decoder.decode(T.self, from: Data(response.body))
            } catch {
                throw Failure(.badAnswer, "the answer to \(method.rawValue) \(path) is not the device API's JSON (\(decodingSummary(error)))")
            }
        case 300..<400:
            let target = response.location.map { " to \($0)" } ?? ""
            throw Failure(.badAnswer, """
                the server answered \(method.rawValue) \(path) with a redirect (HTTP \(response.status))\(target); \
                device requests are not redirected: use the server's final URL
                """)
        default:
            let detail = try? decoder.decode(ErrorAnswer.self, from: Data(response.body)).error
            let message = detail?.message.map { String($0.prefix(1000)) }
            let code = detail?.code.map { String($0.prefix(100)) }
            let reason = message ?? "HTTP \(response.status) without a Twofold error"
            throw Failure(.refused, "the server refused \(what): \(reason)", status: response.status, serverCode: code,
                          serverMessage: message)
        }
    }

    private static func decodingSummary(_ error: any Error) -> String {
        guard let error = error as? DecodingError else { return "unreadable" }
        switch error {
        case .keyNotFound(let key, _): return "no \(key.stringValue)"
        case .typeMismatch(_, let context), .valueNotFound(_, let context), .dataCorrupted(let context):
            let path = context.codingPath.map(\.stringValue).joined(separator: ".")
            return path.isEmpty ? "not JSON" : "bad \(path)"
        @unknown default: return "unreadable"
        }
    }

    private static func encode(_ value: some Encodable) throws(Failure) -> [UInt8] {
        do {
            return Array(try TwofoldJSON.makeEncoder().encode(value))
        } catch {
            throw Failure(.badAnswer, "cannot encode the request")
        }
    }

    /// Reads the API's times: RFC 3339, with or without fractional seconds.
    private static let decoder: JSONDecoder = {
        let decoder = JSONDecoder()
        decoder.dateDecodingStrategy = .custom { decoder in
            let container = try decoder.singleValueContainer()
            let text = try container.decode(String.self)
            if let date = try? Date.ISO8601FormatStyle(includingFractionalSeconds: true).parse(text) { return date }
            if let date = try? Date.ISO8601FormatStyle().parse(text) { return date }
            throw DecodingError.dataCorruptedError(in: container, debugDescription: "not an RFC 3339 time")
        }
        return decoder
    }()

    private static func timeAmount(_ duration: Duration) -> TimeAmount {
        let (seconds, attoseconds) = duration.components
        return .nanoseconds(seconds * 1_000_000_000 + attoseconds / 1_000_000_000)
    }

    private static func seconds(_ duration: Duration) -> Int64 {
        duration.components.seconds
    }
}
