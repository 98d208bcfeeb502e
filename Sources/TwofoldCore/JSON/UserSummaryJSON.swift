import Foundation

/// One user at a glance, as `twofold users show --json` prints it: the export's `application`,
/// `user_id`, `factors`, `recovery_codes` and `throttle`, field for field, without the audit
/// events (and without auditing an export).
public struct UserSummaryJSON: Encodable, Sendable {
    public let application: String
    public let userID: UserID
    public let factors: [FactorJSON]
    public let recoveryCodes: RecoveryCodeSummaryJSON
    public let throttle: ThrottleJSON

    /// - Parameters:
    ///   - application: The application's name, as the export shows it.
    ///   - throttle: The stored throttle state; `nil` when no failure was ever recorded.
    public init(application: String, userID: UserID, factors: [Factor], recoveryCodes: UserExport.RecoveryCodeSummary,
                throttle: ThrottleState?) {
        self.application = application
        self.userID = userID
        self.factors = factors.map(FactorJSON.init)
        self.recoveryCodes = RecoveryCodeSummaryJSON(recoveryCodes)
        self.throttle = ThrottleJSON(throttle)
    }

    enum CodingKeys: String, CodingKey {
        case application, factors, throttle
        case userID = "user_id"
        case recoveryCodes = "recovery_codes"
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(application, forKey: .application)
        try container.encode(userID.rawValue, forKey: .userID)
        try container.encode(factors, forKey: .factors)
        try container.encode(recoveryCodes, forKey: .recoveryCodes)
        try container.encode(throttle, forKey: .throttle)
    }
}
