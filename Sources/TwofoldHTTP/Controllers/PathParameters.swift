import Hummingbird
import TwofoldCore
import TwofoldOTP

/// The ids in `/v1/users/{user_id}/factors/{factor_id}`, percent-decoded and validated.
enum PathParameters {
    /// - Throws: `invalid_request` naming `user_id` for an id that is not valid percent-encoding
    ///   or not a valid ``UserID``.
    static func userID(_ context: some RequestContext) throws -> UserID {
        guard let raw = context.parameters.get("user_id"), let decoded = PercentEncoding.decode(raw[...], plusAsSpace: false) else {
            throw APIError.invalidRequest("user_id in the path is not valid percent-encoded UTF-8")
        }
        do {
            return try UserID(decoded)
        } catch {
            throw APIError.invalidRequest(error.message)
        }
    }

    /// - Throws: `not_found` for an id that cannot name a factor.
    static func factorID(_ context: some RequestContext) throws -> FactorID {
        guard let raw = context.parameters.get("factor_id"), let decoded = PercentEncoding.decode(raw[...], plusAsSpace: false),
              let id = FactorID(rawValue: decoded) else {
            throw APIError.notFound("factor not found")
        }
        return id
    }
}
