import Foundation

/// An application as `GET /v1/application` answers it and `twofold apps … --json` prints it.
public struct ApplicationJSON: Encodable, Sendable {
    public let application: Application

    public init(_ application: Application) {
        self.application = application
    }

    enum CodingKeys: String, CodingKey {
        case id, name, domain
        case createdAt = "created_at"
        case smsTemplate = "sms_template"
        case pushNumberMatching = "push_number_matching"
        case rpID = "rp_id"
        case origins
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(application.id.rawValue, forKey: .id)
        try container.encode(application.name, forKey: .name)
        try container.encode(application.createdAt, forKey: .createdAt)
        try container.encodeNullable(application.smsTemplate, forKey: .smsTemplate)
        try container.encodeNullable(application.domain, forKey: .domain)
        try container.encode(application.pushNumberMatching, forKey: .pushNumberMatching)
        try container.encodeNullable(application.relyingPartyID, forKey: .rpID)
        try container.encode(application.origins, forKey: .origins)
    }
}
