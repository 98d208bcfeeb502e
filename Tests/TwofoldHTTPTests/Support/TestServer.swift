import Foundation
import Hummingbird
import HummingbirdTesting
import Logging
import Synchronization
import Testing
import TwofoldCore
import TwofoldOTP
import TwofoldTesting
@testable import TwofoldHTTP
import TwofoldServer

/// A Twofold node for one test: a SQLite store in a fresh temporary folder, a fixed clock, the
/// application `default` and a second application `other`, and API keys of every kind.
struct TestServer: Sendable {
    let directory: URL
    let clock: FixedClock
    let runtime: TwofoldRuntime
    let other: TwofoldCore.Application
    let logs: LogCapture
    let metrics: TwofoldMetrics
    let keys: Keys

    struct Keys: Sendable {
        /// `default`, every scope.
        let all: String
        let verify: String
        let enroll: String
        let admin: String
        /// `other`, every scope.
        let otherAll: String
        /// `default`, every scope, revoked.
        let revoked: String
    }

    var services: TwofoldServices { runtime.services }
    var defaultApplication: TwofoldCore.Application { runtime.defaultApplication }

    /// Runs `body` against a new node, removing it afterwards.
    static func with<T>(
        policy: VerificationPolicy = VerificationPolicy(),
        _ body: (TestServer) async throws -> T
    ) async throws -> T {
        let server = try await TestServer(policy: policy)
        do {
            let result = try await body(server)
            try await server.close()
            return result
        } catch {
            try? await server.close()
            throw error
        }
    }

    init(policy: VerificationPolicy) async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("twofold-http-\(UUID().uuidString)")
        let clock = FixedClock(Date(timeIntervalSince1970: 1_700_000_000))
        let logs = LogCapture()
        let configuration = TwofoldConfiguration(
            store: .sqlite(path: directory.appendingPathComponent("twofold.sqlite").path),
            dataDirectory: directory.path,
            sqliteDurability: .normal,
            policy: policy)
        var opened: TwofoldRuntime?
        do {
            let runtime = try await TwofoldRuntime.open(configuration, logger: logs.logger(label: "twofold.test"), creating: true, clock: clock)
            opened = runtime
            let services = runtime.services
            let other = try await services.applications.createApplication(named: "other", actor: "test")
            let app = runtime.defaultApplication.id
            func key(_ application: ApplicationID, _ scopes: Set<APIKeyScope>) async throws -> CreatedAPIKey {
                try await services.apiKeys.createAPIKey(application, scopes: scopes, actor: "test")
            }
            let revoked = try await key(app, Set(APIKeyScope.allCases))
            try await services.apiKeys.revokeAPIKey(id: revoked.record.id, actor: "test")
            keys = Keys(
                all: try await key(app, Set(APIKeyScope.allCases)).token,
                verify: try await key(app, [.verify]).token,
                enroll: try await key(app, [.enroll]).token,
                admin: try await key(app, [.admin]).token,
                otherAll: try await key(other.id, Set(APIKeyScope.allCases)).token,
                revoked: revoked.token)
            self.other = other
            self.runtime = runtime
        } catch {
            // A node that failed to start leaves nothing behind either.
            try? await opened?.close()
            try? FileManager.default.removeItem(at: directory)
            throw error
        }
        self.directory = directory
        self.clock = clock
        self.logs = logs
        metrics = TwofoldMetrics()
    }

    func close() async throws {
        // A test may have closed the store already.
        try? await runtime.close()
        try? FileManager.default.removeItem(at: directory)
    }

    /// The application as `twofold serve` builds it, logging into ``logs``.
    func application() throws -> some ApplicationProtocol {
        try buildApplication(runtime: runtime, logger: logs.logger(label: "twofold.http"), metrics: metrics)
    }

    /// Runs `body` with a client that sends requests straight to the router.
    func test<T: Sendable>(_ body: @Sendable (APIClient) async throws -> T) async throws -> T {
        try await application().test(.router) { client in
            try await body(APIClient(client: client))
        }
    }

    /// The current TOTP code of an enrollment's URI at the fixed clock's time.
    func totpCode(_ uri: String, offsetSteps: Int = 0) throws -> String {
        let totp = try OTPAuthURI(parsing: uri).makeTOTP()
        let now = UInt64(clock.now().timeIntervalSince1970)
        let step = try totp.step(at: now)
        return totp.code(step: UInt64(Int(step) + offsetSteps))
    }

    /// An enrolled and activated TOTP factor of `user` in `default`, via the API.
    func enrollActiveTOTP(_ client: APIClient, user: String) async throws -> (factorID: String, uri: String) {
        let enrolled = try await client.send(.post, "/v1/users/\(user)/factors", key: keys.all, json: ["type": "totp"])
        try #require(enrolled.status == .created)
        let factorID = try #require(enrolled.json["factor"]?["id"]?.string)
        let uri = try #require(enrolled.json["otpauth_uri"]?.string)
        let activated = try await client.send(.post, "/v1/users/\(user)/factors/\(factorID)/activate", key: keys.all,
                                              json: ["code": .string(try totpCode(uri))])
        try #require(activated.status == .ok)
        // The activation consumed this step: move to the next one.
        clock.advance(by: 30)
        return (factorID, uri)
    }
}

