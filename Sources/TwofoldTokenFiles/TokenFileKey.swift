/// What opens an encrypted token file.
public enum TokenFileKey: Sendable {
    /// The file is expected to be plain.
    case none
    /// The pre-shared AES key the vendor sent separately (RFC 6030 §6.1): 16, 24 or 32 bytes
    /// for AES-128, -192 or -256. For a password-based file it is taken as the derived key.
    case preSharedKey([UInt8])
    /// The password of a password-based file (RFC 6030 §6.2), as UTF-8.
    case password(String)
}
