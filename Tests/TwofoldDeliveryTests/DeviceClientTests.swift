import Crypto
import Foundation
import Hummingbird
import Logging
import NIOCore
import Synchronization
import Testing
import TwofoldCore
import TwofoldDelivery
#if canImport(Glibc)
import Glibc
#endif

@Suite("Device client against a fake device API")
struct DeviceClientTests {
    static let token = "tok-A_b9"
    static let pendingID = ChallengeID(rawValue: "chl_" + String(repeating: "a", count: 26))!
    static let otherID = ChallengeID(rawValue: "chl_" + String(repeating: "b", count: 26))!

    static func uri(_ base: String) throws -> DeviceActivationURI {
        let encoded = try #require(base.addingPercentEncoding(withAllowedCharacters: .alphanumerics))
        return try DeviceActivationURI("twofold://activate?url=\(encoded)&token=\(token)")
    }

    /// Activates a fresh key with the fake and returns a client for it.
    static func activated(_ fake: DeviceAPIFake, _ base: String) async throws -> (DeviceClient, P256.Signing.PrivateKey) {
        let key = P256.Signing.PrivateKey()
        let id = try await DeviceClient.activate(uri: try uri(base), key: key)
        return (DeviceClient(serverURL: base, deviceID: id, key: key), key)
    }

    static func failure<T>(_ body: () async throws(DeviceClient.Failure) -> T) async -> DeviceClient.Failure? {
        do {
            _ = try await body()
            return nil
        } catch {
            return error
        }
    }

    static func json(_ request: RecordedRequest) throws -> NSDictionary {
        try #require(try JSONSerialization.jsonObject(with: Data(request.body)) as? NSDictionary)
    }

