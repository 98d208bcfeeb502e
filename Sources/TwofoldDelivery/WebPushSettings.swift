import Foundation
import TwofoldCore
import TwofoldWebPush

/// The Web Push provider's settings: the VAPID key that signs every push request, the contact
/// the push services see, and whether development endpoints on this machine are allowed.
/// The key is never printed.
public struct WebPushSettings: Sendable, Equatable, CustomStringConvertible {
    /// `TWOFOLD_VAPID_KEY_FILE`: a P-256 private key in PEM (PKCS#8 or SEC1).
    public var vapidKeyFile: String
    /// `TWOFOLD_VAPID_SUBJECT`: a `mailto:` address or an `https:` URL at which push services
    /// can reach the operator (RFC 8292 §2.1).
    public var subject: String
    /// Development only: also accept `http://` endpoints on 127.0.0.1, ::1 and localhost, as a
    /// local push service (a UnifiedPush distributor, a test fake) has them.
    public var allowLoopbackHTTP: Bool

    /// The largest key file read: a PEM key is a few hundred bytes.
    static let maximumKeyFileBytes = 64 * 1024

    public init(vapidKeyFile: String, subject: String, allowLoopbackHTTP: Bool = false) {
        self.vapidKeyFile = vapidKeyFile
        self.subject = subject
        self.allowLoopbackHTTP = allowLoopbackHTTP
    }

    /// - Throws: `configuration` naming `TWOFOLD_VAPID_SUBJECT` or `TWOFOLD_VAPID_KEY_FILE`.
    public func validate() throws(TwofoldError) {
        do {
            try VAPIDAuthorization.checkSubject(subject)
        } catch {
            throw TwofoldError(.configuration, "TWOFOLD_VAPID_SUBJECT must be a mailto: address or an https: URL at which push services can reach you, such as mailto:ops@example.com")
        }
        guard !vapidKeyFile.isEmpty else {
            throw TwofoldError(.configuration, "TWOFOLD_VAPID_KEY_FILE is required by the webpush provider: a P-256 private key in PEM (e.g. openssl ecparam -name prime256v1 -genkey -noout -out vapid.pem)")
        }
    }

    /// Reads and parses the key file.
    ///
    /// - Throws: `configuration` naming `TWOFOLD_VAPID_KEY_FILE` for a file that cannot be read or
    ///   holds no P-256 private key (the message never shows the file's contents).
    public func loadKey() throws(TwofoldError) -> VAPIDKey {
        try validate()
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: vapidKeyFile, isDirectory: &isDirectory), !isDirectory.boolValue,
              let handle = FileHandle(forReadingAtPath: vapidKeyFile) else {
            throw TwofoldError(.configuration, "TWOFOLD_VAPID_KEY_FILE: cannot read the VAPID key file \(vapidKeyFile)")
        }
        defer { try? handle.close() }
        let contents: Data
        do {
            contents = try handle.read(upToCount: Self.maximumKeyFileBytes + 1) ?? Data()
        } catch {
            throw TwofoldError(.configuration, "TWOFOLD_VAPID_KEY_FILE: cannot read the VAPID key file \(vapidKeyFile)")
        }
        guard contents.count <= Self.maximumKeyFileBytes else {
            throw TwofoldError(.configuration, "TWOFOLD_VAPID_KEY_FILE: \(vapidKeyFile) is larger than a PEM key can be")
        }
        do {
            return try VAPIDKey(pemRepresentation: String(decoding: contents, as: UTF8.self))
        } catch {
            throw TwofoldError(.configuration, "TWOFOLD_VAPID_KEY_FILE: \(vapidKeyFile) holds no P-256 private key in PEM (PKCS#8 \"PRIVATE KEY\" or SEC1 \"EC PRIVATE KEY\")")
        }
    }

    public var description: String {
        "Web Push as \(subject), VAPID key from \(vapidKeyFile)\(allowLoopbackHTTP ? ", http:// allowed on loopback" : "")"
    }
}
