import Foundation
import Hummingbird
import TwofoldCore

/// `POST /v1/users/{user_id}/verify` (scope `verify`): is this code good for this user now?
struct VerificationController<Context: CallerRequestContext>: Sendable {
    let verification: VerificationService
    let lockouts: LockoutWatch
    let metrics: TwofoldMetrics

    /// The route's pattern. Its handler passes the caller's key to the verification service, which checks it
    /// again inside the attempt's transaction: the key may come from ``APIKeyCache``.
    static var routePattern: String { "/v1/users/{user_id}/verify" }

    var endpoints: RouteCollection<Context> {
        let routes = RouteCollection(context: Context.self)
        routes.add(middleware: RequireScopeMiddleware(scope: .verify))
        routes.post("verify", use: verify)
        return routes
    }

    struct VerifyRequest: RequestBody {
        var code: String

        enum CodingKeys: String, CodingKey, CaseIterable { case code }
    }

    /// `{"result": "allow", "factor_id", "factor_type"}` or `{"result": "deny", "reason"}`, with
    /// `retry_after` (seconds) when locked.
    struct VerifyResponse: Encodable {
        let result: VerificationResult
        let retryAfter: Int?

        enum CodingKeys: String, CodingKey {
            case result, reason
            case factorID = "factor_id"
            case factorType = "factor_type"
            case retryAfter = "retry_after"
            case remainingRecoveryCodes = "remaining_recovery_codes"
        }

        func encode(to encoder: any Encoder) throws {
            var container = encoder.container(keyedBy: CodingKeys.self)
            switch result {
            case .allow(.factor(let id, let type)):
                try container.encode("allow", forKey: .result)
                try container.encode(id.rawValue, forKey: .factorID)
                try container.encode(type.rawValue, forKey: .factorType)
            case .allow(.recoveryCode(let remaining)):
                try container.encode("allow", forKey: .result)
                try container.encodeNil(forKey: .factorID)
                try container.encode("recovery_code", forKey: .factorType)
                try container.encode(remaining, forKey: .remainingRecoveryCodes)
            case .deny(let reason, _):
                try container.encode("deny", forKey: .result)
                try container.encode(reason.rawValue, forKey: .reason)
                if let retryAfter { try container.encode(retryAfter, forKey: .retryAfter) }
            }
        }
    }

    @Sendable func verify(_ request: Request, context: Context) async throws -> Response {
        let userID = try PathParameters.userID(context)
        let code = try CodeField.validate(try await request.decodeJSON(VerifyRequest.self).code)
        let applicationID = context.caller.applicationID
        let (result, lockStarted) = try await verification.verifyReportingLock(applicationID, userID, code: code, actor: context.caller.actor,
                                                                         apiKeyID: context.caller.key.id)
        return Self.answer(result, lockStarted: lockStarted, metrics: metrics, lockouts: lockouts)
    }

    /// The answer to a verification (here, or of one challenge's code): counted in the metrics,
    /// with `Retry-After` when locked.
    static func answer(_ result: VerificationResult, lockStarted: Date?, metrics: TwofoldMetrics, lockouts: LockoutWatch) -> Response {
        switch result {
        case .allow:
            metrics.recordVerification(result: "allow", reason: "none")
            return JSONResponse.make(VerifyResponse(result: result, retryAfter: nil))
        case .deny(let reason, let until):
            metrics.recordVerification(result: "deny", reason: reason.rawValue)
            if lockStarted != nil { metrics.recordLockout() }
            guard reason == .locked, let until else {
                return JSONResponse.make(VerifyResponse(result: result, retryAfter: nil))
            }
            let seconds = lockouts.secondsUntil(until)
            return JSONResponse.make(VerifyResponse(result: result, retryAfter: seconds), headers: [.retryAfter: String(seconds)])
        }
    }
}