    @Test("activates with its public key, then lists, reads and answers with requests the server verifies")
    func wholeLoop() async throws {
        try await DeviceAPIFake.with { fake, base in
            let (client, key) = try await Self.activated(fake, base)
            #expect(client.deviceID == fake.deviceID)
            fake.add(Self.pendingID, numberRequired: true, number: 42)

            let pending = try await client.pending()
            #expect(pending.count == 1)
            let challenge = try #require(pending.first)
            #expect(challenge.id == Self.pendingID)
            #expect(challenge.status == "pending")
            #expect(challenge.appName == "ACME")
            #expect(challenge.context == ChallengeContext(ip: "203.0.113.7", userAgent: "Firefox", location: "Berlin, DE"))
            #expect(challenge.createdAt == Date(timeIntervalSince1970: 1_700_000_000.25))
            #expect(challenge.expiresAt == Date(timeIntervalSince1970: 1_700_000_060))
            #expect(challenge.numberRequired)
            #expect(try await client.challenge(Self.pendingID) == challenge)

            let answer = try await client.answer(Self.pendingID, decision: .approve, number: 42)
            #expect(answer == DeviceClient.Answer(status: "approved", reason: nil))
            #expect(try await client.pending().isEmpty)
            #expect(try await client.challenge(Self.pendingID).status == "approved")
            try await client.shutdown()

            let requests = fake.requests
            #expect(requests.map { "\($0.method) \($0.path)" } == [
                "POST /v1/devices/activate",
                "GET /v1/devices/\(fake.deviceID)/challenges",
                "GET /v1/devices/\(fake.deviceID)/challenges/\(Self.pendingID)",
                "POST /v1/devices/\(fake.deviceID)/challenges/\(Self.pendingID)",
                "GET /v1/devices/\(fake.deviceID)/challenges",
                "GET /v1/devices/\(fake.deviceID)/challenges/\(Self.pendingID)",
            ])
            // Activation: the token and the SPKI DER of the key in standard Base64, unsigned.
            let activation = requests[0]
            #expect(try Self.json(activation) == [
                "token": Self.token, "public_key": key.publicKey.derRepresentation.base64EncodedString(),
                "transport": ["type": "polling"],
            ] as NSDictionary)
            #expect(activation.headers["content-type"] == "application/json")
            #expect(activation.headers["twofold-signature"] == nil)
            // Every later request verified against the activated key, and none was refused.
            #expect(fake.verified == 5)
            #expect(fake.refusals.isEmpty)
            #expect(requests[1].body.isEmpty)
            #expect(try Self.json(requests[3]) == ["decision": "approve", "number": 42] as NSDictionary)
            #expect(requests[3].headers["content-type"] == "application/json")
        }
    }

    @Test("a denial reported as fraud says so, and a wrong number ends denied")
    func denyAndWrongNumber() async throws {
        try await DeviceAPIFake.with { fake, base in
            let (client, _) = try await Self.activated(fake, base)
            fake.add(Self.pendingID, numberRequired: false, number: nil)
            fake.add(Self.otherID, numberRequired: true, number: 17)
            #expect(try await client.pending().map(\.id) == [Self.pendingID, Self.otherID])
            let fraud = try await client.answer(Self.pendingID, decision: .deny, fraud: true)
            #expect(fraud == DeviceClient.Answer(status: "denied", reason: "fraud"))
            let wrong = try await client.answer(Self.otherID, decision: .approve, number: 71)
            #expect(wrong == DeviceClient.Answer(status: "denied", reason: "wrong_number"))
            try await client.shutdown()
            let answers = fake.requests.filter { $0.method == "POST" }.dropFirst()
            #expect(try answers.map { try Self.json($0) } == [
                ["decision": "deny", "fraud": true], ["decision": "approve", "number": 71],
            ] as [NSDictionary])
            #expect(fake.refusals.isEmpty)
        }
    }

    @Test("errors carry the server's status, code and message")
    func serverMessages() async throws {
        try await DeviceAPIFake.with { fake, base in
            let (client, _) = try await Self.activated(fake, base)
            fake.add(Self.pendingID, numberRequired: false, number: nil)
            _ = try await client.answer(Self.pendingID, decision: .deny)

            let late = await Self.failure { () async throws(DeviceClient.Failure) in try await client.answer(Self.pendingID, decision: .approve) }
            #expect(late?.code == .refused)
            #expect(late?.status == 409)
            #expect(late?.serverCode == "invalid_state")
            #expect(late?.serverMessage == "the challenge is denied already")
            #expect(late?.message.contains("the challenge is denied already") == true)

            let unknown = await Self.failure { () async throws(DeviceClient.Failure) in try await client.challenge(Self.otherID) }
            #expect(unknown?.status == 404)
            #expect(unknown?.message.contains("challenge not found") == true)
            try await client.shutdown()

            // The token works once: a second activation is refused with the server's words.
            let again = await Self.failure { () async throws(DeviceClient.Failure) in
                try await DeviceClient.activate(uri: try! Self.uri(base), key: P256.Signing.PrivateKey())
            }
            #expect(again?.code == .refused)
            #expect(again?.status == 400)
            #expect(again?.message == "the server refused the activation: the activation token was used already")
        }
    }

    @Test("a key the server does not know is refused with its message")
    func wrongKey() async throws {
        try await DeviceAPIFake.with { fake, base in
            let (client, _) = try await Self.activated(fake, base)
            try await client.shutdown()
            let impostor = DeviceClient(serverURL: base + "/", deviceID: fake.deviceID, key: P256.Signing.PrivateKey())
            let failure = await Self.failure { () async throws(DeviceClient.Failure) in try await impostor.pending() }
            try await impostor.shutdown()
            #expect(failure?.status == 401)
            #expect(failure?.serverCode == "unauthorized")
            #expect(failure?.message.contains("does not verify with the device's key") == true)
            #expect(fake.refusals.count == 1)
        }
    }

    @Test("two identical requests carry different signatures, and both verify")
    func freshSignatures() async throws {
        try await DeviceAPIFake.with { fake, base in
            let (client, _) = try await Self.activated(fake, base)
            _ = try await client.pending()
            _ = try await client.pending()
            try await client.shutdown()
            let polls = fake.requests.filter { $0.method == "GET" }
            try #require(polls.count == 2)
            #expect(polls[0].path == polls[1].path)
            let signatures = polls.compactMap { $0.headers["twofold-signature"] }
            #expect(signatures.count == 2)
            #expect(signatures[0] != signatures[1])
            #expect(polls.allSatisfy { $0.headers["twofold-timestamp"]?.allSatisfy(\.isNumber) == true })
            #expect(fake.verified == 2)
            #expect(fake.refusals.isEmpty)
        }
    }

    @Test("a redirect is not followed")
    func noRedirects() async throws {
        try await DeviceAPIFake.with(override: { request in
            request.path.hasSuffix("/challenges") ? FakeResponse(status: 302, headers: ["Location": "http://127.0.0.1:9/elsewhere"]) : nil
        }) { fake, base in
            let (client, _) = try await Self.activated(fake, base)
            let failure = await Self.failure { () async throws(DeviceClient.Failure) in try await client.pending() }
            try await client.shutdown()
            #expect(failure?.code == .badAnswer)
            #expect(failure?.message.contains("redirect (HTTP 302) to http://127.0.0.1:9/elsewhere") == true)
            #expect(fake.requests.count == 2)
        }
    }

    @Test("an answer larger than 1 MiB, or of another shape, is a bad answer", arguments: [
        (String(repeating: " ", count: (1 << 20) + 1), "larger than 1024 KiB"),
        (#"{"items": []}"#, "not the device API's JSON (no challenges)"),
        (#"{"challenges": [{"challenge_id": "chl_x"}]}"#, "not the device API's JSON"),
        ("<html>", "not the device API's JSON (not JSON)"),
    ])
    func badAnswers(body: String, expected: String) async throws {
        try await DeviceAPIFake.with(override: { request in
            request.path.hasSuffix("/challenges") ? .json(200, body) : nil
        }) { fake, base in
            let (client, _) = try await Self.activated(fake, base)
            let failure = await Self.failure { () async throws(DeviceClient.Failure) in try await client.pending() }
            try await client.shutdown()
            #expect(failure?.code == .badAnswer)
            #expect(failure?.message.contains(expected) == true, "\(failure?.message ?? "no failure")")
        }
    }

    @Test("an error without the API's error body still names the status")
    func bareError() async throws {
        try await DeviceAPIFake.with(override: { request in
            request.path.hasSuffix("/challenges") ? FakeResponse(status: 502, body: "Bad Gateway") : nil
        }) { fake, base in
            let (client, _) = try await Self.activated(fake, base)
            let failure = await Self.failure { () async throws(DeviceClient.Failure) in try await client.pending() }
            try await client.shutdown()
            #expect(failure?.code == .refused)
            #expect(failure?.status == 502)
            #expect(failure?.serverMessage == nil)
            #expect(failure?.message == "the server refused the request: HTTP 502 without a Twofold error")
        }
    }

    @Test("a server that cannot be reached is reported as unreachable, naming it")
    func unreachable() async throws {
        // A port bound but not listening: connections to it are refused.
        let descriptor = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        try #require(descriptor >= 0)
        defer { close(descriptor) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &address) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(descriptor, $0, length) == 0 && getsockname(descriptor, $0, &length) == 0 }
        }
        try #require(bound)
        let base = "http://127.0.0.1:\(UInt16(bigEndian: address.sin_port))"
        let failure = await Self.failure { () async throws(DeviceClient.Failure) in
            try await DeviceClient.activate(uri: try! Self.uri(base), key: P256.Signing.PrivateKey())
        }
        #expect(failure?.code == .unreachable)
        #expect(failure?.message.hasPrefix("cannot reach the Twofold server at \(base)") == true, "\(failure?.message ?? "")")
    }

    @Test("an activation URI is read strictly")
    func parsesURI() throws {
        let uri = try DeviceActivationURI("twofold://activate?url=https%3A%2F%2F2fa.example.com%2Ftwofold%2F&token=abc-_9&v=2")
        #expect(uri.serverURL == "https://2fa.example.com/twofold")
        #expect(uri.token == "abc-_9")
        let plain = try DeviceActivationURI(" twofold://activate?token=t&url=http://127.0.0.1:8080\n")
        #expect(plain.serverURL == "http://127.0.0.1:8080")
    }

    @Test("a malformed activation URI is refused, saying why", arguments: [
        ("https://activate?url=http%3A%2F%2Fa&token=t", "must start with twofold://activate?"),
        ("twofold://enroll?url=http%3A%2F%2Fa&token=t", "must start with twofold://activate?"),
        ("twofold://activate/x?url=http%3A%2F%2Fa&token=t", "must start with twofold://activate?"),
        ("twofold://activate?token=t", "no url parameter"),
        ("twofold://activate?url=http%3A%2F%2Fa", "no token parameter"),
        ("twofold://activate?url=http%3A%2F%2Fa&token=", "token parameter is empty"),
        ("twofold://activate?url=http%3A%2F%2Fa&token=t&token=u", "2 token parameters"),
        ("twofold://activate?url=http%3A%2F%2Fa&token=a%2Bb", "not base64url"),
        ("twofold://activate?url=ftp%3A%2F%2Fa&token=t", "http:// or https://"),
        ("twofold://activate?url=a.example.com&token=t", "http:// or https://"),
        ("twofold://activate?url=http%3A%2F%2F&token=t", "has no host"),
        ("twofold://activate?url=http%3A%2F%2Fu%3Ap%40a&token=t", "user name or password"),
        ("twofold://activate?url=http%3A%2F%2Fa%2F%3Fx%3D1&token=t", "query"),
        ("twofold://activate?url=http%3A%2F%2Fa&token=t#x", "fragment"),
        ("not a uri at all", "not a Twofold activation URI"),
    ])
    func refusesURI(text: String, reason: String) {
        do throws(DeviceClient.Failure) {
            _ = try DeviceActivationURI(text)
            Issue.record("accepted \(text)")
        } catch {
            #expect(error.code == .invalidURI)
            #expect(error.message.hasPrefix("not a Twofold activation URI"), "\(error.message)")
            #expect(error.message.contains(reason), "\(text): \(error.message)")
        }
    }

    @Test("the client's description names the device, never the key")
    func description() async throws {
        let key = P256.Signing.PrivateKey()
        let id = try #require(DeviceID(rawValue: "dev_" + String(repeating: "c", count: 26)))
        let client = DeviceClient(serverURL: "http://127.0.0.1:1/", deviceID: id, key: key)
        #expect(String(describing: client) == "DeviceClient(\(id) at http://127.0.0.1:1)")
        #expect(!String(reflecting: client).contains(key.pemRepresentation))
        try await client.shutdown()
    }
}

