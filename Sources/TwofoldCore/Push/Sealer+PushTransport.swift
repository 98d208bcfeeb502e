import Crypto
import Foundation

extension Sealer {
    static func transportContext(_ applicationID: ApplicationID, _ userID: UserID, _ deviceID: DeviceID) -> [String] {
        ["push-transport", applicationID.rawValue, userID.rawValue, deviceID.rawValue]
    }

    /// A device's transport, sealed under its own context like a phone number.
    func sealTransport(_ transport: PushTransport, dataKey: SymmetricKey, _ applicationID: ApplicationID, _ userID: UserID,
                       _ deviceID: DeviceID) throws(TwofoldError) -> [UInt8] {
        try Envelope.seal(StoredTransport(transport).encoded(), key: dataKey,
                          context: Self.transportContext(applicationID, userID, deviceID), random: random)
    }

    static func openTransport(_ sealed: [UInt8], dataKey: SymmetricKey, _ applicationID: ApplicationID, _ userID: UserID,
                              _ deviceID: DeviceID) throws -> PushTransport {
        let bytes = try Envelope.open(sealed, key: dataKey, context: transportContext(applicationID, userID, deviceID))
        return try StoredTransport.decoded(bytes).transport
    }

    /// The activation token's hash: a plain SHA-256 is enough for 256 random bits, and the
    /// device's request names no user whose key could be used.
    static func activationHash(_ token: String) -> [UInt8] {
        Array(SHA256.hash(data: Array("twofold push activation v1:\(token)".utf8)))
    }
}

/// A ``PushTransport`` as sealed at rest.
private struct StoredTransport: Codable {
    var type: String
    var endpoint: String?
    var p256dh: [UInt8]?
    var auth: [UInt8]?
    var pushToken: String?

    init(_ transport: PushTransport) {
        type = transport.kind.rawValue
        switch transport {
        case .webPush(let subscription):
            endpoint = subscription.endpoint
            p256dh = subscription.p256dh
            auth = subscription.auth
        case .webhook(let token):
            pushToken = token
        case .polling:
            break
        }
    }

    var transport: PushTransport {
        get throws {
            switch PushTransportKind(rawValue: type) {
            case .webPush?:
                guard let endpoint, let p256dh, let auth else { break }
                return .webPush(WebPushSubscription(endpoint: endpoint, p256dh: p256dh, auth: auth))
            case .webhook?:
                guard let pushToken else { break }
                return .webhook(pushToken: pushToken)
            case .polling?:
                return .polling
            case nil:
                break
            }
            throw TwofoldError(.unavailable, "a stored push transport is incomplete")
        }
    }

    func encoded() throws(TwofoldError) -> [UInt8] {
        do { return Array(try JSONEncoder().encode(self)) } catch {
            throw TwofoldError(.unavailable, "a push transport could not be encoded")
        }
    }

    static func decoded(_ bytes: [UInt8]) throws -> StoredTransport {
        try JSONDecoder().decode(StoredTransport.self, from: Data(bytes))
    }
}
