import Foundation
import Hummingbird
import TwofoldCore

/// The ids in `/v1/users/{user_id}/factors/{factor_id}`, percent-decoded and validated.
enum PathParameters {
    /// - Throws: `invalid_request` naming `user_id` for an id that is not valid percent-encoding
    ///   or not a valid ``UserID``.
    static func userID(_ context: some RequestContext) throws -> UserID {
        guard let raw = context.parameters.get("user_id"), let decoded = decoded(raw) else {
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
        guard let raw = context.parameters.get("factor_id"), let decoded = decoded(raw),
              let id = FactorID(rawValue: decoded) else {
            throw APIError.notFound("factor not found")
        }
        return id
    }

    /// A path segment without its `%XX` escapes; `nil` for a malformed escape or bytes that are
    /// not UTF-8. Nearly every segment has no escape and is returned as it is.
    static func decoded(_ segment: String) -> String? {
        segment.utf8.contains(UInt8(ascii: "%")) ? segment.removingPercentEncoding : segment
    }
}
