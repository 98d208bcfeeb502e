import Foundation
import Hummingbird
import TwofoldCore
import TwofoldOTP
import TwofoldQR

/// Enrollment and management of a user's factors and recovery codes (scope `enroll`), mounted at
/// `/v1/users/{user_id}`.
struct FactorsController<Context: CallerRequestContext>: Sendable {
    let enrollment: EnrollmentService
    let verification: VerificationService
    let challenges: ChallengeService
    let push: PushService
    let securityKeys: SecurityKeyService
    let lockouts: LockoutWatch

    var endpoints: RouteCollection<Context> {
        let routes = RouteCollection(context: Context.self)
        routes.add(middleware: RequireScopeMiddleware(scope: .enroll))
        routes.post("factors", use: enroll)
        routes.get("factors", use: list)
        routes.get("factors/{factor_id}/qr", use: qrCode)
        routes.post("factors/{factor_id}/activate", use: activate)
        routes.delete("factors/{factor_id}", use: delete)
        routes.post("factors/{factor_id}/resync", use: resynchronize)
        routes.post("recovery-codes", use: recoveryCodes)
        return routes
    }

    // MARK: Request and response bodies

    struct EnrollRequest: RequestBody {
        var type: String
        var issuer: String?
        var label: String?
        var algorithm: String?
        var digits: WholeNumber?
        var period: WholeNumber?
        var phone: String?
        var userVerification: String?

        enum CodingKeys: String, CodingKey, CaseIterable {
            case type, issuer, label, algorithm, digits, period, phone
            case userVerification = "user_verification"
        }

        /// The fields given that only some types take, by name.
        var typeSpecificFields: [(String, Bool)] {
            [("issuer", issuer != nil), ("label", label != nil), ("algorithm", algorithm != nil), ("digits", digits != nil),
             ("period", period != nil), ("phone", phone != nil), ("user_verification", userVerification != nil)]
        }
    }

    /// A security key: pending, and the options for `navigator.credentials.create()`.
    struct SecurityKeyEnrollResponse: Encodable {
        let factor: FactorJSON
        let publicKey: any Encodable & Sendable

        enum CodingKeys: String, CodingKey {
            case factor
            case publicKey = "public_key"
        }

        func encode(to encoder: any Encoder) throws {
            var container = encoder.container(keyedBy: CodingKeys.self)
            try container.encode(factor, forKey: .factor)
            try container.encode(publicKey, forKey: .publicKey)
        }
    }

    /// A phone factor: pending, and the challenge that sent its confirmation code.
    struct PhoneEnrollResponse: Encodable {
        let factor: FactorJSON
        let challenge: ChallengeJSON
    }

    struct EnrollResponse: Encodable {
        let factor: FactorJSON
        let secret: String
        let otpauthURI: String
        let qrSVG: String

        enum CodingKeys: String, CodingKey {
            case factor, secret
            case otpauthURI = "otpauth_uri"
            case qrSVG = "qr_svg"
        }
    }

    /// A code, or for a security key the browser's `credential`.
    struct ActivateRequest: RequestBody {
        var code: String?
        var credential: OpaqueJSON?

        enum CodingKeys: String, CodingKey, CaseIterable { case code, credential }
    }

    struct ResyncRequest: RequestBody {
        var codes: [String]

        enum CodingKeys: String, CodingKey, CaseIterable { case codes }
    }

    struct RecoveryCodesResponse: Encodable {
        let codes: [String]
    }

    // MARK: Handlers

    /// `POST /v1/users/{user_id}/factors` → 201 with the secret, its URI and QR code, once.
    @Sendable func enroll(_ request: Request, context: Context) async throws -> Response {
        let userID = try PathParameters.userID(context)
        let body = try await request.decodeJSON(EnrollRequest.self)
        if let type = FactorType(rawValue: body.type), type.isPhone {
            return try await enrollPhone(body, type: type, userID: userID, context: context)
        }
        if body.type == FactorType.push.rawValue {
            return try await enrollPush(body, userID: userID, context: context)
        }
        if body.type == FactorType.webauthn.rawValue {
            return try await enrollSecurityKey(body, userID: userID, context: context)
        }
        let enrollment = try await enrollment.enroll(context.caller.applicationID, userID, try Self.validate(body, userID: userID), actor: context.caller.actor)
        let qr = try QRCode(text: enrollment.uri.string, errorCorrection: .medium)
        let response = EnrollResponse(factor: FactorJSON(enrollment.factor), secret: enrollment.secret.base32,
                                      otpauthURI: enrollment.uri.string, qrSVG: QRSVGRenderer().render(qr))
        return JSONResponse.make(response, status: .created)
    }

