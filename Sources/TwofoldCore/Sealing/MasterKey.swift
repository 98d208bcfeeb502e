import Crypto
import Foundation

/// A 256-bit key-encryption key from configuration. It wraps users' data keys and Twofold's
/// own keys; it never encrypts user data directly, so rotating it re-wraps keys, not secrets.
public struct MasterKey: Sendable {
    /// Derived from the key itself, so the same file always names the same id and no
    /// separate id can be mistyped: `mk_` and 16 hex digits.
    public let id: String
    let key: SymmetricKey

    static let fileHeader = "twofold-master-key-v1"

    /// - Throws: `configuration` unless `bytes` is exactly 32 bytes.
    public init(bytes: [UInt8]) throws(TwofoldError) {
        guard bytes.count == 32 else {
            throw TwofoldError(.configuration, "a master key must be 32 bytes, not \(bytes.count)")
        }
        key = SymmetricKey(data: bytes)
        let digest = SHA256.hash(data: Array("twofold master key id\u{0}".utf8) + bytes)
        id = "mk_" + digest.prefix(8).map { String(format: "%02x", $0) }.joined()
    }

    /// A new key from `random`.
    public static func generate(using random: any RandomSource = SystemRandomSource()) -> MasterKey {
        // 32 bytes always satisfy the initializer.
        try! MasterKey(bytes: random.bytes(32))
    }

    /// The key file format: one line, `twofold-master-key-v1 <base64 of 32 bytes>`.
    public var fileContents: String {
        let bytes = key.withUnsafeBytes { Data($0) }
        return "\(Self.fileHeader) \(bytes.base64EncodedString())\n"
    }

    /// Reads a key file's contents.
    /// - Throws: `configuration` naming what is wrong.
    public init(fileContents: String) throws(TwofoldError) {
        let parts = fileContents.split(whereSeparator: { $0 == " " || $0 == "\n" || $0 == "\r" || $0 == "\t" })
        guard parts.count == 2, parts[0] == Self.fileHeader else {
            throw TwofoldError(.configuration, "not a Twofold master key file: expected one line \"\(Self.fileHeader) <base64>\" (make one with `twofold keys generate FILE`)")
        }
        guard let data = Data(base64Encoded: String(parts[1])) else {
            throw TwofoldError(.configuration, "the master key is not valid base64")
        }
        try self.init(bytes: Array(data))
    }
}
