import Testing
@testable import TwofoldCore

/// Bearer tokens are taken apart by byte offsets on every request: every shape other than
/// `tf_key_<16>_<52>` must be refused, and a genuine one must name its key and carry its secret.
@Suite("API key tokens")
struct APIKeyTokenTests {
    static let id = "abcdefghij234567"
    static let secret = String(repeating: "s", count: 26) + String(repeating: "t", count: 26)
    static let token = "tf_key_\(id)_\(secret)"

    @Test("a genuine token names its key and matches the record holding its secret's hash")
    func genuine() throws {
        let parsed = try #require(APIKeyToken(Self.token[...]))
        #expect(parsed.keyID == "key_\(Self.id)")
        let record = APIKeyRecord(id: "key_\(Self.id)", applicationID: ApplicationID(uncheckedRawValue: "app_x"), scopes: [.verify],
                                  secretHash: APIKeyService.hashAPIKeySecret(Self.secret), createdAt: .distantPast)
        #expect(parsed.matches(record))
        var otherSecret = record
        otherSecret.secretHash = APIKeyService.hashAPIKeySecret(String(Self.secret.dropLast()) + "u")
        #expect(!parsed.matches(otherSecret))
        var otherID = record
        otherID.id = "key_bbcdefghij234567"
        #expect(!parsed.matches(otherID))
    }

    @Test("spaces and tabs around the token are ignored")
    func trimmed() throws {
        let parsed = try #require(APIKeyToken(" \t\(Self.token)\t "[...]))
        #expect(parsed.keyID == "key_\(Self.id)")
    }

    @Test("every other shape is refused", arguments: [
        "",
        "tf_key_",
        String(token.dropLast()),
        token + "x",
        "tf_kez_\(id)_\(secret)",
        "TF_key_\(id)_\(secret)",
        "tf-key_\(id)_\(secret)",
        "tf_key_\(id)-\(secret)",
        "tf_key_abcdefghij23456_7\(secret)",
        "tf_key_\(id)_\(secret.dropLast())_",
        "tf_key_abcdefghij2345_7_\(secret)",
        "tf_key_abcdefghij2345é_\(secret)",
        "tf_key_\(id)_\(secret.dropLast(2))é",
    ])
    func refused(text: String) {
        #expect(APIKeyToken(text[...]) == nil, "\(text)")
    }
}
