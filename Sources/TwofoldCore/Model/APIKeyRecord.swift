import Foundation

/// What an API key may do. Scopes are independent: `admin` does not imply the others.
public enum APIKeyScope: String, Sendable, Codable, CaseIterable, Comparable {
    case verify
    case enroll
    case admin

    public static func < (lhs: APIKeyScope, rhs: APIKeyScope) -> Bool {
        allCases.firstIndex(of: lhs)! < allCases.firstIndex(of: rhs)!
    }
}

/// An API key as stored: its id, owner and scopes, and a SHA-256 hash of its secret part.
public struct APIKeyRecord: Sendable, Equatable {
    /// `key_…`: shown in listings and audit events, not secret.
    public var id: String
    public var applicationID: ApplicationID
    public var scopes: Set<APIKeyScope>
    /// SHA-256 of the secret part (the secret has 256 random bits, so no slow hash is needed).
    public var secretHash: [UInt8]
    public var createdAt: Date
    public var revokedAt: Date?
    /// A keyed MAC over the id, application, scopes, secret hash and revocation
    /// (``APIKeyIntegrity``): a row written or changed by anyone without the deployment's keys
    /// does not hold it, and is refused. `nil` only for a row the store has not been given one.
    public var mac: [UInt8]?

    public init(id: String, applicationID: ApplicationID, scopes: Set<APIKeyScope>, secretHash: [UInt8], createdAt: Date,
                revokedAt: Date? = nil, mac: [UInt8]? = nil) {
        self.id = id
        self.applicationID = applicationID
        self.scopes = scopes
        self.secretHash = secretHash
        self.createdAt = createdAt
        self.revokedAt = revokedAt
        self.mac = mac
    }

    /// Scopes as stored: sorted names joined by commas, e.g. `enroll,verify`.
    public var scopesText: String { scopes.sorted().map(\.rawValue).joined(separator: ",") }

    /// Parses stored or typed scopes (`verify,enroll`).
    /// - Throws: `invalid_request` naming an unknown scope.
    public static func parseScopes(_ text: String) throws(TwofoldError) -> Set<APIKeyScope> {
        var scopes: Set<APIKeyScope> = []
        for part in text.split(separator: ",") {
            let name = String(trimmed(part))
            guard let scope = APIKeyScope(rawValue: name) else {
                throw TwofoldError(.invalidRequest, "unknown scope \"\(name)\": use verify, enroll or admin")
            }
            scopes.insert(scope)
        }
        guard !scopes.isEmpty else { throw TwofoldError(.invalidRequest, "give at least one scope: verify, enroll or admin") }
        return scopes
    }

    /// `text` without leading and trailing spaces and tabs (Foundation's `trimmingCharacters`
    /// bridges through NSString, and this runs on every authenticated request).
    static func trimmed(_ text: Substring) -> Substring {
        var slice = text
        while let first = slice.first, first == " " || first == "\t" { slice.removeFirst() }
        while let last = slice.last, last == " " || last == "\t" { slice.removeLast() }
        return slice
    }
}
