import Foundation

/// The browser's account of a ceremony (WebAuthn §5.8.1, `CollectedClientData`), parsed from the
/// exact `clientDataJSON` bytes whose hash the authenticator signed.
///
/// Members other than these are allowed and ignored, as §5.8.1.2 asks of relying parties:
/// browsers add some (Chrome's `other_keys_can_be_added_here`) to keep parsers lenient.
struct ClientData: Sendable, Decodable {
    let type: String
    /// The challenge as the browser wrote it, Base64URL; compared after decoding.
    let challenge: String
    let origin: String
    let crossOrigin: Bool?
    let topOrigin: String?

    /// Parses `clientDataJSON`.
    /// - Throws: ``WebAuthnError`` `malformed` when the bytes are not a JSON object with string
    ///   `type`, `challenge` and `origin` (and a boolean `crossOrigin`, if any).
    init(json: [UInt8]) throws(WebAuthnError) {
        do {
            self = try JSONDecoder().decode(ClientData.self, from: Data(json))
        } catch {
            throw WebAuthnError(.malformed, "clientDataJSON is not a JSON object with string type, challenge and origin")
        }
    }

    /// The challenge, decoded.
    /// - Throws: ``WebAuthnError`` `malformed` when it is not unpadded Base64URL.
    func decodedChallenge() throws(WebAuthnError) -> [UInt8] {
        guard let bytes = Base64URL.decode(challenge) else {
            throw WebAuthnError(.malformed, "client data challenge is not unpadded Base64URL")
        }
        return bytes
    }
}
