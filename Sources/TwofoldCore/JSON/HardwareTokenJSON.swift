import Foundation

/// A hardware token as `GET /v1/tokens` and `twofold tokens list --json` show it: never its seed.
public struct HardwareTokenJSON: Encodable, Sendable {
    public let token: HardwareTokenRecord

    public init(_ token: HardwareTokenRecord) {
        self.token = token
    }

    enum CodingKeys: String, CodingKey {
        case serial, type, algorithm, digits, period, counter, manufacturer
        case importedAt = "imported_at"
        case userID = "user_id"
        case factorID = "factor_id"
        case assignedAt = "assigned_at"
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(token.serial, forKey: .serial)
        try container.encode(token.type.rawValue, forKey: .type)
        try container.encode(token.algorithm.rawValue, forKey: .algorithm)
        try container.encode(token.digits, forKey: .digits)
        try container.encodeNullable(token.type == .totp ? token.period : nil, forKey: .period)
        try container.encodeNullable(token.type == .hotp ? token.counter : nil, forKey: .counter)
        try container.encodeNullable(token.manufacturer, forKey: .manufacturer)
        try container.encode(token.importedAt, forKey: .importedAt)
        try container.encodeNullable(token.userID?.rawValue, forKey: .userID)
        try container.encodeNullable(token.factorID?.rawValue, forKey: .factorID)
        try container.encodeNullable(token.assignedAt, forKey: .assignedAt)
    }
}
