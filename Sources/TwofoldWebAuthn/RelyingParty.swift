/// The site credentials are scoped to: its RP ID (a registrable domain, such as `example.com`)
/// and the exact origins its pages are served from.
public struct RelyingParty: Sendable, Equatable {
    /// The RP ID; authenticators sign its SHA-256.
    public var id: String
    /// The origins a ceremony may come from, compared as exact strings with client data's
    /// `origin` (`https://login.example.com`, no trailing slash).
    public var origins: [String]

    public init(id: String, origins: [String]) {
        self.id = id
        self.origins = origins
    }
}
