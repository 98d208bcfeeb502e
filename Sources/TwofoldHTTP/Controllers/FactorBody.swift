import Foundation
import TwofoldCore

/// A factor as the API shows it: never its secret. Absent values are `null`, so every factor
/// has the same fields.
struct FactorBody: Encodable {
    let factor: Factor

    init(_ factor: Factor) {
        self.factor = factor
    }

    enum CodingKeys: String, CodingKey {
        case id, type, status, label, issuer, algorithm, digits, period
        case createdAt = "created_at"
        case activatedAt = "activated_at"
        case expiresAt = "expires_at"
    }

    func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(factor.id.rawValue, forKey: .id)
        try container.encode(factor.type.rawValue, forKey: .type)
        try container.encode(factor.status.rawValue, forKey: .status)
        try container.encode(factor.createdAt, forKey: .createdAt)
        try container.encodeNullable(factor.activatedAt, forKey: .activatedAt)
        try container.encodeNullable(factor.expiresAt, forKey: .expiresAt)
        try container.encode(factor.label, forKey: .label)
        try container.encodeNullable(factor.issuer, forKey: .issuer)
        try container.encode(factor.algorithm.rawValue, forKey: .algorithm)
        try container.encode(factor.digits, forKey: .digits)
        try container.encodeNullable(factor.period, forKey: .period)
    }
}

/// `{"factor": {…}}`
struct SingleFactorBody: Encodable {
    let factor: FactorBody
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
