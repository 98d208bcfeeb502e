import Foundation

/// A tenant: an application whose users Twofold protects. Users of one application are
/// invisible to every other.
public struct Application: Sendable, Equatable, Codable {
    public let id: ApplicationID
    public let name: String
    public let createdAt: Date

    public init(id: ApplicationID, name: String, createdAt: Date) {
        self.id = id
        self.name = name
        self.createdAt = createdAt
    }

    /// Names are 1–64 characters of `a-z`, `0-9`, `-`, `_` and `.`, starting with a letter or digit,
    /// so they can be typed in commands and configuration without quoting.
    public static func validateName(_ name: String) throws(TwofoldError) {
        let bytes = Array(name.utf8)
        guard (1...64).contains(bytes.count),
              bytes.allSatisfy({ ($0 >= 0x61 && $0 <= 0x7A) || ($0 >= 0x30 && $0 <= 0x39) || $0 == 0x2D || $0 == 0x5F || $0 == 0x2E }),
              let first = bytes.first, (first >= 0x61 && first <= 0x7A) || (first >= 0x30 && first <= 0x39) else {
            throw TwofoldError(.invalidRequest, "application name \"\(name)\" is invalid: use 1–64 characters a-z, 0-9, '-', '_' or '.', starting with a letter or digit")
        }
    }
}
