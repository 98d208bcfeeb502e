/// A factor as the API answers it and `twofold … --json` prints it: never its secret. Absent
/// values are `null`, so every factor has the same fields.
public struct FactorJSON: Encodable, Sendable {
    public let factor: Factor

    public init(_ factor: Factor) {
        self.factor = factor
    }

    enum CodingKeys: String, CodingKey {
        case id, type, status, label, issuer, algorithm, digits, period, phone
        case createdAt = "created_at"
        case activatedAt = "activated_at"
        case expiresAt = "expires_at"
        case deviceID = "device_id"
        case lastUsedAt = "last_used_at"
        case securityKey = "security_key"
    }

    struct SecurityKeyJSON: Encodable {
        let key: SecurityKeyDescription

        enum CodingKeys: String, CodingKey {
            case aaguid, transports
            case attestationFormat = "attestation_format"
            case flaggedAt = "flagged_at"
        }

        func encode(to encoder: any Encoder) throws {
            var container = encoder.container(keyedBy: CodingKeys.self)
            try container.encode(key.aaguid, forKey: .aaguid)
            try container.encode(key.transports, forKey: .transports)
            try container.encode(key.attestationFormat, forKey: .attestationFormat)
            try container.encodeNullable(key.flaggedAt, forKey: .flaggedAt)
        }
    }

    public func encode(to encoder: any Encoder) throws {
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
        try container.encodeNullable(factor.phone, forKey: .phone)
        try container.encodeNullable(factor.deviceID?.rawValue, forKey: .deviceID)
        try container.encodeNullable(factor.lastUsedAt, forKey: .lastUsedAt)
        try container.encodeNullable(factor.securityKey.map(SecurityKeyJSON.init), forKey: .securityKey)
    }
}
