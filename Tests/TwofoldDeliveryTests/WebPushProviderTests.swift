import Crypto
import Foundation
import Testing
import TwofoldCore
import TwofoldDelivery
import TwofoldTesting
import TwofoldWebPush

/// A browser's side of a subscription: the key pair and the auth secret it keeps.
struct PushSubscriber {
    var privateKey = P256.KeyAgreement.PrivateKey()
    var authSecret: [UInt8] = (0..<16).map { _ in UInt8.random(in: 0...255) }

    func subscription(_ endpoint: String) -> WebPushSubscription {
        WebPushSubscription(endpoint: endpoint, p256dh: Array(privateKey.publicKey.x963Representation), auth: authSecret)
    }

    func decrypt(_ body: [UInt8]) throws -> [UInt8] {
        try WebPushEncryption.decrypt(body, privateKey: privateKey, authSecret: authSecret)
    }
}

@Suite("Web Push provider against a fake push service")
struct WebPushProviderTests {
    static let clock = FixedClock(Date(timeIntervalSince1970: 1_700_000_123))
    static let key = VAPIDKey.generate()
    static let deviceID = DeviceID(rawValue: "dev_abcdefghijklmnopqrstuvwxyz")!
    static let settings = WebPushSettings(vapidKeyFile: "/run/secrets/vapid.pem", subject: "mailto:ops@example.com", allowLoopbackHTTP: true)

    static func provider(http: OutboundHTTP, settings: WebPushSettings = settings) throws -> WebPushProvider {
        try WebPushProvider(settings: settings, key: key, http: http, clock: clock)
    }

    static func notification(_ subscription: WebPushSubscription, expiresIn seconds: TimeInterval = 300,
                             device: DeviceID = deviceID) -> PushNotification {
        PushNotification(challengeID: Fixtures.challengeID, deviceID: device, transport: .webPush(subscription),
                         applicationName: "Example", context: ChallengeContext(ip: "203.0.113.9", userAgent: "Firefox"),
                         expiresAt: clock.now().addingTimeInterval(seconds))
    }

    /// Sends one notification to a fake push service answering `respond`; returns the outcome and the requests.
    static func push(expiresIn seconds: TimeInterval = 300, respond: @escaping @Sendable (RecordedRequest, Int) async -> FakeResponse)
        async throws -> (Result<DeliveryReceipt, DeliveryFailure>, [RecordedRequest], PushSubscriber, String) {
        let subscriber = PushSubscriber()
        return try await FakeServer.with(respond: respond) { server, base in
            let endpoint = base + "/wpush/v2/gAAAAABsecret-subscription-token"
            let outcome = try await Fixtures.withHTTP(Fixtures.http()) { http in
                let provider = try Self.provider(http: http)
                do throws(DeliveryFailure) {
                    return Result<DeliveryReceipt, DeliveryFailure>.success(
                        try await provider.notify(Self.notification(subscriber.subscription(endpoint), expiresIn: seconds)))
                } catch {
                    return .failure(error)
                }
            }
            return (outcome, server.requests, subscriber, base)
        }
    }

    static let created: @Sendable (RecordedRequest, Int) async -> FakeResponse = { _, _ in
        FakeResponse(status: 201, headers: ["Location": "https://push.example.net/message/qDIYHNcfAIPP_5ITvURr-d6BGtYnTRnk"])
    }

