import Foundation
import Hummingbird
import TwofoldCore

/// Challenges (scope `verify`): `POST /v1/users/{user_id}/challenges` sends one;
/// `GET /v1/challenges/{challenge_id}?wait=` long-polls it; `POST /v1/challenges/{challenge_id}/verify`
/// answers it with a code.
struct ChallengesController<Context: CallerRequestContext>: Sendable {
    let challenges: ChallengeService
    let push: PushService
    let securityKeys: SecurityKeyService
    let lockouts: LockoutWatch
    let metrics: TwofoldMetrics

    /// Mounted at `/v1/users/{user_id}`.
    var userEndpoints: RouteCollection<Context> {
        let routes = RouteCollection(context: Context.self)
        routes.add(middleware: RequireScopeMiddleware(scope: .verify))
        routes.post("challenges", use: create)
        return routes
    }

    /// Mounted at `/v1/challenges`.
    var challengeEndpoints: RouteCollection<Context> {
        let routes = RouteCollection(context: Context.self)
        routes.add(middleware: RequireScopeMiddleware(scope: .verify))
        routes.get("{challenge_id}", use: status)
        routes.post("{challenge_id}/verify", use: verify)
        return routes
    }

    struct CreateRequest: RequestBody {
        var type: String
        var factorID: String?
        var mode: String?
        var context: StrictBody<ContextBody>?

        enum CodingKeys: String, CodingKey, CaseIterable {
            case type, mode, context
            case factorID = "factor_id"
        }
    }

    struct ContextBody: RequestBody {
        var ip: String?
        var userAgent: String?
        var location: String?
        var appName: String?

        enum CodingKeys: String, CodingKey, CaseIterable {
            case ip, location
            case userAgent = "user_agent"
            case appName = "app_name"
        }
    }

    /// The 202 answer: what the login page needs to wait for the user.
    /// A push adds `number`: what the sign-in page shows and the device must send back (`null`
    /// when the application turned number matching off).
    /// A security key's ceremony adds `public_key`: the options the app hands to the browser's
    /// `navigator.credentials.get()`.
    struct CreatedResponse: Encodable {
        let challenge: Challenge
        var number: Int??
        var publicKey: (any Encodable & Sendable)?

        enum CodingKeys: String, CodingKey {
            case type, status, number
            case challengeID = "challenge_id"
            case expiresAt = "expires_at"
            case publicKey = "public_key"
        }

        func encode(to encoder: any Encoder) throws {
            var container = encoder.container(keyedBy: CodingKeys.self)
            try container.encode(challenge.id.rawValue, forKey: .challengeID)
            try container.encode(challenge.type.rawValue, forKey: .type)
            try container.encode(challenge.status.rawValue, forKey: .status)
            try container.encode(challenge.expiresAt, forKey: .expiresAt)
            if let number { try container.encodeNullable(number, forKey: .number) }
            if let publicKey { try container.encode(publicKey, forKey: .publicKey) }
        }
    }

    /// `POST /v1/users/{user_id}/challenges` → 202; delivery goes on after the answer.
    @Sendable func create(_ request: Request, context: Context) async throws -> Response {
        let userID = try PathParameters.userID(context)
        let body = try await request.decodeJSON(CreateRequest.self)
        guard let type = ChallengeType(rawValue: body.type) else {
            throw APIError.invalidRequest("field `type` must be sms, voice, push or webauthn")
        }
        var factorID: FactorID?
        if let raw = body.factorID {
            guard let id = FactorID(rawValue: raw) else { throw APIError.notFound("factor not found") }
            factorID = id
        }
        if type == .push {
            guard body.mode == nil || body.mode == ChallengeMode.approve.rawValue else {
                throw APIError.invalidRequest("field `mode` of a push can only be approve")
            }
            do {
                let created = try await push.challenge(context.caller.applicationID, userID, factorID: factorID,
                                                       context: Self.challengeContext(body.context?.body), actor: context.caller.actor)
                return JSONResponse.make(CreatedResponse(challenge: created.challenge, number: .some(created.number)), status: .accepted)
            } catch let error as TwofoldError where error.code == .rateLimited {
                throw lockouts.lockedError(error)
            }
        }
        if type == .webauthn {
            guard body.mode == nil else { throw APIError.invalidRequest("field `mode` does not apply to a webauthn challenge") }
            let created = try await securityKeys.challenge(context.caller.applicationID, userID, factorID: factorID,
                                                           context: Self.challengeContext(body.context?.body), actor: context.caller.actor)
            return JSONResponse.make(CreatedResponse(challenge: created.challenge, publicKey: created.options), status: .accepted)
        }
        let mode: ChallengeMode
        switch body.mode {
        case nil: mode = .code
        case let raw?:
            guard let parsed = ChallengeMode(rawValue: raw) else { throw APIError.invalidRequest("field `mode` must be code or approve") }
            mode = parsed
        }
        let challengeContext = Self.challengeContext(body.context?.body)
        do {
            let challenge = try await challenges.create(context.caller.applicationID, userID,
                                                        ChallengeRequest(type: type, factorID: factorID, mode: mode, context: challengeContext),
                                                        actor: context.caller.actor)
            return JSONResponse.make(CreatedResponse(challenge: challenge), status: .accepted)
        } catch let error as TwofoldError where error.code == .rateLimited {
            throw lockouts.lockedError(error)
        }
    }

