import Foundation
import Hummingbird
import TwofoldCore

/// The push device API, mounted at `/v1/devices`: no API key. Activation's credential is the
/// one-time token from the enrollment's QR code; every other request is signed by the
/// device's own key (``DeviceRequestSignature``), checked before anything else is read.
struct DevicesController<Context: RequestContext>: Sendable {
    let push: PushService

    var endpoints: RouteCollection<Context> {
        let routes = RouteCollection(context: Context.self)
        routes.post("activate", use: activate)
        routes.get("{device_id}/challenges", use: list)
        routes.get("{device_id}/challenges/{challenge_id}", use: show)
        routes.post("{device_id}/challenges/{challenge_id}", use: answer)
        return routes
    }

    // MARK: Bodies

    struct ActivateRequest: RequestBody {
        var token: String
        var publicKey: String
        var pushToken: String?
        var transport: StrictBody<TransportBody>?

        enum CodingKeys: String, CodingKey, CaseIterable {
            case token, transport
            case publicKey = "public_key"
            case pushToken = "push_token"
        }
    }

    /// `{"type": "webpush", "endpoint", "keys": {"p256dh", "auth"}}` (a `PushSubscription` as
    /// `toJSON()` gives it, with `type` added), `{"type": "webhook"}` or `{"type": "polling"}`.
    struct TransportBody: RequestBody {
        var type: String
        var endpoint: String?
        var expirationTime: Double?
        var keys: StrictBody<KeysBody>?

        enum CodingKeys: String, CodingKey, CaseIterable {
            case type, endpoint, expirationTime, keys
        }
    }

    struct KeysBody: RequestBody {
        var p256dh: String
        var auth: String

        enum CodingKeys: String, CodingKey, CaseIterable { case p256dh, auth }
    }

    struct AnswerRequest: RequestBody {
        var decision: String
        var number: WholeNumber?
        var fraud: Bool?

        enum CodingKeys: String, CodingKey, CaseIterable { case decision, number, fraud }
    }

    struct ActivatedResponse: Encodable {
        let deviceID: String

        enum CodingKeys: String, CodingKey { case deviceID = "device_id" }
    }

    /// A challenge as the device sees it.
    struct ChallengeView: Encodable {
        let challenge: DeviceChallenge

        enum CodingKeys: String, CodingKey {
            case status, reason, context
            case challengeID = "challenge_id"
            case appName = "app_name"
            case createdAt = "created_at"
            case expiresAt = "expires_at"
            case numberRequired = "number_required"
        }

        func encode(to encoder: any Encoder) throws {
            var container = encoder.container(keyedBy: CodingKeys.self)
            try container.encode(challenge.id.rawValue, forKey: .challengeID)
            try container.encode(challenge.status.rawValue, forKey: .status)
            try container.encodeNullable(challenge.reason?.rawValue, forKey: .reason)
            try container.encode(challenge.applicationName, forKey: .appName)
            try container.encode(challenge.context, forKey: .context)
            try container.encode(challenge.createdAt, forKey: .createdAt)
            try container.encode(challenge.expiresAt, forKey: .expiresAt)
            try container.encode(challenge.numberRequired, forKey: .numberRequired)
        }
    }

    struct ChallengeListView: Encodable {
        let challenges: [ChallengeView]
    }

    // MARK: Handlers

    /// `POST /v1/devices/activate` → 201 `{"device_id"}`.
    @Sendable func activate(_ request: Request, context: Context) async throws -> Response {
        let body = try await request.decodeJSON(ActivateRequest.self)
        guard let publicKey = Data(base64Encoded: body.publicKey), publicKey.count <= 512 else {
            throw APIError.invalidRequest("field `public_key` must be Base64 (the P-256 key's SPKI DER)")
        }
        let deviceID = try await push.activate(token: body.token, publicKey: Array(publicKey),
                                               transport: try Self.transport(body.transport?.body, pushToken: body.pushToken))
        return JSONResponse.make(ActivatedResponse(deviceID: deviceID.rawValue), status: .created)
    }

    /// `GET /v1/devices/{device_id}/challenges` → the device's open challenges.
    @Sendable func list(_ request: Request, context: Context) async throws -> Response {
        let device = try await authenticate(request, context: context, body: ByteBuffer())
        let challenges = try await push.openChallenges(for: device)
        return JSONResponse.make(ChallengeListView(challenges: challenges.map(ChallengeView.init)))
    }

    /// `GET /v1/devices/{device_id}/challenges/{challenge_id}`.
    @Sendable func show(_ request: Request, context: Context) async throws -> Response {
        let device = try await authenticate(request, context: context, body: ByteBuffer())
        let challenge = try await push.challenge(try ChallengesController<AuthenticatedContext>.challengeID(context), for: device)
        return JSONResponse.make(ChallengeView(challenge: challenge))
    }

