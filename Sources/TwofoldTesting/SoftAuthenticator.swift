import Crypto
import Foundation

/// A software security key for tests: a P-256 credential that answers the options Twofold
/// sends with the JSON a browser would relay (`PublicKeyCredential.toJSON()`), self-attested
/// (`packed` without a certificate) or with no attestation (`none`).
///
/// Its ceremony checks are meant to be changed one at a time (``Tamper``), so that a test shows
/// each of Twofold's checks refuse exactly what it should. Independent authenticators (python's
/// `fido2` and `soft-webauthn`) drive the same ceremonies in the end-to-end tests.
public final class SoftAuthenticator: @unchecked Sendable {
    public let credentialID: [UInt8]
    public let privateKey: P256.Signing.PrivateKey
    public var signCount: UInt32
    public var attestation: String

    /// One thing wrong in the next answer.
    public enum Tamper: Sendable {
        case none
        case origin(String)
        case rpID(String)
        case type(String)
        case challenge([UInt8])
        case clearUserPresence
        case signature
    }

    public init(signCount: UInt32 = 0, attestation: String = "none") {
        credentialID = (0..<32).map { _ in UInt8.random(in: 0...255) }
        privateKey = P256.Signing.PrivateKey()
        self.signCount = signCount
        self.attestation = attestation
    }

    /// Answers creation options (`public_key` of an enrollment) as the browser's JSON.
    public func register(_ options: [String: Any], origin: String, tamper: Tamper = .none) throws -> [UInt8] {
        let challenge = try Self.bytes(options["challenge"])
        let rpID = (options["rp"] as? [String: Any])?["id"] as? String ?? ""
        let clientData = clientDataJSON(type: "webauthn.create", challenge: challenge, origin: origin, tamper: tamper)
        var authData = authenticatorData(rpID: rpID, tamper: tamper, attested: true)
        let statement: [(CBOR, CBOR)]
        if attestation == "packed" {
            var signature = try privateKey.signature(for: authData + Array(SHA256.hash(data: clientData))).derRepresentation
            if case .signature = tamper { signature[signature.count - 1] ^= 1 }
            statement = [(.text("alg"), .negative(6)), (.text("sig"), .bytes(Array(signature)))]
        } else {
            statement = []
            if case .signature = tamper { authData[authData.count - 1] ^= 1 }
        }
        let object = CBOR.map([(.text("fmt"), .text(attestation)), (.text("attStmt"), .map(statement)), (.text("authData"), .bytes(authData))])
        return try json([
            "id": Self.base64URL(credentialID), "rawId": Self.base64URL(credentialID), "type": "public-key",
            "response": ["clientDataJSON": Self.base64URL(clientData), "attestationObject": Self.base64URL(object.encoded()),
                         "transports": ["usb"]],
            "clientExtensionResults": [String: Any](),
        ])
    }

    /// Answers request options (`public_key` of a challenge) as the browser's JSON, counting one use.
    public func authenticate(_ options: [String: Any], origin: String, tamper: Tamper = .none) throws -> [UInt8] {
        let challenge = try Self.bytes(options["challenge"])
        let rpID = options["rpId"] as? String ?? ""
        if signCount > 0 { signCount += 1 }
        let clientData = clientDataJSON(type: "webauthn.get", challenge: challenge, origin: origin, tamper: tamper)
        let authData = authenticatorData(rpID: rpID, tamper: tamper, attested: false)
        var signature = Array(try privateKey.signature(for: authData + Array(SHA256.hash(data: clientData))).derRepresentation)
        if case .signature = tamper { signature[signature.count - 1] ^= 1 }
        return try json([
            "id": Self.base64URL(credentialID), "rawId": Self.base64URL(credentialID), "type": "public-key",
            "response": ["clientDataJSON": Self.base64URL(clientData), "authenticatorData": Self.base64URL(authData),
                         "signature": Self.base64URL(signature)],
            "clientExtensionResults": [String: Any](),
        ])
    }