/// The device API as the spec describes it, on a loopback Hummingbird server: one activation
/// token, one device, challenges the test adds. Every request but activation is checked with
/// ``DeviceRequestSignature/verify`` against the activated key, and a repeated signature is
/// refused, as the server does.
final class DeviceAPIFake: Sendable {
    struct Entry: Sendable {
        var id: ChallengeID
        var status: String
        var numberRequired: Bool
        var number: Int?
    }

    struct State: Sendable {
        var publicKey: [UInt8]?
        var tokenUsed = false
        var challenges: [Entry] = []
        var seenSignatures: Set<[UInt8]> = []
        var requests: [RecordedRequest] = []
        var verified = 0
        var refusals: [String] = []
    }

    let deviceID = DeviceID(rawValue: "dev_" + String(repeating: "d", count: 26))!
    private let state = Mutex(State())
    private let override: @Sendable (RecordedRequest) -> FakeResponse?

    private init(override: @escaping @Sendable (RecordedRequest) -> FakeResponse?) {
        self.override = override
    }

    var requests: [RecordedRequest] { state.withLock { $0.requests } }
    var verified: Int { state.withLock { $0.verified } }
    var refusals: [String] { state.withLock { $0.refusals } }

    func add(_ id: ChallengeID, numberRequired: Bool, number: Int?) {
        state.withLock { $0.challenges.append(Entry(id: id, status: "pending", numberRequired: numberRequired, number: number)) }
    }