    static func challengeContext(_ body: ContextBody?) -> ChallengeContext {
        ChallengeContext(ip: body?.ip, userAgent: body?.userAgent, location: body?.location, appName: body?.appName)
    }

    /// `GET /v1/challenges/{challenge_id}?wait=SECONDS` (0 to 30).
    @Sendable func status(_ request: Request, context: Context) async throws -> Response {
        let id = try Self.challengeID(context)
        var wait: TimeInterval = 0
        if let raw = request.uri.queryParameters.get("wait") {
            guard let seconds = Int(raw), (0...30).contains(seconds) else {
                throw APIError.invalidRequest("query parameter `wait` must be a whole number of seconds from 0 to 30")
            }
            wait = TimeInterval(seconds)
        }
        let challenge = try await challenges.status(context.caller.applicationID, id, wait: wait)
        return JSONResponse.make(ChallengeJSON(challenge))
    }

    /// A code, or for a security key's ceremony the browser's `credential`.
    struct AnswerRequest: RequestBody {
        var code: String?
        var credential: OpaqueJSON?

        enum CodingKeys: String, CodingKey, CaseIterable { case code, credential }
    }

    /// `POST /v1/challenges/{challenge_id}/verify` `{"code"}` or `{"credential"}`: answers as
    /// `…/verify` does.
    @Sendable func verify(_ request: Request, context: Context) async throws -> Response {
        let id = try Self.challengeID(context)
        let body = try await request.decodeJSON(AnswerRequest.self)
        switch (body.code, body.credential) {
        case (nil, let credential?):
            let (result, lockStarted) = try await securityKeys.answer(context.caller.applicationID, id, credential: credential.bytes,
                                                                      actor: context.caller.actor, apiKeyID: context.caller.key.id)
            return VerificationController<Context>.answer(result, lockStarted: lockStarted, metrics: metrics, lockouts: lockouts)
        case (_?, _?), (nil, nil):
            throw APIError.invalidRequest("give `code` (the code sent), or `credential` (a security key's answer), not both")
        case (_?, nil):
            break
        }
        let code = try CodeField.validate(body.code ?? "")
        let (result, lockStarted) = try await challenges.answerReportingLock(context.caller.applicationID, id, code: code,
                                                                             actor: context.caller.actor, apiKeyID: context.caller.key.id)
        return VerificationController<Context>.answer(result, lockStarted: lockStarted, metrics: metrics, lockouts: lockouts)
    }

    /// - Throws: `not_found` for an id that cannot name a challenge.
    static func challengeID(_ context: some RequestContext) throws -> ChallengeID {
        guard let raw = context.parameters.get("challenge_id"), let id = ChallengeID(rawValue: raw) else {
            throw APIError.notFound("challenge not found")
        }
        return id
    }
}

/// Providers' callbacks, `POST /v1/callbacks/{provider}/{challenge_id}/{kind}`: no API key, the
/// provider's signature is the credential, checked before anything is read.
struct CallbacksController<Context: RequestContext>: Sendable {
    let challenges: ChallengeService

    var endpoints: RouteCollection<Context> {
        let routes = RouteCollection(context: Context.self)
        routes.post("{provider}/{challenge_id}/{kind}", use: callback)
        return routes
    }

    @Sendable func callback(_ request: Request, context: Context) async throws -> Response {
        guard let provider = context.parameters.get("provider"), let kind = context.parameters.get("kind"),
              kind == "status" || kind == "digits" else {
            throw APIError.notFound("no such resource")
        }
        let id = try ChallengesController<AuthenticatedContext>.challengeID(context)
        let body = try await request.body.collect(upTo: HTTPLimits.maximumBodySize)
        var headers: [String: String] = [:]
        for field in request.headers {
            headers[field.name.canonicalName] = field.value
        }
        let reply = try await challenges.handleCallback(InboundCallback(
            provider: provider, challengeID: id, url: Self.calledURL(request, publicURL: challenges.publicURL),
            method: request.method.rawValue, headers: headers, body: Array(buffer: body)))
        return Response(status: .ok, headers: [.contentType: reply.contentType],
                        body: ResponseBody(byteBuffer: ByteBuffer(string: reply.body)))
    }

    /// The URL the provider called: the configured public URL (which may carry a path prefix a
    /// front removes) followed by the path and query exactly as received.
    static func calledURL(_ request: Request, publicURL: URL) -> String {
        var base = publicURL.absoluteString
        while base.hasSuffix("/") { base.removeLast() }
        return base + request.uri.description
    }
}
