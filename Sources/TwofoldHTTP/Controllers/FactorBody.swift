import Foundation
import TwofoldCore

/// `{"factor": {…}}`: Core's ``FactorJSON``, the shape `twofold factors list --json` prints too.
struct SingleFactorBody: Encodable {
    let factor: FactorJSON
}

/// A code typed by the user, as a request field.
enum CodeField {
    static let maximumLength = 64

    /// - Throws: `invalid_request` naming `field` for an empty or overlong code.
    static func validate(_ code: String, field: String = "code") throws -> String {
        guard !code.isEmpty else { throw APIError.invalidRequest("field `\(field)` must not be empty") }
        guard code.unicodeScalars.count <= maximumLength else {
            throw APIError.invalidRequest("field `\(field)` must be at most \(maximumLength) characters")
        }
        return code
    }
}
