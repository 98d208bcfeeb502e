import Foundation
import Hummingbird
import Logging
import TwofoldCore

/// An error as the API answers it: a status, a stable machine `code`, and a message for people,
/// written as `{"error": {"code": "…", "message": "…"}}`.
///
/// Every error a handler or middleware throws becomes one of these in ``init(_:logger:)``, the
/// one place where domain error codes map to HTTP statuses.
public struct APIError: Error, Sendable, Equatable {
    public struct Code: RawRepresentable, Hashable, Sendable, CustomStringConvertible {
        public let rawValue: String
        public init(rawValue: String) { self.rawValue = rawValue }
        public var description: String { rawValue }

        public static let invalidRequest = Code(rawValue: "invalid_request")
        public static let unauthorized = Code(rawValue: "unauthorized")
        public static let forbidden = Code(rawValue: "forbidden")
        public static let notFound = Code(rawValue: "not_found")
        public static let methodNotAllowed = Code(rawValue: "method_not_allowed")
        public static let conflict = Code(rawValue: "conflict")
        public static let payloadTooLarge = Code(rawValue: "payload_too_large")
        public static let invalidCode = Code(rawValue: "invalid_code")
        public static let rateLimited = Code(rawValue: "rate_limited")
        public static let internalError = Code(rawValue: "internal")
        public static let unavailable = Code(rawValue: "unavailable")
    }

    public let status: HTTPResponse.Status
    public let code: Code
    public let message: String
    /// Extra response headers (`Allow`, `Retry-After`, `WWW-Authenticate`).
    public var headers: HTTPFields

    public init(_ status: HTTPResponse.Status, _ code: Code, _ message: String, headers: HTTPFields = [:]) {
        self.status = status
        self.code = code
        self.message = message
        self.headers = headers
    }

    static func invalidRequest(_ message: String) -> APIError { APIError(.badRequest, .invalidRequest, message) }
    static func notFound(_ message: String) -> APIError { APIError(.notFound, .notFound, message) }
    static func unauthorized(_ message: String) -> APIError {
        APIError(.unauthorized, .unauthorized, message, headers: [.wwwAuthenticate: "Bearer realm=\"twofold\""])
    }
    static func forbidden(_ message: String) -> APIError { APIError(.forbidden, .forbidden, message) }
    static let payloadTooLarge = APIError(.contentTooLarge, .payloadTooLarge,
                                          "the request body is larger than \(HTTPLimits.maximumBodySize) bytes")
    static let internalError = APIError(.internalServerError, .internalError, "an internal error occurred; it has been logged")
    static let unavailable = APIError(.serviceUnavailable, .unavailable, "the store is unavailable; try again shortly")

    /// Maps any error to what the client sees, logging what it must not see.
    ///
    /// Engine errors map by code. Sealing, store and unknown failures become a generic `internal`
    /// or `unavailable` answer; their detail is logged (domain messages name ids and key ids,
    /// never a secret or a code), and for errors of unknown origin only their type is logged.
    public init(_ error: any Error, logger: Logger) {
        switch error {
        case let error as APIError:
            self = error
        case let error as TwofoldError:
            self = Self.map(error, logger: logger)
        case let error as any HTTPResponseError:
            self = Self.map(status: error.status)
        case is CancellationError:
            self = .unavailable
        default:
            logger.error("unexpected error", metadata: ["error_type": "\(String(reflecting: type(of: error)))"])
            self = .internalError
        }
    }

    private static func map(_ error: TwofoldError, logger: Logger) -> APIError {
        switch error.code {
        case .invalidRequest, .invalidState:
            return .invalidRequest(error.message)
        case .notFound, .expired:
            return .notFound(error.message)
        case .conflict:
            return APIError(.conflict, .conflict, error.message)
        case .invalidCode:
            return APIError(.unprocessableContent, .invalidCode, error.message)
        case .locked, .rateLimited:
            // Controllers that know the clock add Retry-After (LockoutWatch.lockedError).
            return APIError(.tooManyRequests, .rateLimited, error.message)
        case .unauthorized:
            return .unauthorized(error.message)
        case .unavailable:
            logger.error("store unavailable", metadata: ["error": "\(error.message)"])
            return .unavailable
        default:
            logger.error("request failed", metadata: ["error_code": "\(error.code)", "error": "\(error.message)"])
            return .internalError
        }
    }

    /// Errors Hummingbird raises itself (an unmatched route, a body over the limit).
    private static func map(status: HTTPResponse.Status) -> APIError {
        switch status.code {
        case 400: .invalidRequest("the request is malformed")
        case 401: .unauthorized("a valid API key is required: send Authorization: Bearer <key>")
        case 403: .forbidden("this API key may not do that")
        case 404: .notFound("no such resource")
        case 405: APIError(.methodNotAllowed, .methodNotAllowed, "method not allowed")
        case 413: .payloadTooLarge
        case 503: .unavailable
        default: .internalError
        }
    }

    /// The JSON error response.
    func response() -> Response {
        var response = JSONResponse.make(ErrorBody(error: .init(code: code.rawValue, message: message)), status: status)
        response.headers.append(contentsOf: headers)
        return response
    }

    struct ErrorBody: Encodable {
        struct Detail: Encodable {
            let code: String
            let message: String
        }

        let error: Detail
    }
}

/// Limits every request is held to.
enum HTTPLimits {
    /// Bodies larger than this are refused with 413 before they are read in full.
    static let maximumBodySize = 16 * 1024
}
