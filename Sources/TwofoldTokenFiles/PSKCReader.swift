/// Reads one PSKC document (RFC 6030) as it streams past: checks the root, takes in the
/// container's `EncryptionKey` and `MACMethod`, and turns each `KeyPackage` into a token as
/// soon as it ends.
final class PSKCReader: XMLSubtreeSink {
    private var encryption: PSKCEncryption
    private(set) var tokens: [HardwareToken] = []
    /// Serial → the key Id (or package number) that claimed it, to name both on a duplicate.
    private var serials: [String: String] = [:]
    private var keyPackages = 0
    private var seenEncryptionKey = false
    private var seenMACMethod = false

    init(key: TokenFileKey) {
        encryption = PSKCEncryption(key: key)
    }

    func root(_ element: XMLElementNode) throws(TokenFileError) {
        guard element.is(XMLNamespace.pskc, "KeyContainer") else {
            let namespace = element.namespace.isEmpty ? "no namespace" : "namespace \(TokenFileText.quoted(element.namespace))"
            throw TokenFileError(.malformed, "not a PSKC file: the root element is \(TokenFileText.quoted(element.name)) in \(namespace), not KeyContainer in \(XMLNamespace.pskc)")
        }
        // RFC 6030 §4: Version "1.0"; a later major version may mean anything.
        if let version = element.attributes["Version"], TokenFileText.trimmingXMLSpace(version) != "1.0" {
            throw TokenFileError(.unsupported, "PSKC version \(TokenFileText.quoted(version)); Twofold reads version 1.0")
        }
    }

    func retains(namespace: String, name: String) -> Bool {
        // The container's Signature (§8) is not checked and its Extensions carry nothing
        // Twofold uses, so neither is built.
        namespace == XMLNamespace.pskc && ["EncryptionKey", "MACMethod", "KeyPackage"].contains(name)
    }

    func child(_ element: XMLElementNode) throws(TokenFileError) {
        switch element.name {
        case "EncryptionKey":
            guard !seenEncryptionKey, keyPackages == 0 else {
                throw TokenFileError(.malformed, "EncryptionKey must come once, before the key packages")
            }
            seenEncryptionKey = true
            try encryption.read(encryptionKey: element)
        case "MACMethod":
            guard !seenMACMethod, keyPackages == 0 else {
                throw TokenFileError(.malformed, "MACMethod must come once, before the key packages")
            }
            seenMACMethod = true
            try encryption.read(macMethod: element)
        default:
            keyPackages += 1
            guard keyPackages <= TokenFile.maximumTokenCount else {
                throw TokenFileError(.tooLarge, "the file holds more than \(TokenFile.maximumTokenCount) key packages")
            }
            guard let (token, label) = try PSKCKeyPackage.read(element, number: keyPackages, encryption: &encryption) else { return }
            if let earlier = serials[token.serial] {
                throw TokenFileError(.duplicateSerial, "the serial \(TokenFileText.quoted(token.serial)) belongs to both \(earlier) and \(label)")
            }
            serials[token.serial] = label
            tokens.append(token)
        }
    }
}