    static func with<T: Sendable>(override: @escaping @Sendable (RecordedRequest) -> FakeResponse? = { _ in nil },
                                  _ body: (DeviceAPIFake, String) async throws -> T) async throws -> T {
        let fake = DeviceAPIFake(override: override)
        let router = Router()
        router.get("**") { request, _ in try await fake.handle(request) }
        router.post("**") { request, _ in try await fake.handle(request) }
        return try await Loopback.serve(router, label: "fake-device-api") { base in try await body(fake, base) }
    }

    private func handle(_ request: Request) async throws -> Response {
        var request = request
        let buffer = try await request.collectBody(upTo: 1 << 20)
        var headers: [String: String] = [:]
        for field in request.headers { headers[field.name.canonicalName] = field.value }
        let recorded = RecordedRequest(method: request.method.rawValue, path: request.uri.path, query: request.uri.query,
                                       headers: headers, body: Array(buffer.readableBytesView))
        state.withLock { $0.requests.append(recorded) }
        let answer = override(recorded) ?? respond(recorded)
        var fields = HTTPFields()
        for (name, value) in answer.headers { fields[.init(name)!] = value }
        return Response(status: HTTPResponse.Status(code: answer.status), headers: fields,
                        body: ResponseBody(byteBuffer: ByteBuffer(string: answer.body)))
    }

