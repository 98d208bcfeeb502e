import Crypto
import Foundation
import Testing
import TwofoldWebPush

@Suite("VAPID (RFC 8292)")
struct VAPIDTests {
    static let now = Date(timeIntervalSince1970: 1_700_000_000)
    static let key = VAPIDKey.generate()

    static func authorization(_ subject: String = "mailto:ops@example.com") throws -> VAPIDAuthorization {
        try VAPIDAuthorization(key: key, subject: subject)
    }

    @Test("the header is vapid t=<JWT>, k=<public key>, and the JWT's ES256 signature verifies with that key")
    func signatureVerifies() throws {
        let value = try Self.authorization().header(for: "https://fcm.googleapis.com/fcm/send/abc:def", at: Self.now)
        #expect(value.hasPrefix("vapid t=ey"))
        #expect(value.contains(", k=\(Self.key.applicationServerKey)"))
        let parsed = try #require(ParsedVAPIDHeader(value))
        #expect(parsed.header == ["typ": "JWT", "alg": "ES256"])
        #expect(parsed.publicKey == Self.key.publicKey)
        #expect(parsed.publicKey.count == 65 && parsed.publicKey.first == 0x04)
        #expect(parsed.signature.count == 64)
        #expect(parsed.signatureIsValid)
    }

    @Test("a changed claim or another key no longer verifies")
    func tamperingBreaksSignature() throws {
        let value = try Self.authorization().header(for: "https://push.example.net/x", at: Self.now)
        var parsed = try #require(ParsedVAPIDHeader(value))
        parsed.signingInput += "x"
        #expect(!parsed.signatureIsValid)
        var otherKey = try #require(ParsedVAPIDHeader(value))
        otherKey.publicKey = VAPIDKey.generate().publicKey
        #expect(!otherKey.signatureIsValid)
    }