    private func clientDataJSON(type: String, challenge: [UInt8], origin: String, tamper: Tamper) -> [UInt8] {
        var type = type, challenge = challenge, origin = origin
        switch tamper {
        case .type(let other): type = other
        case .challenge(let other): challenge = other
        case .origin(let other): origin = other
        default: break
        }
        return Array(#"{"type":"\#(type)","challenge":"\#(Self.base64URL(challenge))","origin":"\#(origin)","crossOrigin":false}"#.utf8)
    }

    private func authenticatorData(rpID: String, tamper: Tamper, attested: Bool) -> [UInt8] {
        var rpID = rpID
        if case .rpID(let other) = tamper { rpID = other }
        var flags: UInt8 = 0x01 | 0x04  // user present, user verified
        if case .clearUserPresence = tamper { flags &= ~0x01 }
        if attested { flags |= 0x40 }
        var data = Array(SHA256.hash(data: Array(rpID.utf8))) + [flags]
        data += withUnsafeBytes(of: signCount.bigEndian, Array.init)
        if attested {
            data += [UInt8](repeating: 0, count: 16)  // AAGUID
            data += [UInt8(credentialID.count >> 8), UInt8(credentialID.count & 0xFF)] + credentialID
            data += coseKey.encoded()
        }
        return data
    }

    /// The credential's public key as a COSE_Key (EC2, P-256, ES256).
    public var coseKey: CBOR {
        let point = Array(privateKey.publicKey.x963Representation)
        return .map([(.unsigned(1), .unsigned(2)), (.unsigned(3), .negative(6)), (.negative(0), .unsigned(1)),
                     (.negative(1), .bytes(Array(point[1...32]))), (.negative(2), .bytes(Array(point[33...64])))])
    }

    private func json(_ object: [String: Any]) throws -> [UInt8] {
        Array(try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys]))
    }

    static func bytes(_ value: Any?) throws -> [UInt8] {
        guard let text = value as? String, let bytes = base64URLDecode(text) else {
            throw SoftAuthenticatorError(message: "the options hold no Base64URL challenge")
        }
        return bytes
    }

    public static func base64URL(_ bytes: [UInt8]) -> String {
        Data(bytes).base64EncodedString().replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_")
            .replacingOccurrences(of: "=", with: "")
    }

    static func base64URLDecode(_ text: String) -> [UInt8]? {
        var base64 = text.replacingOccurrences(of: "-", with: "+").replacingOccurrences(of: "_", with: "/")
        while base64.count % 4 != 0 { base64 += "=" }
        return Data(base64Encoded: base64).map(Array.init)
    }

    /// The few CBOR items WebAuthn needs, encoded definite-length.
    public indirect enum CBOR: Sendable {
        case unsigned(UInt64)
        /// -1 - n.
        case negative(UInt64)
        case bytes([UInt8])
        case text(String)
        case map([(CBOR, CBOR)])

        public func encoded() -> [UInt8] {
            switch self {
            case .unsigned(let value): Self.head(0, value)
            case .negative(let value): Self.head(1, value)
            case .bytes(let bytes): Self.head(2, UInt64(bytes.count)) + bytes
            case .text(let text): Self.head(3, UInt64(text.utf8.count)) + Array(text.utf8)
            case .map(let pairs): Self.head(5, UInt64(pairs.count)) + pairs.flatMap { $0.0.encoded() + $0.1.encoded() }
            }
        }

        static func head(_ major: UInt8, _ value: UInt64) -> [UInt8] {
            let type = major << 5
            switch value {
            case 0..<24: return [type | UInt8(value)]
            case 24...0xFF: return [type | 24, UInt8(value)]
            case 0x100...0xFFFF: return [type | 25] + withUnsafeBytes(of: UInt16(value).bigEndian, Array.init)
            case 0x1_0000...0xFFFF_FFFF: return [type | 26] + withUnsafeBytes(of: UInt32(value).bigEndian, Array.init)
            default: return [type | 27] + withUnsafeBytes(of: value.bigEndian, Array.init)
            }
        }
    }
}

public struct SoftAuthenticatorError: Error, CustomStringConvertible {
    public let message: String
    public var description: String { message }
}