    /// An SMS or voice factor: `phone` and nothing of the OTP fields; 201 with the pending factor
    /// and its confirmation challenge.
    private func enrollPhone(_ body: EnrollRequest, type: FactorType, userID: UserID, context: Context) async throws -> Response {
        if let field = body.typeSpecificFields.first(where: { $0.0 != "phone" && $0.1 })?.0 {
            throw APIError.invalidRequest("field `\(field)` does not apply to a \(type.rawValue) factor")
        }
        guard let phone = body.phone else {
            throw APIError.invalidRequest("field `phone` is required for a \(type.rawValue) factor: an E.164 number such as +15551234567")
        }
        do {
            let enrollment = try await challenges.enrollPhone(context.caller.applicationID, userID, type: type, phone: phone,
                                                              actor: context.caller.actor)
            return JSONResponse.make(PhoneEnrollResponse(factor: FactorJSON(enrollment.factor), challenge: ChallengeJSON(enrollment.challenge)),
                                     status: .created)
        } catch let error as TwofoldError where error.code == .rateLimited {
            throw lockouts.lockedError(error)
        }
    }

    /// A push factor: an optional `label` and nothing else; 201 with the pending factor and the
    /// activation its device scans.
    private func enrollPush(_ body: EnrollRequest, userID: UserID, context: Context) async throws -> Response {
        if let field = body.typeSpecificFields.first(where: { $0.0 != "label" && $0.1 })?.0 {
            throw APIError.invalidRequest("field `\(field)` does not apply to a push factor")
        }
        let enrollment = try await push.enroll(context.caller.applicationID, userID, label: body.label, actor: context.caller.actor)
        let qr = try QRCode(text: enrollment.uri, errorCorrection: .medium)
        return JSONResponse.make(PushEnrollResponse(
            factor: FactorJSON(enrollment.factor),
            activation: .init(token: enrollment.token, uri: enrollment.uri, qrSVG: QRSVGRenderer().render(qr), expiresAt: enrollment.expiresAt,
                              applicationServerKey: enrollment.applicationServerKey)),
            status: .created)
    }

    /// A security key: an optional `label` and `user_verification`; 201 with the pending factor
    /// and the registration options the app hands to the browser.
    private func enrollSecurityKey(_ body: EnrollRequest, userID: UserID, context: Context) async throws -> Response {
        if let field = body.typeSpecificFields.first(where: { $0.0 != "label" && $0.0 != "user_verification" && $0.1 })?.0 {
            throw APIError.invalidRequest("field `\(field)` does not apply to a webauthn factor")
        }
        let enrollment = try await securityKeys.enroll(context.caller.applicationID, userID, label: body.label,
                                                       userVerification: body.userVerification, actor: context.caller.actor)
        return JSONResponse.make(SecurityKeyEnrollResponse(factor: FactorJSON(enrollment.factor),
                                                           publicKey: enrollment.options),
                                 status: .created)
    }

    /// A push factor: pending until its device activates with the token.
    struct PushEnrollResponse: Encodable {
        struct Activation: Encodable {
            let token: String
            let uri: String
            let qrSVG: String
            let expiresAt: Date
            /// The VAPID key to subscribe with; `null` when Web Push is not enabled.
            let applicationServerKey: String?

            enum CodingKeys: String, CodingKey {
                case token, uri
                case qrSVG = "qr_svg"
                case expiresAt = "expires_at"
                case applicationServerKey = "application_server_key"
            }

            func encode(to encoder: any Encoder) throws {
                var container = encoder.container(keyedBy: CodingKeys.self)
                try container.encode(token, forKey: .token)
                try container.encode(uri, forKey: .uri)
                try container.encode(qrSVG, forKey: .qrSVG)
                try container.encode(expiresAt, forKey: .expiresAt)
                try container.encodeNullable(applicationServerKey, forKey: .applicationServerKey)
            }
        }

        let factor: FactorJSON
        let activation: Activation
    }

    /// `GET /v1/users/{user_id}/factors` → the active and pending factors, never a secret.
    @Sendable func list(_ request: Request, context: Context) async throws -> Response {
        let userID = try PathParameters.userID(context)
        let factors = try await enrollment.factors(context.caller.applicationID, userID)
        return JSONResponse.make(FactorListJSON(factors))
    }

