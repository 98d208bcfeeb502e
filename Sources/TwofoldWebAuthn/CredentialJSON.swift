import Foundation

/// Reading the JSON forms of `PublicKeyCredential` (what `credential.toJSON()` gives, WebAuthn
/// Level 3 §5.1): shared by registration and authentication.
enum CredentialJSON {
    /// The members both forms have.
    struct Envelope<Response: Decodable>: Decodable {
        var id: String
        var rawId: String
        var type: String
        var response: Response
        var authenticatorAttachment: String?
    }

    /// Decodes `json` and checks the envelope: `type` is "public-key" and `id` is `rawId`.
    /// - Returns: The envelope and the decoded `rawId`.
    static func decode<Response: Decodable>(_ json: [UInt8], response: Response.Type,
                                            ceremony: String) throws(WebAuthnError) -> (Envelope<Response>, [UInt8]) {
        let envelope: Envelope<Response>
        do {
            envelope = try JSONDecoder().decode(Envelope<Response>.self, from: Data(json))
        } catch {
            throw WebAuthnError(.malformed, "the \(ceremony) credential is not PublicKeyCredential JSON with string id, rawId, type and a response")
        }
        guard envelope.type == "public-key" else {
            throw WebAuthnError(.malformed, "the credential's type is not \"public-key\"")
        }
        let rawID = try field(envelope.rawId, "rawId")
        guard Base64URL.decode(envelope.id) == rawID else {
            throw WebAuthnError(.malformed, "the credential's id is not its rawId in Base64URL")
        }
        return (envelope, rawID)
    }

    /// A Base64URL member, decoded.
    static func field(_ text: String, _ name: String) throws(WebAuthnError) -> [UInt8] {
        guard let bytes = Base64URL.decode(text) else {
            throw WebAuthnError(.malformed, "the credential's \(name) is not unpadded Base64URL")
        }
        return bytes
    }
}
