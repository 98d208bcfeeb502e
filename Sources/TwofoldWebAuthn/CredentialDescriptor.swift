/// A credential the browser is told about (WebAuthn §5.8.3): to exclude at registration, or to
/// allow at authentication.
public struct CredentialDescriptor: Sendable, Equatable, Encodable {
    /// The credential id (the registration's `rawId`).
    public var id: [UInt8]
    /// How the browser may reach the authenticator (`usb`, `nfc`, …), as registration reported.
    public var transports: [String]

    public init(id: [UInt8], transports: [String]) {
        self.id = id
        self.transports = transports
    }

    private enum CodingKeys: String, CodingKey {
        case type, id, transports
    }

    /// `{"type": "public-key", "id": Base64URL, "transports": [...]}`, without `transports` when
    /// there are none.
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode("public-key", forKey: .type)
        try container.encode(Base64URL.encode(id), forKey: .id)
        if !transports.isEmpty {
            try container.encode(transports, forKey: .transports)
        }
    }
}
