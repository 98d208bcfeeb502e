import Crypto
import Foundation
import TwofoldWebPush

/// The `WebPushError` thrown by `body`, or `nil` when it succeeded.
func webPushError<T>(_ body: () throws(WebPushError) -> T) -> WebPushError? {
    do {
        _ = try body()
        return nil
    } catch {
        return error
    }
}

/// Base64URL decoding for test vectors known to be valid.
func bytes(_ base64URL: String) -> [UInt8] {
    var text = base64URL.replacingOccurrences(of: "-", with: "+").replacingOccurrences(of: "_", with: "/")
    while text.count % 4 != 0 { text += "=" }
    return Array(Data(base64Encoded: text)!)
}

/// A subscriber as a browser holds it: the key pair and the auth secret.
struct UserAgent {
    var privateKey = P256.KeyAgreement.PrivateKey()
    var authSecret: [UInt8] = (0..<16).map { _ in UInt8.random(in: 0...255) }
    var p256dh: [UInt8] { Array(privateKey.publicKey.x963Representation) }
}

/// An `Authorization: vapid t=…, k=…` header taken apart and checked independently of
/// `VAPIDAuthorization`: Foundation's Base64 and JSON, swift-crypto's ECDSA.
struct ParsedVAPIDHeader {
    var signingInput: String
    var header: [String: String]
    var claims: NSDictionary
    var signature: [UInt8]
    var publicKey: [UInt8]

    init?(_ value: String) {
        guard value.hasPrefix("vapid ") else { return nil }
        var parameters: [String: String] = [:]
        for part in value.dropFirst("vapid ".count).split(separator: ",") {
            let pair = part.trimmingCharacters(in: .whitespaces).split(separator: "=", maxSplits: 1)
            guard pair.count == 2 else { return nil }
            parameters[String(pair[0])] = String(pair[1])
        }
        guard let token = parameters["t"], let key = parameters["k"] else { return nil }
        let parts = token.split(separator: ".", omittingEmptySubsequences: false).map(String.init)
        guard parts.count == 3,
              let header = try? JSONSerialization.jsonObject(with: Data(bytes(parts[0]))) as? [String: String],
              let claims = try? JSONSerialization.jsonObject(with: Data(bytes(parts[1]))) as? NSDictionary
        else { return nil }
        signingInput = parts[0] + "." + parts[1]
        self.header = header
        self.claims = claims
        signature = bytes(parts[2])
        publicKey = bytes(key)
    }

    /// Whether the signature is ES256 over the signing input by the key `k` names.
    var signatureIsValid: Bool {
        guard let key = try? P256.Signing.PublicKey(x963Representation: publicKey),
              let signature = try? P256.Signing.ECDSASignature(rawRepresentation: signature) else { return false }
        return key.isValidSignature(signature, for: Data(signingInput.utf8))
    }
}