/// Requests and decoded answers.
struct APIClient: Sendable {
    let client: any TestClientProtocol

    struct Answer: Sendable {
        let status: HTTPResponse.Status
        let headers: HTTPFields
        let body: [UInt8]

        var text: String { String(decoding: body, as: UTF8.self) }
        var json: JSON { (try? JSON(parsing: body)) ?? .null }
        /// The machine code of an error answer.
        var errorCode: String? { json["error"]?["code"]?.string }
    }

    func send(
        _ method: HTTPRequest.Method, _ path: String, key: String? = nil, json: JSON? = nil, body: String? = nil,
        headers: HTTPFields = [:]
    ) async throws -> Answer {
        var fields = headers
        if let key { fields[.authorization] = "Bearer \(key)" }
        var buffer: ByteBuffer?
        if let json {
            fields[.contentType] = "application/json"
            buffer = ByteBuffer(bytes: json.serialized)
        } else if let body {
            fields[.contentType] = "application/json"
            buffer = ByteBuffer(string: body)
        }
        let response = try await client.execute(uri: path, method: method, headers: fields, body: buffer)
        return Answer(status: response.status, headers: response.headers, body: Array(response.body.readableBytesView))
    }
}

/// A JSON value for tests: built with literals, parsed from answers.
enum JSON: Sendable, Equatable, Codable, ExpressibleByStringLiteral, ExpressibleByIntegerLiteral, ExpressibleByBooleanLiteral,
    ExpressibleByArrayLiteral, ExpressibleByDictionaryLiteral, ExpressibleByNilLiteral {
    case string(String)
    case number(Double)
    case bool(Bool)
    case null
    case array([JSON])
    case object([String: JSON])

    init(stringLiteral value: String) { self = .string(value) }
    init(integerLiteral value: Int) { self = .number(Double(value)) }
    init(booleanLiteral value: Bool) { self = .bool(value) }
    init(arrayLiteral elements: JSON...) { self = .array(elements) }
    init(dictionaryLiteral elements: (String, JSON)...) { self = .object(Dictionary(uniqueKeysWithValues: elements)) }
    init(nilLiteral: ()) { self = .null }

    init(parsing bytes: [UInt8]) throws {
        self = try JSONDecoder().decode(JSON.self, from: Data(bytes))
    }

    init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        if container.decodeNil() {
            self = .null
        } else if let flag = try? container.decode(Bool.self) {
            self = .bool(flag)
        } else if let number = try? container.decode(Double.self) {
            self = .number(number)
        } else if let text = try? container.decode(String.self) {
            self = .string(text)
        } else if let elements = try? container.decode([JSON].self) {
            self = .array(elements)
        } else {
            self = .object(try container.decode([String: JSON].self))
        }
    }

    func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        switch self {
        case .string(let text): try container.encode(text)
        case .number(let number):
            if number == number.rounded(), abs(number) < 1e15 { try container.encode(Int(number)) } else { try container.encode(number) }
        case .bool(let flag): try container.encode(flag)
        case .null: try container.encodeNil()
        case .array(let elements): try container.encode(elements)
        case .object(let members): try container.encode(members)
        }
    }

    subscript(key: String) -> JSON? {
        guard case .object(let members) = self else { return nil }
        return members[key]
    }

    subscript(index: Int) -> JSON? {
        guard case .array(let elements) = self, elements.indices.contains(index) else { return nil }
        return elements[index]
    }

    var string: String? { if case .string(let text) = self { text } else { nil } }
    var int: Int? { if case .number(let number) = self { Int(exactly: number) } else { nil } }
    var array: [JSON]? { if case .array(let elements) = self { elements } else { nil } }
    var object: [String: JSON]? { if case .object(let members) = self { members } else { nil } }
    var isNull: Bool { self == .null }

    var serialized: [UInt8] {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        return Array(try! encoder.encode(self))
    }
}
