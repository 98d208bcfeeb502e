import Hummingbird
import TwofoldCore

/// The API's request body decoding, reachable without a server: the fuzz targets in
/// `Tests/Fuzz` call it with arbitrary bytes.
///
/// It runs the same code a request runs (``Request/decodeJSON(_:from:)`` and the handlers'
/// static checks), not a copy, so what the fuzzer finds is in the server. Import it with
/// `@_spi(Fuzzing) import TwofoldHTTP`; it is not part of the public API.
@_spi(Fuzzing)
public enum FuzzEntryPoints {
    /// What became of the bytes as one route's body.
    public struct Outcome: Sendable {
        /// The route that reads this body, such as `POST /v1/users/{user_id}/verify`.
        public let route: String
        /// The members the body may have; an accepted body had no other at its top level.
        public let fields: [String]
        /// `nil` when the body was accepted; otherwise what the route would answer with, which
        /// must be an ``APIError`` with a 4xx status.
        public let error: (any Error)?
    }

    /// Decodes `bytes` as the body of every route that reads JSON, strictly (unknown members
    /// refused), then runs the checks its handler makes of the fields before calling a service.
    public static func decodeEveryRequestBody(_ bytes: [UInt8]) -> [Outcome] {
        let buffer = ByteBuffer(bytes: bytes)
        typealias Factors = FactorsController<AuthenticatedContext>
        typealias Challenges = ChallengesController<AuthenticatedContext>
        typealias Devices = DevicesController<TwofoldRequestContext>
        return [
            outcome("POST /v1/users/{user_id}/factors", Factors.EnrollRequest.self, buffer) { body in
                // Phone, push and security-key factors go to their own handlers, which check other fields.
                if let type = FactorType(rawValue: body.type), type.isPhone || type == .push || type == .webauthn { return }
                _ = try Factors.validate(body, userID: user)
            },
            outcome("POST /v1/users/{user_id}/factors/{factor_id}/activate", Factors.ActivateRequest.self, buffer) { body in
                if let code = body.code { _ = try CodeField.validate(code) }
            },
            outcome("POST /v1/users/{user_id}/factors/{factor_id}/resync", Factors.ResyncRequest.self, buffer) { body in
                for (index, code) in body.codes.enumerated() { _ = try CodeField.validate(code, field: "codes[\(index)]") }
            },
            outcome("POST /v1/users/{user_id}/verify", VerificationController<AuthenticatedContext>.VerifyRequest.self, buffer) { body in
                _ = try CodeField.validate(body.code)
            },
            outcome("POST /v1/users/{user_id}/challenges", Challenges.CreateRequest.self, buffer) { body in
                _ = Challenges.challengeContext(body.context?.body)
            },
            outcome("POST /v1/challenges/{challenge_id}/verify", Challenges.AnswerRequest.self, buffer) { body in
                if let code = body.code { _ = try CodeField.validate(code) }
            },
            outcome("POST /v1/devices/activate", Devices.ActivateRequest.self, buffer) { body in
                _ = try Devices.transport(body.transport?.body, pushToken: body.pushToken)
            },
            outcome("POST /v1/devices/{device_id}/challenges/{challenge_id}", Devices.AnswerRequest.self, buffer) { _ in },
            outcome("PATCH /v1/application", ApplicationController<AuthenticatedContext>.UpdateRequest.self, buffer) { _ in },
        ]
    }

    /// The user the enrollment checks run for: a plain id, so that only the body decides.
    private static let user: UserID = {
        do {
            return try UserID("alice")
        } catch {
            preconditionFailure("\"alice\" is a valid user id")
        }
    }()

    private static func outcome<Body: RequestBody>(_ route: String, _ type: Body.Type, _ buffer: ByteBuffer,
                                                   then check: (Body) throws -> Void) -> Outcome {
        let fields = Body.CodingKeys.allCases.map(\.stringValue)
        do {
            try check(try Request.decodeJSON(type, from: buffer))
            return Outcome(route: route, fields: fields, error: nil)
        } catch {
            return Outcome(route: route, fields: fields, error: error)
        }
    }
}
