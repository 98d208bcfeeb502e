import Foundation
import Testing
import TwofoldWebAuthn

/// The options' JSON, as `PublicKeyCredential.parseCreationOptionsFromJSON` and
/// `parseRequestOptionsFromJSON` read it (WebAuthn Level 3 §5.1.8, §5.1.10).
@Suite("Creation and request options")
struct OptionsTests {
    static let relyingParty = RelyingParty(id: "example.com", origins: ["https://login.example.com"])

    static func object(_ value: some Encodable) throws -> [String: Any] {
        let data = try JSONEncoder().encode(value)
        return try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
    }

    @Test("creation options offer ES256, EdDSA, RS256, ask for direct attestation and encode binary as Base64URL")
    func creationOptions() throws {
        let options = CreationOptions(
            relyingParty: Self.relyingParty, rpName: "Example", userHandle: [0xFB, 0xFF], userName: "alice@example.com",
            userDisplayName: "Alice", challenge: [0xFF, 0xEE, 0xDD], excludeCredentials: [CredentialDescriptor(id: [1, 2, 3], transports: ["usb"])],
            userVerification: .discouraged, timeoutMilliseconds: 60_000)
        let json = try Self.object(options)
        #expect(Set(json.keys) == ["rp", "user", "challenge", "pubKeyCredParams", "timeout", "excludeCredentials", "authenticatorSelection", "attestation"])
        #expect(json["rp"] as? [String: String] == ["id": "example.com", "name": "Example"])
        #expect(json["user"] as? [String: String] == ["id": "-_8", "name": "alice@example.com", "displayName": "Alice"])
        #expect(json["challenge"] as? String == "_-7d")
        let parameters = try #require(json["pubKeyCredParams"] as? [[String: Any]])
        #expect(parameters.map { $0["alg"] as? Int } == [-7, -8, -257])
        #expect(parameters.allSatisfy { $0["type"] as? String == "public-key" })
        #expect(json["timeout"] as? Int == 60_000)
        #expect(json["attestation"] as? String == "direct")
        let selection = try #require(json["authenticatorSelection"] as? [String: Any])
        #expect(selection["residentKey"] as? String == "discouraged")
        #expect(selection["requireResidentKey"] as? Bool == false)
        #expect(selection["userVerification"] as? String == "discouraged")
        let excluded = try #require(json["excludeCredentials"] as? [[String: Any]])
        #expect(excluded.count == 1)
        #expect(excluded.first?["id"] as? String == "AQID")
        #expect(excluded.first?["type"] as? String == "public-key")
        #expect(excluded.first?["transports"] as? [String] == ["usb"])
    }

    @Test("request options name the RP ID, the allowed credentials and user verification")
    func requestOptions() throws {
        let options = RequestOptions(relyingParty: Self.relyingParty, challenge: Array(repeating: 0, count: 32),
                                     allowCredentials: [CredentialDescriptor(id: [9], transports: [])],
                                     userVerification: .required, timeoutMilliseconds: 120_000)
        let json = try Self.object(options)
        #expect(Set(json.keys) == ["challenge", "timeout", "rpId", "allowCredentials", "userVerification"])
        #expect(json["challenge"] as? String == String(repeating: "A", count: 43))
        #expect(json["rpId"] as? String == "example.com")
        #expect(json["userVerification"] as? String == "required")
        #expect(json["timeout"] as? Int == 120_000)
        let allowed = try #require(json["allowCredentials"] as? [[String: Any]])
        #expect(allowed.count == 1)
        #expect(allowed.first?["id"] as? String == "CQ")
        #expect(allowed.first?["transports"] == nil, "empty transports are left out")
    }
}