    @Test("posts an aes128gcm body with TTL, Urgency, Topic and VAPID; it decrypts to the challenge id and type only")
    func postsEncryptedMessage() async throws {
        let (outcome, requests, subscriber, base) = try await Self.push(respond: Self.created)
        #expect(try outcome.get() == DeliveryReceipt(reference: "https://push.example.net/message/qDIYHNcfAIPP_5ITvURr-d6BGtYnTRnk", status: "sent"))
        let request = try #require(requests.first)
        #expect(requests.count == 1)
        #expect(request.method == "POST")
        #expect(request.path == "/wpush/v2/gAAAAABsecret-subscription-token")
        #expect(request.headers["content-encoding"] == "aes128gcm")
        #expect(request.headers["content-type"] == "application/octet-stream")
        #expect(request.headers["ttl"] == "300")
        #expect(request.headers["urgency"] == "high")
        let topic = try #require(request.headers["topic"])
        #expect((1...32).contains(topic.count))
        #expect(topic.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "-" || $0 == "_") })
        #expect(!topic.contains("abcdefghijklmnop"))

        let plaintext = try subscriber.decrypt(request.body)
        let json = try #require(try JSONSerialization.jsonObject(with: Data(plaintext)) as? NSDictionary)
        #expect(json == ["challenge_id": Fixtures.challengeID.rawValue, "type": "twofold.push"] as NSDictionary)
        #expect(!String(decoding: request.body, as: UTF8.self).contains("chl_"))

        let vapid = try #require(VAPIDHeader(request.headers["authorization"] ?? ""))
        #expect(vapid.signatureIsValid)
        #expect(vapid.publicKey == Self.key.publicKey)
        #expect(vapid.claims == ["aud": base, "exp": 1_700_000_123 + 12 * 3600, "sub": "mailto:ops@example.com"] as NSDictionary)
    }

    static let httpECE = ExternalTool.pythonModule("http_ece", installHint: "pip install -r Tests/Scripts/requirements.txt")
    static let pyVAPID = ExternalTool.pythonModule("py_vapid", installHint: "pip install -r Tests/Scripts/requirements.txt")

    @Test("Mozilla's http_ece decrypts what the push service received, and py-vapid verifies its Authorization")
    func interop() async throws {
        try Self.httpECE.require()
        try Self.pyVAPID.require()
        let (outcome, requests, subscriber, base) = try await Self.push(respond: Self.created)
        #expect(throws: Never.self) { try outcome.get() }
        let request = try #require(requests.first)
        let input: [String: Any] = [
            "decrypt": [["body": Base64URL.encode(request.body), "private_key": Base64URL.encode(Array(subscriber.privateKey.rawRepresentation)),
                         "auth": Base64URL.encode(subscriber.authSecret)]],
            "vapid": [request.headers["authorization"] ?? ""],
        ]
        let result = try await ExternalProcess.run("python3", [TestEnvironment.script("webpush_check.py")],
                                             input: try JSONSerialization.data(withJSONObject: input))
        try #require(result.status == 0, "webpush_check.py failed: \(result.standardError)")
        let answer = try #require(try JSONSerialization.jsonObject(with: result.stdout) as? [String: Any])
        let decrypted = try #require((answer["decrypted"] as? [[String: String]])?.first)
        let plaintext = try Base64URL.decode(try #require(decrypted["plaintext"], "\(decrypted)"))
        #expect(try JSONSerialization.jsonObject(with: Data(plaintext)) as? NSDictionary
            == ["challenge_id": Fixtures.challengeID.rawValue, "type": "twofold.push"] as NSDictionary)
        let vapid = try #require((answer["vapid"] as? [NSDictionary])?.first)
        #expect(vapid["valid"] as? Bool == true, "\(vapid)")
        #expect(vapid["claims"] as? NSDictionary == ["aud": base, "exp": 1_700_000_123 + 12 * 3600, "sub": "mailto:ops@example.com"] as NSDictionary)
    }

    @Test("TTL counts whole seconds to the challenge's expiry, and is 0 once it has passed", arguments: [
        (300.9, "300"), (1, "1"), (0.5, "0"), (-30, "0"),
    ])
    func ttl(seconds: TimeInterval, header: String) async throws {
        let (_, requests, _, _) = try await Self.push(expiresIn: seconds, respond: Self.created)
        #expect(requests.first?.headers["ttl"] == header)
    }

