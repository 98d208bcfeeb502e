/// `{"factors": [...]}`: a user's factors, as `GET /v1/users/{user_id}/factors` answers and
/// `twofold factors list --json` prints them.
public struct FactorListJSON: Encodable, Sendable {
    public let factors: [FactorJSON]

    public init(_ factors: [Factor]) {
        self.factors = factors.map(FactorJSON.init)
    }
}