    /// `POST /v1/devices/{device_id}/challenges/{challenge_id}` `{"decision", "number"?, "fraud"?}`.
    @Sendable func answer(_ request: Request, context: Context) async throws -> Response {
        let bytes = try await request.collectBody()
        let device = try await authenticate(request, context: context, body: bytes)
        let id = try ChallengesController<AuthenticatedContext>.challengeID(context)
        let body = try Request.decodeJSON(AnswerRequest.self, from: bytes)
        guard let decision = PushDecision(rawValue: body.decision) else {
            throw APIError.invalidRequest("field `decision` must be approve or deny")
        }
        var number: Int?
        if let raw = body.number {
            guard (10...99).contains(raw.value) else { throw APIError.invalidRequest("field `number` must be a number from 10 to 99") }
            number = raw.value
        }
        let answered = try await push.answer(id, for: device, decision: decision, number: number, fraud: body.fraud ?? false)
        return JSONResponse.make(AnswerView(status: answered.status.rawValue, reason: answered.reason?.rawValue))
    }

    struct AnswerView: Encodable {
        let status: String
        let reason: String?

        enum CodingKeys: String, CodingKey { case status, reason }

        func encode(to encoder: any Encoder) throws {
            var container = encoder.container(keyedBy: CodingKeys.self)
            try container.encode(status, forKey: .status)
            try container.encodeNullable(reason, forKey: .reason)
        }
    }

    // MARK: Internals

    /// The signature is checked on the request exactly as it arrived: its method, its path and
    /// query as sent, and its body's bytes.
    private func authenticate(_ request: Request, context: Context, body: ByteBuffer) async throws -> PushDeviceRecord {
        guard let raw = context.parameters.get("device_id"), let deviceID = DeviceID(rawValue: raw) else {
            throw APIError.unauthorized("unknown device, or a device that is not activated")
        }
        return try await push.authenticate(DeviceRequest(
            deviceID: deviceID, method: request.method.rawValue, path: request.uri.description, body: Array(buffer: body),
            timestamp: request.headers[HTTPFields.Element.Name(DeviceRequestSignature.timestampHeader)!],
            signature: request.headers[HTTPFields.Element.Name(DeviceRequestSignature.signatureHeader)!]))
    }

    /// The transport named in an activation; a bare `push_token` means the webhook relay, and
    /// nothing means polling.
    static func transport(_ body: TransportBody?, pushToken: String?) throws -> PushTransport {
        if let pushToken {
            guard (1...4096).contains(pushToken.utf8.count),
                  !pushToken.unicodeScalars.contains(where: { $0.properties.generalCategory == .control }) else {
                throw APIError.invalidRequest("field `push_token` must be 1 to 4096 bytes without control characters")
            }
        }
        guard let body else { return pushToken.map { .webhook(pushToken: $0) } ?? .polling }
        guard let kind = PushTransportKind(rawValue: body.type) else {
            throw APIError.invalidRequest("field `transport.type` must be webpush, webhook or polling")
        }
        switch kind {
        case .polling:
            guard body.endpoint == nil, body.keys == nil else {
                throw APIError.invalidRequest("a polling transport has no endpoint or keys")
            }
            return .polling
        case .webhook:
            guard let pushToken else { throw APIError.invalidRequest("field `push_token` is required for the webhook transport") }
            return .webhook(pushToken: pushToken)
        case .webPush:
            guard let endpoint = body.endpoint else { throw APIError.invalidRequest("field `transport.endpoint` is required for webpush") }
            guard let keys = body.keys?.body else { throw APIError.invalidRequest("field `transport.keys` is required for webpush") }
            guard let p256dh = Self.base64URL(keys.p256dh), p256dh.count == 65 else {
                throw APIError.invalidRequest("field `transport.keys.p256dh` must be the 65-byte P-256 point in base64url")
            }
            guard let auth = Self.base64URL(keys.auth), auth.count == 16 else {
                throw APIError.invalidRequest("field `transport.keys.auth` must be 16 bytes in base64url")
            }
            return .webPush(WebPushSubscription(endpoint: endpoint, p256dh: p256dh, auth: auth))
        }
    }

    /// Base64url without padding, as browsers give subscription keys (standard Base64 accepted too).
    static func base64URL(_ text: String) -> [UInt8]? {
        guard text.utf8.count <= 256 else { return nil }
        var standard = text.replacingOccurrences(of: "-", with: "+").replacingOccurrences(of: "_", with: "/")
        while standard.utf8.count % 4 != 0 { standard += "=" }
        return Data(base64Encoded: standard).map(Array.init)
    }
}
