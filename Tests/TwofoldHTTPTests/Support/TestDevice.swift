import Crypto
import Foundation
import Hummingbird
import Testing
import TwofoldCore

/// A push device on the test's side: its own P-256 key, and requests signed with it as the
/// device API asks (``DeviceRequestSignature``).
struct TestDevice: Sendable {
    let id: String
    let key: P256.Signing.PrivateKey

    var challengesPath: String { "/v1/devices/\(id)/challenges" }

    func challengePath(_ challengeID: String) -> String { "\(challengesPath)/\(challengeID)" }

    /// The two signature headers of `method path` with `body`, signed at `date`.
    func signatureHeaders(_ method: HTTPRequest.Method, _ path: String, body: String = "", at date: Date) throws -> HTTPFields {
        let signed = try DeviceRequestSignature.sign(method: method.rawValue, path: path, body: Array(body.utf8), at: date, with: key)
        return Self.headers(timestamp: signed.timestamp, signature: signed.signature)
    }

    static let timestampName = HTTPFields.Element.Name(DeviceRequestSignature.timestampHeader)!
    static let signatureName = HTTPFields.Element.Name(DeviceRequestSignature.signatureHeader)!

    static func headers(timestamp: String, signature: String) -> HTTPFields {
        var headers = HTTPFields()
        headers[timestampName] = timestamp
        headers[signatureName] = signature
        return headers
    }

    /// Sends `method path` with `body`, signed at `date`.
    func send(_ client: APIClient, _ method: HTTPRequest.Method, _ path: String, body: String? = nil, at date: Date) async throws -> APIClient.Answer {
        try await client.send(method, path, body: body, headers: try signatureHeaders(method, path, body: body ?? "", at: date))
    }

    /// The public key as activation takes it: SPKI DER in Base64.
    static func publicKeyText(_ key: P256.Signing.PrivateKey) -> String {
        key.publicKey.derRepresentation.base64EncodedString()
    }
}

extension TestServer {
    /// A push factor of `user` in `default`, enrolled through the API: the pending factor and its activation.
    func enrollPush(_ client: APIClient, user: String) async throws -> (factor: JSON, activation: JSON) {
        let enrolled = try await client.send(.post, "/v1/users/\(user)/factors", key: keys.enroll, json: ["type": "push"])
        try #require(enrolled.status == .created, "\(enrolled.text)")
        return (try #require(enrolled.json["factor"]), try #require(enrolled.json["activation"]))
    }

    /// A push factor of `user`, enrolled and activated through the API by a device with a new
    /// key that polls.
    func activatedDevice(_ client: APIClient, user: String) async throws -> (device: TestDevice, factorID: String) {
        let (factor, activation) = try await enrollPush(client, user: user)
        let key = P256.Signing.PrivateKey()
        let activated = try await client.send(.post, "/v1/devices/activate", json: [
            "token": try #require(activation["token"]), "public_key": .string(TestDevice.publicKeyText(key)),
        ])
        try #require(activated.status == .created, "\(activated.text)")
        return (TestDevice(id: try #require(activated.json["device_id"]?.string), key: key), try #require(factor["id"]?.string))
    }

    /// Sends `user` a push challenge (to `factorID`, else the device used last): its id and the
    /// number the sign-in page shows.
    func push(_ client: APIClient, user: String, factorID: String? = nil) async throws -> (id: String, number: Int?) {
        var body: [String: JSON] = ["type": "push"]
        if let factorID { body["factor_id"] = .string(factorID) }
        let created = try await client.send(.post, "/v1/users/\(user)/challenges", key: keys.verify, json: .object(body))
        try #require(created.status == .accepted, "\(created.text)")
        return (try #require(created.json["challenge_id"]?.string), created.json["number"]?.int)
    }
}