    /// `GET /v1/users/{user_id}/factors/{factor_id}/qr?format=svg|png`: only while pending.
    @Sendable func qrCode(_ request: Request, context: Context) async throws -> Response {
        let userID = try PathParameters.userID(context)
        let factorID = try PathParameters.factorID(context)
        let format = request.uri.queryParameters.get("format") ?? "svg"
        guard format == "svg" || format == "png" else {
            throw APIError.invalidRequest("query parameter `format` must be svg or png")
        }
        let uri = try await enrollment.pendingEnrollmentURI(context.caller.applicationID, userID, factorID)
        let qr = try QRCode(text: uri.string, errorCorrection: .medium)
        if format == "png" {
            return Response(status: .ok, headers: [.contentType: "image/png"],
                            body: ResponseBody(byteBuffer: ByteBuffer(bytes: QRPNGRenderer().render(qr))))
        }
        return Response(status: .ok, headers: [.contentType: "image/svg+xml"],
                        body: ResponseBody(byteBuffer: ByteBuffer(string: QRSVGRenderer().render(qr))))
    }

    /// `POST /v1/users/{user_id}/factors/{factor_id}/activate` `{"code"}` → the active factor,
    /// or 422 `invalid_code`.
    @Sendable func activate(_ request: Request, context: Context) async throws -> Response {
        let userID = try PathParameters.userID(context)
        let factorID = try PathParameters.factorID(context)
        let body = try await request.decodeJSON(ActivateRequest.self)
        let applicationID = context.caller.applicationID
        switch (body.code, body.credential) {
        case (nil, let credential?):
            return try await activateSecurityKey(factorID, credential: credential, userID: userID, context: context)
        case (_?, _?), (nil, nil):
            throw APIError.invalidRequest("give `code` (a code from the factor), or `credential` (a security key's registration), not both")
        case (_?, nil):
            break
        }
        let code = try CodeField.validate(body.code ?? "")
        do {
            let factor = try await enrollment.activate(applicationID, userID, factorID, code: code, actor: context.caller.actor)
            return JSONResponse.make(SingleFactorBody(factor: FactorJSON(factor)))
        } catch let error as TwofoldError {
            throw mapAttemptError(error)
        }
    }

    /// A security key's registration: the factor, now active, or 422 `invalid_code` for a
    /// ceremony refused (why is in the audit event).
    private func activateSecurityKey(_ factorID: FactorID, credential: OpaqueJSON, userID: UserID, context: Context) async throws -> Response {
        let applicationID = context.caller.applicationID
        let result = try await securityKeys.activate(applicationID, userID, factorID: factorID, credential: credential.bytes,
                                                     actor: context.caller.actor, apiKeyID: context.caller.key.id)
        switch result {
        case .allow:
            guard let factor = try await enrollment.factors(applicationID, userID).first(where: { $0.id == factorID }) else {
                throw APIError.notFound("factor not found")
            }
            return JSONResponse.make(SingleFactorBody(factor: FactorJSON(factor)))
        case .deny(.locked, let until):
            throw lockouts.lockedError(EnrollmentService.lockedError(until ?? .distantFuture))
        case .deny(let reason, _):
            throw mapAttemptError(TwofoldError(.invalidCode, reason == .replayed
                ? "the registration was already used or its ceremony ended; enroll again"
                : "the security key's registration was refused"))
        }
    }

    /// `DELETE /v1/users/{user_id}/factors/{factor_id}` → 204.
    @Sendable func delete(_ request: Request, context: Context) async throws -> Response {
        let userID = try PathParameters.userID(context)
        let factorID = try PathParameters.factorID(context)
        try await enrollment.deleteFactor(context.caller.applicationID, userID, factorID, actor: context.caller.actor)
        return Response(status: .noContent)
    }

    /// `POST /v1/users/{user_id}/factors/{factor_id}/resync` `{"codes": [c1, c2]}`: HOTP only.
    @Sendable func resynchronize(_ request: Request, context: Context) async throws -> Response {
        let userID = try PathParameters.userID(context)
        let factorID = try PathParameters.factorID(context)
        let codes = try await request.decodeJSON(ResyncRequest.self).codes
        guard codes.count == 2 else {
            throw APIError.invalidRequest("field `codes` must hold exactly two consecutive codes")
        }
        let first = try CodeField.validate(codes[0], field: "codes[0]")
        let second = try CodeField.validate(codes[1], field: "codes[1]")
        let applicationID = context.caller.applicationID
        do {
            try await enrollment.resynchronize(applicationID, userID, factorID, codes: (first, second), actor: context.caller.actor)
        } catch let error as TwofoldError {
            throw mapAttemptError(error)
        }
        guard let factor = try await enrollment.factors(applicationID, userID).first(where: { $0.id == factorID }) else {
            throw APIError.notFound("factor not found")
        }
        return JSONResponse.make(SingleFactorBody(factor: FactorJSON(factor)))
    }