    @Test("claims are the endpoint's origin, now plus 12 hours, and the subject")
    func claims() throws {
        let value = try Self.authorization().header(for: "https://updates.push.services.mozilla.com/wpush/v2/gAAAA?x=1", at: Self.now)
        let parsed = try #require(ParsedVAPIDHeader(value))
        #expect(parsed.claims == [
            "aud": "https://updates.push.services.mozilla.com", "exp": 1_700_043_200, "sub": "mailto:ops@example.com",
        ] as NSDictionary)
        // Sorted keys, no escaped slashes: what push services have been seen to expect.
        #expect(String(decoding: bytes(value.split(separator: ".")[1].description), as: UTF8.self)
            == #"{"aud":"https://updates.push.services.mozilla.com","exp":1700043200,"sub":"mailto:ops@example.com"}"#)
    }

    @Test("exp is at most 24 hours away; a longer or non-positive lifetime is refused")
    func lifetime() throws {
        let authorization = try Self.authorization("https://twofold.example.com/contact")
        let day = try #require(ParsedVAPIDHeader(try authorization.header(for: "https://push.example.net", at: Self.now, lifetime: 86_400)))
        #expect(day.claims["exp"] as? Int == 1_700_086_400)
        let fractional = try #require(ParsedVAPIDHeader(try authorization.header(
            for: "https://push.example.net", at: Date(timeIntervalSince1970: 1_700_000_000.9), lifetime: 60)))
        #expect(fractional.claims["exp"] as? Int == 1_700_000_060)
        for lifetime in [0, -1, 86_401] as [TimeInterval] {
            let error = webPushError { () throws(WebPushError) in
                try authorization.header(for: "https://push.example.net", at: Self.now, lifetime: lifetime)
            }
            #expect(error?.code == .invalidLifetime)
        }
    }

    @Test("aud is the endpoint's origin: scheme, host and a port other than the default, no path", arguments: [
        ("https://push.example.net/wpush/v2/abc?q=1#frag", "https://push.example.net"),
        ("https://push.example.net:8443/p", "https://push.example.net:8443"),
        ("https://push.example.net:443/p", "https://push.example.net"),
        ("HTTPS://Push.Example.NET/Path", "https://push.example.net"),
        ("http://127.0.0.1:8080/push/1", "http://127.0.0.1:8080"),
        ("http://localhost:80/push", "http://localhost"),
        ("https://[::1]:9443/push", "https://[::1]:9443"),
        ("https://[2001:db8::1]/push", "https://[2001:db8::1]"),
    ])
    func audience(endpoint: String, origin: String) throws {
        #expect(try VAPIDAuthorization.audience(for: endpoint) == origin)
    }

    @Test("an endpoint that is not an http(s) URL with a host is refused", arguments: [
        "", "push.example.net/x", "ftp://push.example.net/x", "https:///x", "https://push.example.net/a b", "mailto:x@y",
    ])
    func refusesEndpoint(endpoint: String) throws {
        let error = webPushError { () throws(WebPushError) in try VAPIDAuthorization.audience(for: endpoint) }
        #expect(error?.code == .invalidEndpoint)
    }

    @Test("the subject must be a mailto: address or an https: URL", arguments: [
        ("mailto:ops@example.com", true), ("https://twofold.example.com", true), ("https://twofold.example.com/contact", true),
        ("MAILTO:ops@example.com", true),
        ("ops@example.com", false), ("mailto:", false), ("mailto:ops", false), ("mailto:@example.com", false),
        ("http://twofold.example.com", false), ("https://", false), ("mailto:ops @example.com", false), ("", false),
    ])
    func subject(subject: String, valid: Bool) {
        let error = webPushError { () throws(WebPushError) in try VAPIDAuthorization(key: Self.key, subject: subject) }
        #expect(error == nil ? valid : !valid && error?.code == .invalidVAPIDSubject, "\(subject)")
    }

    @Test("RFC 8292 §3's example header verifies with the same checks")
    func rfcExampleVerifies() throws {
        let example = "vapid t=eyJ0eXAiOiJKV1QiLCJhbGciOiJFUzI1NiJ9.eyJhdWQiOiJodHRwczovL3B1c2guZXhhbXBsZS5uZXQiLCJleHAiOjE0NTM1MjM3NjgsInN1YiI6Im1haWx0bzpwdXNoQGV4YW1wbGUuY29tIn0.i3CYb7t4xfxCDquptFOepC9GAu_HLGkMlMuCGSK2rpiUfnK9ojFwDXb1JrErtmysazNjjvW2L9OkSSHzvoD1oA, k=BA1Hxzyi1RUM1b5wjxsn7nGxAszw2u61m164i3MrAIxHF6YK5h4SDYic-dRuU_RCPCfA5aq9ojSwk5Y2EmClBPs"
        let parsed = try #require(ParsedVAPIDHeader(example))
        #expect(parsed.signatureIsValid)
        #expect(parsed.claims == ["aud": "https://push.example.net", "exp": 1_453_523_768, "sub": "mailto:push@example.com"] as NSDictionary)
    }

    @Test("a key loads from PKCS#8 and SEC1 PEM, with or without OpenSSL's EC PARAMETERS block")
    func loadsPEM() throws {
        let pkcs8 = Self.key.pemRepresentation
        #expect(pkcs8.hasPrefix("-----BEGIN PRIVATE KEY-----"))
        #expect(try VAPIDKey(pemRepresentation: pkcs8).publicKey == Self.key.publicKey)
        let sec1 = Self.sec1PEM(Self.key.signingKey)
        #expect(try VAPIDKey(pemRepresentation: sec1).publicKey == Self.key.publicKey)
        let withParameters = "-----BEGIN EC PARAMETERS-----\nBggqhkjOPQMBBw==\n-----END EC PARAMETERS-----\n" + sec1
        #expect(try VAPIDKey(pemRepresentation: withParameters).publicKey == Self.key.publicKey)
    }

    @Test("anything but a P-256 private key in PEM is refused", arguments: [
        "", "not a key", "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n",
        P384.Signing.PrivateKey().pemRepresentation,
        P256.Signing.PrivateKey().publicKey.pemRepresentation,
    ])
    func refusesPEM(pem: String) {
        let error = webPushError { () throws(WebPushError) in try VAPIDKey(pemRepresentation: pem) }
        #expect(error?.code == .invalidVAPIDKey)
    }

    @Test("the key's description shows the public key only")
    func description() throws {
        let secret = Base64URL.encode(Array(Self.key.signingKey.rawRepresentation))
        #expect(!"\(Self.key)".contains(secret))
        #expect("\(Self.key)".contains(Self.key.applicationServerKey))
    }

    /// SEC1 `EC PRIVATE KEY`, as `openssl ecparam -genkey -noout` writes it, from the DER swift-crypto gives.
    static func sec1PEM(_ key: P256.Signing.PrivateKey) -> String {
        let der = key.x963Representation  // 0x04 ‖ X ‖ Y ‖ d
        let d = Array(der.suffix(32))
        let point = Array(der.prefix(65))
        // ECPrivateKey ::= SEQUENCE { 1, OCTET STRING d, [0] prime256v1, [1] BIT STRING point }
        let body: [UInt8] = [0x02, 0x01, 0x01, 0x04, 0x20] + d
            + [0xA0, 0x0A, 0x06, 0x08, 0x2A, 0x86, 0x48, 0xCE, 0x3D, 0x03, 0x01, 0x07]
            + [0xA1, 0x44, 0x03, 0x42, 0x00] + point
        let sequence: [UInt8] = [0x30, UInt8(body.count)] + body
        let base64 = Data(sequence).base64EncodedString(options: [.lineLength64Characters, .endLineWithLineFeed])
        return "-----BEGIN EC PRIVATE KEY-----\n\(base64)\n-----END EC PRIVATE KEY-----\n"
    }
}
