import Crypto
import Foundation
import _CryptoExtras

/// A public key WebAuthn signatures are checked with: a credential's (from its COSE_Key) or an
/// attestation certificate's.
enum VerifyingKey: Sendable {
    case p256(P256.Signing.PublicKey)
    case ed25519(Curve25519.Signing.PublicKey)
    case rsa(_RSA.Signing.PublicKey)

    /// The smallest RSA modulus accepted, as NIST SP 800-131A and FIDO require.
    static let minimumRSABits = 2048
    /// The largest RSA modulus accepted: bigger keys exist only to make verification slow.
    static let maximumRSABits = 8192

    /// The one algorithm this key signs with.
    var algorithm: COSEAlgorithm {
        switch self {
        case .p256: .es256
        case .ed25519: .eddsa
        case .rsa: .rs256
        }
    }

    /// Whether `signature` is this key's over `data`, with the algorithm the key is for.
    ///
    /// ES256 signatures are DER-encoded, as WebAuthn §6.5.6 requires; anything else is simply
    /// not valid.
    /// - Important: RS256 is PKCS #1 v1.5, which swift-crypto names `insecurePKCS1v1_5`. The
    ///   weakness that name warns of is in v1.5 *encryption*; v1.5 signatures with SHA-256 are
    ///   still sound, and WebAuthn requires them for the TPM keys of Windows Hello.
    func isValidSignature(_ signature: [UInt8], for data: [UInt8]) -> Bool {
        switch self {
        case .p256(let key):
            guard let parsed = try? P256.Signing.ECDSASignature(derRepresentation: signature) else { return false }
            return key.isValidSignature(parsed, for: data)
        case .ed25519(let key):
            return key.isValidSignature(signature, for: data)
        case .rsa(let key):
            return key.isValidSignature(_RSA.Signing.RSASignature(rawRepresentation: signature), for: data,
                                        padding: .insecurePKCS1v1_5)
        }
    }
}
