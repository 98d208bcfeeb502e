import Foundation

/// `{"total", "unused", "created_at"}`: how many recovery codes a user has, never the codes.
public struct RecoveryCodeSummaryJSON: Encodable, Sendable {
    public let summary: UserExport.RecoveryCodeSummary

    public init(_ summary: UserExport.RecoveryCodeSummary) {
        self.summary = summary
    }

    enum CodingKeys: String, CodingKey {
        case total, unused
        case createdAt = "created_at"
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(summary.total, forKey: .total)
        try container.encode(summary.unused, forKey: .unused)
        try container.encodeNullable(summary.createdAt, forKey: .createdAt)
    }
}