    @Test("a push service's answer maps to a delivery outcome; 429 and 5xx are retried, redirects are not followed", arguments: [
        (201, nil, 1), (202, nil, 1),
        (404, DeliveryFailure.Kind.unreachable, 1), (410, .unreachable, 1),
        (429, .rateLimited, 3), (500, .providerError, 3), (503, .providerError, 3),
        (400, .providerError, 1), (413, .providerError, 1), (403, .providerError, 1),
        (301, .providerError, 1), (307, .providerError, 1), (308, .providerError, 1),
    ] as [(Int, DeliveryFailure.Kind?, Int)])
    func statusMapping(status: Int, kind: DeliveryFailure.Kind?, attempts: Int) async throws {
        let (outcome, requests, _, _) = try await Self.push { _, _ in
            FakeResponse(status: status, headers: (300..<400).contains(status) ? ["Location": "/followed"] : [:])
        }
        switch outcome {
        case .success(let receipt):
            #expect(kind == nil)
            #expect(receipt == DeliveryReceipt(reference: nil, status: "sent"))
        case .failure(let failure):
            #expect(failure.kind == kind)
            #expect(!failure.message.contains("secret-subscription-token"))
            if status == 404 || status == 410 { #expect(failure.message.contains("the push subscription is gone")) }
        }
        #expect(requests.count == attempts)
        #expect(requests.allSatisfy { $0.path != "/followed" })
    }

    @Test("a retry sends the same encrypted bytes and the same headers")
    func retrySendsSameBytes() async throws {
        let (outcome, requests, _, _) = try await Self.push { _, index in
            index == 0 ? FakeResponse(status: 503) : FakeResponse(status: 201)
        }
        #expect(try outcome.get().status == "sent")
        try #require(requests.count == 2)
        #expect(requests[0].body == requests[1].body)
        #expect(requests[0].headers["authorization"] == requests[1].headers["authorization"])
    }

    @Test("the topic is the same for one device and differs between devices")
    func topicPerDevice() async throws {
        let subscriber = PushSubscriber()
        let topics = try await FakeServer.with(respond: Self.created) { server, base in
            try await Fixtures.withHTTP(Fixtures.http()) { http in
                let provider = try Self.provider(http: http)
                let subscription = subscriber.subscription(base + "/push")
                for device in [Self.deviceID, Self.deviceID, DeviceID(rawValue: "dev_zyxwvutsrqponmlkjihgfedcba")!] {
                    _ = try await provider.notify(Self.notification(subscription, device: device))
                }
            }
            return server.requests.map { $0.headers["topic"] }
        }
        #expect(topics.count == 3)
        #expect(topics[0] == topics[1])
        #expect(topics[0] != topics[2])
    }

    @Test("logs and failures never show the endpoint, its token or the keys")
    func nothingSecretLogged() async throws {
        let logs = LogCapture()
        let subscriber = PushSubscriber()
        let failure = try await FakeServer.with(respond: { _, _ in FakeResponse(status: 500) }) { _, base in
            try await Fixtures.withHTTP(Fixtures.http(logs: logs)) { http in
                let provider = try Self.provider(http: http)
                return await Fixtures.failure { () async throws(DeliveryFailure) in
                    try await provider.notify(Self.notification(subscriber.subscription(base + "/wpush/secret-subscription-token")))
                }
            }
        }
        #expect(failure?.kind == .providerError)
        #expect(!logs.lines.isEmpty)
        let text = logs.lines.map(\.text).joined(separator: "\n") + (failure?.message ?? "")
        #expect(!text.contains("secret-subscription-token"))
        #expect(!text.contains(Base64URL.encode(subscriber.authSecret)))
        #expect(!text.contains("vapid t="))
    }

    @Test("validate accepts https endpoints and, in development, http on loopback", arguments: [
        ("https://fcm.googleapis.com/fcm/send/abc:def", false),
        ("https://updates.push.services.mozilla.com/wpush/v2/gAAAA", false),
        ("https://push.example.net:8443/p?x=1", false),
        ("http://127.0.0.1:8080/push/1", true),
        ("http://localhost:8080/push", true),
        ("http://[::1]:8080/push", true),
        ("https://127.0.0.1:8443/push", true),
    ])
    func validateAccepts(endpoint: String, loopback: Bool) throws {
        let provider = try Self.provider(http: Self.unusedHTTP,
                                         settings: WebPushSettings(vapidKeyFile: "k.pem", subject: "mailto:a@b.c", allowLoopbackHTTP: loopback))
        #expect(throws: Never.self) { try provider.validate(.webPush(PushSubscriber().subscription(endpoint))) }
    }

    @Test("validate refuses endpoints that are not https, carry credentials or a fragment, or name private hosts", arguments: [
        ("http://push.example.net/p", true),
        ("http://127.0.0.1:8080/push", false),
        ("http://localhost/push", false),
        ("https://127.0.0.1/push", false),
        ("https://[::1]/push", false),
        ("http://10.0.0.5/push", true),
        ("https://10.0.0.5/push", true),
        ("https://192.168.1.1/push", true),
        ("https://172.20.0.1/push", true),
        ("https://169.254.169.254/latest/meta-data", true),
        ("https://[fd00::1]/push", true),
        ("https://[fe80::1]/push", true),
        ("https://0.0.0.0/push", true),
        ("https://user:pass@push.example.net/p", true),
        ("https://push.example.net/p#fragment", true),
        ("ftp://push.example.net/p", true),
        ("wss://push.example.net/p", true),
        ("push.example.net/p", true),
        ("https:///p", true),
        ("https://push.example.net/a b", true),
        ("", true),
        ("https://push.example.net/" + String(repeating: "a", count: 2048), true),
    ])
    func validateRefusesEndpoint(endpoint: String, loopback: Bool) throws {
        let provider = try Self.provider(http: Self.unusedHTTP,
                                         settings: WebPushSettings(vapidKeyFile: "k.pem", subject: "mailto:a@b.c", allowLoopbackHTTP: loopback))
        let error = Fixtures.error { () throws(TwofoldError) in try provider.validate(.webPush(PushSubscriber().subscription(endpoint))) }
        #expect(error?.code == .invalidRequest)
        #expect(error?.message.contains("transport.endpoint") == true)
    }

    @Test("validate refuses keys that cannot be encrypted to, naming the field")
    func validateRefusesKeys() throws {
        let provider = try Self.provider(http: Self.unusedHTTP)
        let good = PushSubscriber().subscription("https://push.example.net/p")
        var offCurve = good
        offCurve.p256dh[64] ^= 1
        var short = good
        short.p256dh.removeLast()
        var auth = good
        auth.auth.removeLast()
        let cases: [(PushTransport, String)] = [
            (.webPush(offCurve), "transport.keys.p256dh"), (.webPush(short), "transport.keys.p256dh"),
            (.webPush(auth), "transport.keys.auth"), (.webhook(pushToken: "x"), "transport.type"), (.polling, "transport.type"),
        ]
        for (transport, field) in cases {
            let error = Fixtures.error { () throws(TwofoldError) in try provider.validate(transport) }
            #expect(error?.code == .invalidRequest)
            #expect(error?.message.contains(field) == true, "\(error?.message ?? "no error")")
        }
    }

    @Test("a device with another transport is not pushed to")
    func otherTransport() async throws {
        let failure = try await Fixtures.withHTTP(Fixtures.http()) { http in
            let provider = try Self.provider(http: http)
            return await Fixtures.failure { () async throws(DeliveryFailure) in
                try await provider.notify(PushNotification(challengeID: Fixtures.challengeID, deviceID: Self.deviceID, transport: .polling,
                                                           applicationName: "Example", context: ChallengeContext(), expiresAt: Self.clock.now()))
            }
        }
        #expect(failure?.kind == .providerError)
    }

    @Test("settings name the wrong setting, read PEM key files, and never print the key")
    func settings() throws {
        let subject = Fixtures.error { () throws(TwofoldError) in
            try WebPushSettings(vapidKeyFile: "k.pem", subject: "ops@example.com").validate()
        }
        #expect(subject?.code == .configuration)
        #expect(subject?.message.contains("TWOFOLD_VAPID_SUBJECT") == true)
        let http = Fixtures.error { () throws(TwofoldError) in
            try WebPushSettings(vapidKeyFile: "k.pem", subject: "http://example.com").validate()
        }
        #expect(http?.message.contains("TWOFOLD_VAPID_SUBJECT") == true)
        let file = Fixtures.error { () throws(TwofoldError) in try WebPushSettings(vapidKeyFile: "", subject: "mailto:a@b.c").validate() }
        #expect(file?.message.contains("TWOFOLD_VAPID_KEY_FILE") == true)

        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("twofold-vapid-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let good = folder.appendingPathComponent("vapid.pem").path
        try Self.key.pemRepresentation.write(toFile: good, atomically: true, encoding: .utf8)
        let loaded = try WebPushSettings(vapidKeyFile: good, subject: "https://twofold.example.com").loadKey()
        #expect(loaded.publicKey == Self.key.publicKey)
        let garbage = folder.appendingPathComponent("garbage.pem").path
        try "-----BEGIN PRIVATE KEY-----\nc2VjcmV0LWJ5dGVz\n-----END PRIVATE KEY-----\n".write(toFile: garbage, atomically: true, encoding: .utf8)
        for path in [garbage, folder.appendingPathComponent("missing.pem").path, folder.path] {
            let error = Fixtures.error { () throws(TwofoldError) in try WebPushSettings(vapidKeyFile: path, subject: "mailto:a@b.c").loadKey() }
            #expect(error?.code == .configuration)
            #expect(error?.message.contains("TWOFOLD_VAPID_KEY_FILE") == true)
            #expect(error?.message.contains("c2VjcmV0") == false)
        }
        let provider = try WebPushProvider(settings: WebPushSettings(vapidKeyFile: good, subject: "mailto:a@b.c"), http: Self.unusedHTTP)
        #expect(provider.applicationServerKey == Self.key.applicationServerKey)
        #expect(!"\(WebPushSettings(vapidKeyFile: good, subject: "mailto:a@b.c"))".contains("BEGIN"))
    }

    /// A client for tests that make no request; never shut down, it holds no connection.
    static let unusedHTTP = Fixtures.http()
}

/// An `Authorization: vapid t=…, k=…` header taken apart and checked with swift-crypto.
struct VAPIDHeader {
    var signingInput: String
    var claims: NSDictionary
    var signature: [UInt8]
    var publicKey: [UInt8]
    var token: String
    var key: String

    init?(_ value: String) {
        guard value.hasPrefix("vapid ") else { return nil }
        var parameters: [String: String] = [:]
        for part in value.dropFirst("vapid ".count).split(separator: ",") {
            let pair = part.trimmingCharacters(in: .whitespaces).split(separator: "=", maxSplits: 1)
            guard pair.count == 2 else { return nil }
            parameters[String(pair[0])] = String(pair[1])
        }
        guard let token = parameters["t"], let key = parameters["k"] else { return nil }
        let parts = token.split(separator: ".", omittingEmptySubsequences: false).map(String.init)
        guard parts.count == 3, let claimBytes = try? Base64URL.decode(parts[1]),
              let claims = try? JSONSerialization.jsonObject(with: Data(claimBytes)) as? NSDictionary,
              let signature = try? Base64URL.decode(parts[2]), let publicKey = try? Base64URL.decode(key)
        else { return nil }
        signingInput = parts[0] + "." + parts[1]
        self.claims = claims
        self.signature = signature
        self.publicKey = publicKey
        self.token = token
        self.key = key
    }

    var signatureIsValid: Bool {
        guard let key = try? P256.Signing.PublicKey(x963Representation: publicKey),
              let signature = try? P256.Signing.ECDSASignature(rawRepresentation: signature) else { return false }
        return key.isValidSignature(signature, for: Data(signingInput.utf8))
    }
}
