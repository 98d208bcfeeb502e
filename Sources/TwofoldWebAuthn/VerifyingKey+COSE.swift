import Crypto
import _CryptoExtras

extension VerifyingKey {
    /// COSE key types (RFC 9053 §7) and their parameter labels.
    private enum Label {
        static let kty: CBORValue.Key = .int(1)
        static let alg: CBORValue.Key = .int(3)
        static let crv: CBORValue.Key = .int(-1)  // EC2 and OKP
        static let x: CBORValue.Key = .int(-2)  // EC2 and OKP
        static let y: CBORValue.Key = .int(-3)  // EC2
        static let d: CBORValue.Key = .int(-4)  // EC2 and OKP private key
        static let n: CBORValue.Key = .int(-1)  // RSA (RFC 8230)
        static let e: CBORValue.Key = .int(-2)  // RSA
    }

    /// Reads a credential public key from its COSE_Key encoding (WebAuthn §6.5.2, RFC 9053).
    ///
    /// The key must name its algorithm (`alg`, which WebAuthn requires) and that algorithm must
    /// be the one its type and curve sign with: EC2 P-256 with ES256, OKP Ed25519 with EdDSA,
    /// RSA with RS256.
    /// - Throws: ``WebAuthnError`` `malformed` when the bytes are not a COSE key, `unsupported`
    ///   for a type, curve or algorithm Twofold does not verify.
    init(coseKey bytes: [UInt8]) throws(WebAuthnError) {
        try self.init(cose: try CBORDecoder.decode(bytes))
    }

    init(cose value: CBORValue) throws(WebAuthnError) {
        guard let map = value.map else {
            throw WebAuthnError(.malformed, "the credential public key is not a CBOR map (COSE_Key)")
        }
        guard let kty = map[Label.kty]?.int64 else {
            throw WebAuthnError(.malformed, "the credential public key has no integer key type (label 1)")
        }
        guard let algValue = map[Label.alg]?.int64 else {
            throw WebAuthnError(.malformed, "the credential public key has no integer algorithm (label 3)")
        }
        guard let algorithm = Int(exactly: algValue).flatMap(COSEAlgorithm.init(rawValue:)) else {
            throw WebAuthnError(.unsupported, "COSE algorithm \(algValue) is not supported: use ES256 (-7), EdDSA (-8) or RS256 (-257)")
        }
        switch kty {
        case 2:
            guard map[Label.d] == nil else { throw WebAuthnError(.malformed, "the credential public key holds a private key") }
            guard let crv = map[Label.crv]?.int64 else { throw WebAuthnError(.malformed, "the EC2 key has no curve (label -1)") }
            guard crv == 1 else { throw WebAuthnError(.unsupported, "EC2 curve \(crv) is not supported: only P-256 (1)") }
            guard algorithm == .es256 else { throw WebAuthnError(.malformed, "a P-256 key is declared for \(algorithm), not ES256") }
            guard let x = map[Label.x]?.bytes, let y = map[Label.y]?.bytes, x.count == 32, y.count == 32 else {
                throw WebAuthnError(.malformed, "the P-256 key needs x and y as 32-byte strings")
            }
            guard let key = try? P256.Signing.PublicKey(x963Representation: [0x04] + x + y) else {
                throw WebAuthnError(.malformed, "the P-256 key's point is not on the curve")
            }
            self = .p256(key)
        case 1:
            guard map[Label.d] == nil else { throw WebAuthnError(.malformed, "the credential public key holds a private key") }
            guard let crv = map[Label.crv]?.int64 else { throw WebAuthnError(.malformed, "the OKP key has no curve (label -1)") }
            guard crv == 6 else { throw WebAuthnError(.unsupported, "OKP curve \(crv) is not supported: only Ed25519 (6)") }
            guard algorithm == .eddsa else { throw WebAuthnError(.malformed, "an Ed25519 key is declared for \(algorithm), not EdDSA") }
            guard let x = map[Label.x]?.bytes, x.count == 32,
                  let key = try? Curve25519.Signing.PublicKey(rawRepresentation: x) else {
                throw WebAuthnError(.malformed, "the Ed25519 key needs x as a 32-byte string")
            }
            self = .ed25519(key)
        case 3:
            guard algorithm == .rs256 else { throw WebAuthnError(.malformed, "an RSA key is declared for \(algorithm), not RS256") }
            guard let n = map[Label.n]?.bytes, let e = map[Label.e]?.bytes, !n.isEmpty, !e.isEmpty else {
                throw WebAuthnError(.malformed, "the RSA key needs n and e as byte strings")
            }
            self = try Self.rsa(n: n, e: e)
        default:
            throw WebAuthnError(.unsupported, "COSE key type \(kty) is not supported: use EC2 (2), OKP (1) or RSA (3)")
        }
    }

    private static func rsa(n: [UInt8], e: [UInt8]) throws(WebAuthnError) -> VerifyingKey {
        let significant = n.drop { $0 == 0 }
        let bits = significant.count * 8 - (significant.first.map { $0.leadingZeroBitCount } ?? 0)
        guard bits >= minimumRSABits, bits <= maximumRSABits else {
            throw WebAuthnError(.unsupported, "an RSA key of \(bits) bits is not accepted: use \(minimumRSABits) to \(maximumRSABits)")
        }
        guard e.count <= 8, let key = try? _RSA.Signing.PublicKey(n: n, e: e) else {
            throw WebAuthnError(.malformed, "the RSA key's modulus and exponent do not make a public key")
        }
        return .rsa(key)
    }
}