    /// `POST /v1/users/{user_id}/recovery-codes` → 201 with ten new codes, replacing any earlier set;
    /// 404, and nothing written, when the user has no active factor (nothing stored at all, or
    /// only pending factors): recovery codes stand in for a lost factor.
    @Sendable func recoveryCodes(_ request: Request, context: Context) async throws -> Response {
        let userID = try PathParameters.userID(context)
        let codes = try await verification.generateRecoveryCodes(context.caller.applicationID, userID, actor: context.caller.actor)
        return JSONResponse.make(RecoveryCodesResponse(codes: codes), status: .created)
    }

    // MARK: Helpers

    /// A refused activation or resynchronisation: count a lock it started; say when a lock ends.
    private func mapAttemptError(_ error: TwofoldError) -> any Error {
        switch error.code {
        case .invalidCode:
            lockouts.failureRecorded(error)
            return error
        case .locked:
            return lockouts.lockedError(error)
        default:
            return error
        }
    }

    static var maximumIssuerLength: Int { 64 }
    static var maximumLabelLength: Int { 128 }

    /// Checks each field, naming the one that is wrong.
    static func validate(_ body: EnrollRequest, userID: UserID) throws -> EnrollmentRequest {
        guard let type = FactorType(rawValue: body.type) else {
            throw APIError.invalidRequest("field `type` must be totp, hotp, sms, voice, push or webauthn")
        }
        if body.phone != nil {
            throw APIError.invalidRequest("field `phone` applies to sms and voice factors only")
        }
        if body.userVerification != nil {
            throw APIError.invalidRequest("field `user_verification` applies to webauthn factors only")
        }
        var algorithm = OTPAlgorithm.sha1
        if let name = body.algorithm {
            // The spellings the CLI and otpauth URIs accept: sha256, SHA256, SHA-256.
            guard let parsed = try? OTPAlgorithm(name: name) else {
                throw APIError.invalidRequest("field `algorithm` must be sha1, sha256 or sha512 (any case, with or without a hyphen)")
            }
            algorithm = parsed
        }
        let digits = body.digits?.value ?? 6
        guard (6...8).contains(digits) else { throw APIError.invalidRequest("field `digits` must be 6, 7 or 8") }
        let period = body.period?.value ?? 30
        guard (1...86_400).contains(period) else {
            throw APIError.invalidRequest("field `period` must be 1 to 86400 seconds")
        }
        try validateText(body.issuer, field: "issuer", maximum: maximumIssuerLength)
        try validateText(body.label, field: "label", maximum: maximumLabelLength)
        if body.label == nil, userID.rawValue.contains(":") {
            throw APIError.invalidRequest("user_id contains \":\", which authenticator apps cannot show as an account name: give a `label`")
        }
        let request = EnrollmentRequest(type: type, issuer: body.issuer, label: body.label, algorithm: algorithm,
                                        digits: digits, period: period)
        try checkFitsQRCode(request, userID: userID)
        return request
    }

    private static func validateText(_ text: String?, field: String, maximum: Int) throws {
        guard let text else { return }
        // Counted in Unicode scalars, as JSON Schema's maxLength counts.
        guard !text.isEmpty, text.unicodeScalars.count <= maximum else {
            throw APIError.invalidRequest("field `\(field)` must be 1 to \(maximum) characters")
        }
        guard !text.contains(":") else {
            throw APIError.invalidRequest("field `\(field)` must not contain \":\", which separates issuer and account in authenticator apps")
        }
        guard !text.unicodeScalars.contains(where: { $0.properties.generalCategory == .control || $0.properties.generalCategory == .format }) else {
            throw APIError.invalidRequest("field `\(field)` must not contain control characters")
        }
    }

    /// Long labels of multi-byte characters can outgrow the largest QR code: refuse them before
    /// anything is stored.
    private static func checkFitsQRCode(_ request: EnrollmentRequest, userID: UserID) throws {
        let account = request.label ?? userID.rawValue
        guard (request.issuer?.utf8.count ?? 0) + account.utf8.count > 200 else { return }
        let placeholder = try OTPSecret(bytes: Array(repeating: 0, count: request.algorithm.recommendedSecretSize))
        let method: OTPAuthURI.Method = request.type == .totp ? .totp(period: request.period) : .hotp(counter: 0)
        do {
            let uri = try OTPAuthURI(method: method, account: account, issuer: request.issuer, secret: placeholder,
                                     algorithm: request.algorithm, digits: request.digits)
            _ = try QRCode(text: uri.string, errorCorrection: .medium)
        } catch {
            throw APIError.invalidRequest("fields `issuer` and `label` (or user_id) are too long together to fit in a QR code")
        }
    }
}
