import Crypto
import Foundation

/// A key sealed under a master key, with the id of that key.
public struct WrappedKey: Sendable, Equatable {
    public var keyID: String
    public var bytes: [UInt8]

    public init(keyID: String, bytes: [UInt8]) {
        self.keyID = keyID
        self.bytes = bytes
    }
}

/// AES-256-GCM envelope encryption.
///
/// Every sealed value carries the identity of the record it belongs to as associated data
/// (application, user, factor, purpose). A sealed value copied into another row therefore
/// fails to open instead of silently decrypting.
enum Envelope {
    private static let version: UInt8 = 1

    /// What every framed field list starts with.
    static let domain: [UInt8] = Array("twofold/v1".utf8)

    /// Length-prefixed parts, so that ("ab", "c") and ("a", "bc") never collide.
    static func associatedData(_ parts: [String]) -> [UInt8] {
        var output = domain
        for part in parts {
            let bytes = Array(part.utf8)
            output += withUnsafeBytes(of: UInt32(bytes.count).bigEndian) { Array($0) }
            output += bytes
        }
        return output
    }

    static func seal(_ plaintext: [UInt8], key: SymmetricKey, context: [String], random: any RandomSource) throws(TwofoldError) -> [UInt8] {
        do {
            let nonce = try AES.GCM.Nonce(data: random.bytes(12))
            let box = try AES.GCM.seal(plaintext, using: key, nonce: nonce, authenticating: associatedData(context))
            guard let combined = box.combined else {
                throw TwofoldError(.sealing, "AES-GCM produced no combined output")
            }
            return [version] + Array(combined)
        } catch let error as TwofoldError {
            throw error
        } catch {
            throw TwofoldError(.sealing, "sealing failed: \(error)")
        }
    }

    static func open(_ sealed: [UInt8], key: SymmetricKey, context: [String]) throws(TwofoldError) -> [UInt8] {
        guard sealed.count > 1 + 12 + 16, sealed[0] == version else {
            throw TwofoldError(.sealing, "a sealed value is truncated or of an unknown version")
        }
        do {
            let box = try AES.GCM.SealedBox(combined: sealed.dropFirst())
            return Array(try AES.GCM.open(box, using: key, authenticating: associatedData(context)))
        } catch {
            throw TwofoldError(.sealing, "a sealed value does not open: it belongs to another record, or the key is wrong")
        }
    }

    static func wrap(_ key: SymmetricKey, under master: MasterKey, context: [String], random: any RandomSource) throws(TwofoldError) -> WrappedKey {
        let bytes = key.withUnsafeBytes { Array($0) }
        return WrappedKey(keyID: master.id, bytes: try seal(bytes, key: master.key, context: context, random: random))
    }

    static func unwrap(_ wrapped: WrappedKey, keyring: Keyring, context: [String]) throws(TwofoldError) -> SymmetricKey {
        let master = try keyring.key(id: wrapped.keyID)
        return SymmetricKey(data: try open(wrapped.bytes, key: master.key, context: context))
    }
}
