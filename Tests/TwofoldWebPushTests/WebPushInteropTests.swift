import Crypto
import Foundation
import Testing
import TwofoldTesting
import TwofoldWebPush

/// Twofold's Web Push against independent implementations: Mozilla's `http_ece` (RFC 8188/8291)
/// and `py-vapid` (RFC 8292), through Tests/Scripts/webpush_check.py. Locally these skip with a
/// printed reason when the modules are missing; with `CI` set they fail.
@Suite("Web Push against http_ece and py-vapid")
struct WebPushInteropTests {
    static let httpECE = ExternalTool.pythonModule("http_ece", installHint: "pip install -r Tests/Scripts/requirements.txt")
    static let pyVAPID = ExternalTool.pythonModule("py_vapid", installHint: "pip install -r Tests/Scripts/requirements.txt")

    struct DecryptCase: Codable {
        var body: String
        var privateKey: String
        var auth: String

        enum CodingKeys: String, CodingKey {
            case body, auth
            case privateKey = "private_key"
        }
    }

    struct EncryptCase: Codable {
        var plaintext: String
        var p256dh: String
        var auth: String
    }

    struct Request: Codable {
        var decrypt: [DecryptCase] = []
        var encrypt: [EncryptCase] = []
        var vapid: [String] = []
        var keys = 0
    }

    struct Decrypted: Codable {
        var plaintext: String?
        var error: String?
    }

    struct Verified: Codable {
        var valid: Bool
        var header: [String: String]?
        var claims: Claims?
        var error: String?
    }

    struct Claims: Codable, Equatable {
        var aud: String
        var exp: Int64
        var sub: String
    }

    struct GeneratedKey: Codable {
        var pkcs8: String
        var sec1: String
        var publicKey: String

        enum CodingKeys: String, CodingKey {
            case pkcs8, sec1
            case publicKey = "public_key"
        }
    }

    struct Response: Codable {
        var decrypted: [Decrypted]
        var encrypted: [String]
        var vapid: [Verified]
        var keys: [GeneratedKey]
    }

    static func ask(_ request: Request) async throws -> Response {
        try httpECE.require()
        try pyVAPID.require()
        let result = try await ExternalProcess.run("python3", [TestEnvironment.script("webpush_check.py")], input: try JSONEncoder().encode(request))
        try #require(result.status == 0, "webpush_check.py failed: \(result.standardError)")
        return try JSONDecoder().decode(Response.self, from: result.stdout)
    }

    static func decryptCase(_ body: [UInt8], _ agent: UserAgent) -> DecryptCase {
        DecryptCase(body: Base64URL.encode(body), privateKey: Base64URL.encode(Array(agent.privateKey.rawRepresentation)),
                    auth: Base64URL.encode(agent.authSecret))
    }

    @Test("http_ece decrypts what Twofold encrypts, at every size up to the limit")
    func httpECEDecryptsTwofold() async throws {
        var cases: [DecryptCase] = []
        var plaintexts: [[UInt8]] = []
        for size in [0, 1, 48, 1000, WebPushEncryption.maximumPlaintextByteCount] {
            let agent = UserAgent()
            let plaintext = (0..<size).map { _ in UInt8.random(in: 0...255) }
            plaintexts.append(plaintext)
            cases.append(Self.decryptCase(try WebPushEncryption.encrypt(plaintext, p256dh: agent.p256dh, authSecret: agent.authSecret), agent))
        }
        let answer = try await Self.ask(Request(decrypt: cases))
        try #require(answer.decrypted.count == cases.count)
        for (index, decrypted) in answer.decrypted.enumerated() {
            #expect(decrypted.error == nil)
            #expect(decrypted.plaintext.map(bytes) == plaintexts[index])
        }
    }

    @Test("http_ece refuses a Twofold body with a flipped byte or for another subscriber")
    func httpECERefusesTampered() async throws {
        let agent = UserAgent()
        var body = try WebPushEncryption.encrypt(Array("hello".utf8), p256dh: agent.p256dh, authSecret: agent.authSecret)
        let other = Self.decryptCase(body, UserAgent())
        body[90] ^= 0x80
        let answer = try await Self.ask(Request(decrypt: [Self.decryptCase(body, agent), other]))
        #expect(answer.decrypted.allSatisfy { $0.plaintext == nil && $0.error != nil })
    }

