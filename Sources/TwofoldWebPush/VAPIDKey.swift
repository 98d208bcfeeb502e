import Crypto

/// The application server's VAPID key pair (RFC 8292): push services tie a subscription to its
/// public key, so only the holder of the private key can push to it.
///
/// Browsers receive the public key as `applicationServerKey` when they subscribe; the private
/// key signs every push request's `Authorization` header. It is never printed.
public struct VAPIDKey: Sendable, CustomStringConvertible {
    /// The P-256 signing key.
    public let signingKey: P256.Signing.PrivateKey

    public init(signingKey: P256.Signing.PrivateKey) {
        self.signingKey = signingKey
    }

    /// Loads a key from PEM: PKCS#8 (`BEGIN PRIVATE KEY`, as py-vapid and `openssl genpkey`
    /// write it) or SEC1 (`BEGIN EC PRIVATE KEY`, as `openssl ecparam -genkey` writes it, with or
    /// without its `EC PARAMETERS` block).
    ///
    /// - Throws: ``WebPushError`` `invalid_vapid_key` when the text holds no P-256 private key.
    public init(pemRepresentation pem: String) throws(WebPushError) {
        let block = Self.privateKeyBlock(in: pem) ?? pem
        do {
            signingKey = try P256.Signing.PrivateKey(pemRepresentation: block)
        } catch {
            throw WebPushError(.invalidVAPIDKey, "the VAPID key is not a P-256 private key in PEM (PKCS#8 \"PRIVATE KEY\" or SEC1 \"EC PRIVATE KEY\")")
        }
    }

    /// A new random key, for `twofold` to generate one.
    public static func generate() -> VAPIDKey {
        VAPIDKey(signingKey: P256.Signing.PrivateKey())
    }

    /// The private key as PKCS#8 PEM, to save to a file only its owner can read.
    public var pemRepresentation: String { signingKey.pemRepresentation }

    /// The public key, uncompressed (65 bytes): the `k` of the `Authorization` header.
    public var publicKey: [UInt8] { Array(signingKey.publicKey.x963Representation) }

    /// The public key in Base64URL, as a web page passes it to `pushManager.subscribe` as
    /// `applicationServerKey`.
    public var applicationServerKey: String { Base64URL.encode(publicKey) }

    public var description: String { "VAPID key \(applicationServerKey) (private key not shown)" }

    /// The private key's PEM block when the text holds several (`EC PARAMETERS` first, say).
    private static func privateKeyBlock(in pem: String) -> String? {
        for label in ["EC PRIVATE KEY", "PRIVATE KEY"] {
            let begin = "-----BEGIN \(label)-----"
            let end = "-----END \(label)-----"
            guard let start = pem.range(of: begin), let stop = pem.range(of: end, range: start.upperBound..<pem.endIndex) else {
                continue
            }
            return String(pem[start.lowerBound..<stop.upperBound])
        }
        return nil
    }
}