    private static func error(_ status: Int, _ code: String, _ message: String) -> FakeResponse {
        .json(status, #"{"error": {"code": "\#(code)", "message": "\#(message)"}}"#)
    }

    private func respond(_ request: RecordedRequest) -> FakeResponse {
        if request.method == "POST", request.path == "/v1/devices/activate" {
            return activate(request)
        }
        let prefix = "/v1/devices/\(deviceID)/challenges"
        guard request.path.hasPrefix(prefix) else { return Self.error(404, "not_found", "no such route") }
        let path = request.path + (request.query.map { "?" + $0 } ?? "")
        let refusal = state.withLock { state -> String? in
            guard let publicKey = state.publicKey else { return "the device is not activated" }
            do throws(TwofoldError) {
                let digest = try DeviceRequestSignature.verify(
                    method: request.method, path: path, body: request.body, timestamp: request.headers["twofold-timestamp"],
                    signature: request.headers["twofold-signature"], publicKey: publicKey, deviceID: deviceID, now: Date())
                guard state.seenSignatures.insert(digest).inserted else { return "the signature was used already" }
                state.verified += 1
                return nil
            } catch {
                return error.message
            }
        }
        if let refusal {
            state.withLock { $0.refusals.append(refusal) }
            return Self.error(401, "unauthorized", refusal)
        }
        let rest = request.path.dropFirst(prefix.count)
        if rest.isEmpty, request.method == "GET" {
            let open = state.withLock { $0.challenges.filter { $0.status == "pending" } }
            return .json(200, #"{"challenges": [\#(open.map(Self.json).joined(separator: ","))]}"#)
        }
        guard rest.hasPrefix("/"), let id = ChallengeID(rawValue: String(rest.dropFirst())),
              let entry = state.withLock({ $0.challenges.first { $0.id == id } }) else {
            return Self.error(404, "not_found", "challenge not found")
        }
        if request.method == "GET" { return .json(200, Self.json(entry)) }
        guard entry.status == "pending" else {
            return Self.error(409, "invalid_state", "the challenge is \(entry.status) already")
        }
        guard let body = try? JSONSerialization.jsonObject(with: Data(request.body)) as? [String: Any],
              let decision = body["decision"] as? String else {
            return Self.error(400, "invalid_request", "decision is required")
        }
        let (status, reason): (String, String?) = switch decision {
        case "approve" where entry.numberRequired && body["number"] as? Int != entry.number: ("denied", "wrong_number")
        case "approve": ("approved", nil)
        default: ("denied", body["fraud"] as? Bool == true ? "fraud" : "declined")
        }
        state.withLock { state in
            if let index = state.challenges.firstIndex(where: { $0.id == id }) { state.challenges[index].status = status }
        }
        return .json(200, #"{"status": "\#(status)", "reason": \#(reason.map { "\"\($0)\"" } ?? "null")}"#)
    }

    private func activate(_ request: RecordedRequest) -> FakeResponse {
        guard let body = try? JSONSerialization.jsonObject(with: Data(request.body)) as? [String: Any],
              body["token"] as? String == DeviceClientTests.token,
              let publicKey = (body["public_key"] as? String).flatMap({ Data(base64Encoded: $0) }),
              (try? P256.Signing.PublicKey(derRepresentation: publicKey)) != nil,
              (body["transport"] as? [String: Any])?["type"] as? String == "polling" else {
            return Self.error(400, "invalid_request", "the activation is malformed")
        }
        let used = state.withLock { state in
            defer { state.tokenUsed = true }
            if !state.tokenUsed { state.publicKey = Array(publicKey) }
            return state.tokenUsed
        }
        if used { return Self.error(400, "invalid_request", "the activation token was used already") }
        return .json(201, #"{"device_id": "\#(deviceID)"}"#)
    }

    private static func json(_ entry: Entry) -> String {
        """
        {"app_name": "ACME", "challenge_id": "\(entry.id)", "context": {"ip": "203.0.113.7", "location": "Berlin, DE", \
        "user_agent": "Firefox"}, "created_at": "2023-11-14T22:13:20.250Z", "expires_at": "2023-11-14T22:14:20.000Z", \
        "number_required": \(entry.numberRequired), "status": "\(entry.status)"}
        """
    }
}
