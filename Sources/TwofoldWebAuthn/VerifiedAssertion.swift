/// An assertion that passed every check.
public struct VerifiedAssertion: Sendable, Equatable {
    /// The counter to store in place of the old one.
    public var signCount: UInt32
    public var userVerified: Bool

    public init(signCount: UInt32, userVerified: Bool) {
        self.signCount = signCount
        self.userVerified = userVerified
    }
}