    @Test("Twofold decrypts what http_ece encrypts")
    func twofoldDecryptsHTTPECE() async throws {
        let agents = [UserAgent(), UserAgent(), UserAgent()]
        let plaintexts = [Array(#"{"challenge_id":"chl_x","type":"twofold.push"}"#.utf8), [0x00], Array(repeating: UInt8(0x41), count: 3000)]
        let answer = try await Self.ask(Request(encrypt: zip(agents, plaintexts).map(Self.encryptCase)))
        try #require(answer.encrypted.count == agents.count)
        for (index, body) in answer.encrypted.enumerated() {
            let decrypted = try WebPushEncryption.decrypt(try Base64URL.decode(body), privateKey: agents[index].privateKey,
                                                          authSecret: agents[index].authSecret)
            #expect(decrypted == plaintexts[index])
        }
    }

    @Test("http_ece's body for an empty message has no record at all, and Twofold refuses it as truncated")
    func emptyHTTPECEBodyIsTruncated() async throws {
        let agent = UserAgent()
        let answer = try await Self.ask(Request(encrypt: [Self.encryptCase(agent, [])]))
        let body = try Base64URL.decode(try #require(answer.encrypted.first))
        #expect(body.count == WebPushEncryption.headerByteCount)
        let error = webPushError { () throws(WebPushError) in
            try WebPushEncryption.decrypt(body, privateKey: agent.privateKey, authSecret: agent.authSecret)
        }
        #expect(error?.code == .truncatedBody)
    }

    static func encryptCase(_ agent: UserAgent, _ plaintext: [UInt8]) -> EncryptCase {
        EncryptCase(plaintext: Base64URL.encode(plaintext), p256dh: Base64URL.encode(agent.p256dh), auth: Base64URL.encode(agent.authSecret))
    }

    @Test("py-vapid verifies Twofold's Authorization header and reads the same claims")
    func pyVAPIDVerifiesTwofold() async throws {
        let authorization = try VAPIDAuthorization(key: .generate(), subject: "mailto:ops@example.com")
        let now = Date(timeIntervalSince1970: 1_700_000_000)
        let headers = [
            try authorization.header(for: "https://fcm.googleapis.com/fcm/send/abc", at: now),
            try authorization.header(for: "https://push.example.net:8443/wpush/v2/x?y=1", at: now, lifetime: 86_400),
        ]
        var forged = headers[0]
        forged.replaceSubrange(forged.range(of: ", k=")!.upperBound..., with: VAPIDKey.generate().applicationServerKey)
        let answer = try await Self.ask(Request(vapid: headers + [forged]))
        try #require(answer.vapid.count == 3)
        #expect(answer.vapid[0].valid, "\(answer.vapid[0].error ?? "")")
        #expect(answer.vapid[0].header == ["typ": "JWT", "alg": "ES256"])
        #expect(answer.vapid[0].claims == Claims(aud: "https://fcm.googleapis.com", exp: 1_700_043_200, sub: "mailto:ops@example.com"))
        #expect(answer.vapid[1].valid)
        #expect(answer.vapid[1].claims == Claims(aud: "https://push.example.net:8443", exp: 1_700_086_400, sub: "mailto:ops@example.com"))
        #expect(!answer.vapid[2].valid)
    }

    @Test("Twofold loads the keys py-vapid generates, as PKCS#8 and as SEC1")
    func loadsPyVAPIDKeys() async throws {
        let answer = try await Self.ask(Request(keys: 2))
        try #require(answer.keys.count == 2)
        for generated in answer.keys {
            #expect(try VAPIDKey(pemRepresentation: generated.pkcs8).applicationServerKey == generated.publicKey)
            #expect(try VAPIDKey(pemRepresentation: generated.sec1).applicationServerKey == generated.publicKey)
        }
    }
}
