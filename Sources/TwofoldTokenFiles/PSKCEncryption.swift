import _CryptoExtras

/// The keys of one PSKC file: how its values are encrypted (`EncryptionKey`, RFC 6030 §6),
/// how they are authenticated (`MACMethod`, §6.1.1), and the key the caller gave.
///
/// Keys are resolved when the first encrypted value needs them, so a plain file opens with
/// ``TokenFileKey/none`` whatever its container says.
struct PSKCEncryption {
    /// PBKDF2 parameters (RFC 6030 §6.2, PKCS #5 v2.0 `PBKDF2-params`).
    struct PBKDF2Parameters {
        var salt: [UInt8]
        var iterations: Int
        var keyLength: Int?
        var prf: PSKCAlgorithms.HMACHash
    }

    enum Method {
        /// No `EncryptionKey`: encrypted values, if any, are under a pre-shared key.
        case unspecified
        /// `ds:KeyName`: a pre-shared key, by name.
        case preShared(name: String?)
        /// `xenc11:DerivedKey`: a key derived from a password.
        case derived(PBKDF2Parameters, name: String?)
        /// A certificate or public key: the values are encrypted to a private key.
        case asymmetric
    }

    /// The most PBKDF2 iterations a file may ask for: a hostile file must not keep the
    /// importer busy for minutes. 5,000,000 rounds of HMAC-SHA-1 take about a second.
    static let maximumIterations = 5_000_000

    let key: TokenFileKey
    private(set) var method = Method.unspecified
    private var macHash: PSKCAlgorithms.HMACHash?
    private var encryptedMACKey: XMLElementNode?
    private var macKeyIsReference = false
    private var derivedKeys: [Int: [UInt8]] = [:]
    private var macKey: [UInt8]?

    init(key: TokenFileKey) {
        self.key = key
    }

    // MARK: Reading the container

    /// Reads `EncryptionKey`.
    mutating func read(encryptionKey element: XMLElementNode) throws(TokenFileError) {
        let context = "EncryptionKey"
        if let derived = try element.one(XMLNamespace.xmlenc11, "DerivedKey", in: context) {
            method = try Self.readDerivedKey(derived)
        } else if let name = try element.one(XMLNamespace.xmldsig, "KeyName", in: context) {
            method = .preShared(name: name.text.isEmpty ? nil : name.text)
        } else if element.children.contains(where: { $0.namespace == XMLNamespace.xmldsig || $0.namespace == XMLNamespace.xmlenc }) {
            method = .asymmetric
        } else {
            method = .preShared(name: nil)
        }
    }

    private static func readDerivedKey(_ derived: XMLElementNode) throws(TokenFileError) -> Method {
        let context = "DerivedKey"
        let name = try derived.one(XMLNamespace.xmlenc11, "MasterKeyName", in: context)?.text
        guard let method = try derived.one(XMLNamespace.xmlenc11, "KeyDerivationMethod", in: context) else {
            throw TokenFileError(.malformed, "the DerivedKey has no KeyDerivationMethod")
        }
        let algorithm = method.attributes["Algorithm"] ?? ""
        guard PSKCAlgorithms.isPBKDF2(algorithm) else {
            throw TokenFileError(.unsupported, "the key is derived with \(TokenFileText.quoted(algorithm)); Twofold reads PBKDF2 (RFC 6030 §6.2)")
        }
        guard let params = try method.one([XMLNamespace.pkcs5, XMLNamespace.xmlenc11], "PBKDF2-params", in: "KeyDerivationMethod") else {
            throw TokenFileError(.malformed, "the KeyDerivationMethod has no PBKDF2-params")
        }
        // RFC 6030's Figure 7 writes the parameters' children with no namespace; XML
        // Encryption 1.1 puts them in its own. Both are read.
        let namespaces = [params.namespace, XMLNamespace.pkcs5, XMLNamespace.xmlenc11, XMLNamespace.none]
        let paramsContext = "PBKDF2-params"
        guard let salt = try params.one(namespaces, "Salt", in: paramsContext) else {
            throw TokenFileError(.malformed, "the PBKDF2-params have no Salt")
        }
        guard let specified = try salt.one([salt.namespace] + namespaces, "Specified", in: "Salt") else {
            throw TokenFileError(.unsupported, "the PBKDF2 salt is not given in the file (Salt/Specified)")
        }
        guard let saltBytes = TokenFileText.base64(specified.text), !saltBytes.isEmpty else {
            throw TokenFileError(.malformed, "the PBKDF2 salt is not Base64")
        }
        guard let countText = try params.one(namespaces, "IterationCount", in: paramsContext)?.text,
              let iterations = Int(countText), iterations >= 1 else {
            throw TokenFileError(.malformed, "the PBKDF2 IterationCount is missing or not a positive number")
        }
        guard iterations <= maximumIterations else {
            throw TokenFileError(.unsupported, "PBKDF2 with \(iterations) iterations; Twofold runs at most \(maximumIterations)")
        }
        var keyLength: Int?
        if let lengthText = try params.one(namespaces, "KeyLength", in: paramsContext)?.text {
            guard let length = Int(lengthText), [16, 24, 32].contains(length) else {
                throw TokenFileError(.malformed, "the PBKDF2 KeyLength \(TokenFileText.quoted(lengthText)) is not 16, 24 or 32 bytes")
            }
            keyLength = length
        }
        var prf = PSKCAlgorithms.HMACHash.sha1
        if let prfElement = try params.one(namespaces, "PRF", in: paramsContext),
           let uri = prfElement.attributes["Algorithm"], !TokenFileText.trimmingXMLSpace(uri).isEmpty {
            guard let hash = PSKCAlgorithms.HMACHash(uri: uri) else {
                throw TokenFileError(.unsupported, "the PBKDF2 PRF \(TokenFileText.quoted(uri)) is not one of \(PSKCAlgorithms.HMACHash.supported)")
            }
            prf = hash
        }
        return .derived(PBKDF2Parameters(salt: saltBytes, iterations: iterations, keyLength: keyLength, prf: prf), name: name)
    }

    /// Reads `MACMethod`.
    mutating func read(macMethod element: XMLElementNode) throws(TokenFileError) {
        let algorithm = element.attributes["Algorithm"] ?? ""
        guard let hash = PSKCAlgorithms.HMACHash(uri: algorithm) else {
            throw TokenFileError(.unsupported, "the MACMethod \(TokenFileText.quoted(algorithm)) is not one of \(PSKCAlgorithms.HMACHash.supported)")
        }
        macHash = hash
        encryptedMACKey = try element.one(XMLNamespace.pskc, "MACKey", in: "MACMethod")
        macKeyIsReference = try element.one(XMLNamespace.pskc, "MACKeyReference", in: "MACMethod") != nil
    }

    // MARK: Decrypting values

    /// Checks the MAC of an `EncryptedValue` and decrypts it.
    ///
    /// Encrypt-then-MAC (RFC 6030 §6.1.1): the MAC covers IV ‖ ciphertext and is checked, in
    /// constant time, before anything is decrypted.
    /// - Parameters:
    ///   - value: the `EncryptedValue` element.
    ///   - mac: the `ValueMAC` beside it, if any.
    ///   - what: names the value in messages, e.g. `key "123" Secret`.
    /// - Throws: `keyRequired`, `wrongKey` (a MAC that does not hold), `unsupported` (a
    ///   cipher other than AES-CBC), `malformed`.
    mutating func decrypt(_ value: XMLElementNode, mac: XMLElementNode?, what: String) throws(TokenFileError) -> [UInt8] {
        let (cipher, bytes) = try Self.cipherValue(of: value, what: what)
        let key = try encryptionKey(for: cipher, what: what)
        guard let mac else {
            throw TokenFileError(.malformed, "\(what) is encrypted with \(cipher.name) but has no ValueMAC, which RFC 6030 §6.1.1 requires")
        }
        guard let macHash else {
            throw TokenFileError(.malformed, "\(what) has a ValueMAC but the file has no MACMethod")
        }
        guard let macBytes = TokenFileText.base64(mac.text) else {
            throw TokenFileError(.malformed, "the ValueMAC of \(what) is not Base64")
        }
        let macKey = try self.macKey(what: what)
        guard macHash.isValid(mac: macBytes, of: bytes, key: macKey) else {
            throw TokenFileError(.wrongKey, "the ValueMAC of \(what) does not hold: the key or password is wrong, or the file was altered")
        }
        guard let plaintext = AESCBC.decrypt(bytes, key: key) else {
            throw TokenFileError(.malformed, "\(what) is not padded as PKCS #7 although its MAC holds: the file was made wrongly")
        }
        return plaintext
    }

    /// The cipher and the IV ‖ ciphertext of an element holding `xenc:EncryptionMethod` and
    /// `xenc:CipherData` (an `EncryptedValue` or the `MACKey`).
    private static func cipherValue(of element: XMLElementNode, what: String) throws(TokenFileError) -> (PSKCAlgorithms.Cipher, [UInt8]) {
        guard let method = try element.one(XMLNamespace.xmlenc, "EncryptionMethod", in: what) else {
            throw TokenFileError(.malformed, "\(what) is encrypted but has no EncryptionMethod")
        }
        let uri = method.attributes["Algorithm"] ?? ""
        guard let cipher = PSKCAlgorithms.Cipher(uri: uri) else {
            throw TokenFileError(.unsupported, "\(what) is encrypted with \(TokenFileText.quoted(uri)); Twofold reads \(PSKCAlgorithms.Cipher.supported) under a pre-shared key or password")
        }
        guard let data = try element.one(XMLNamespace.xmlenc, "CipherData", in: what) else {
            throw TokenFileError(.malformed, "\(what) has no CipherData")
        }
        guard let valueElement = try data.one(XMLNamespace.xmlenc, "CipherValue", in: what) else {
            throw TokenFileError(.unsupported, "\(what) has no CipherValue (a CipherReference is not followed)")
        }
        guard let bytes = TokenFileText.base64(valueElement.text) else {
            throw TokenFileError(.malformed, "the CipherValue of \(what) is not Base64")
        }
        guard AESCBC.hasValidShape(bytes) else {
            throw TokenFileError(.malformed, "the CipherValue of \(what) is \(bytes.count) bytes, not an IV and whole AES blocks")
        }
        return (cipher, bytes)
    }

    /// The AES key for `cipher`, from the caller's key and the container's `EncryptionKey`.
    private mutating func encryptionKey(for cipher: PSKCAlgorithms.Cipher, what: String) throws(TokenFileError) -> [UInt8] {
        switch (method, key) {
        case (.asymmetric, _):
            throw TokenFileError(.unsupported, "\(what) is encrypted to a public key; Twofold reads files under a pre-shared key or a password")
        case (.unspecified, .none), (.preShared, .none):
            throw TokenFileError(.keyRequired, "the file is encrypted with a pre-shared key\(Self.named(method)): give it")
        case (.unspecified, .password), (.preShared, .password):
            throw TokenFileError(.keyRequired, "the file is encrypted with a pre-shared key\(Self.named(method)), not a password")
        case (.derived, .none):
            throw TokenFileError(.keyRequired, "the file is encrypted with a key derived from a password\(Self.named(method)): give the password")
        case (_, .preSharedKey(let bytes)):
            // For a password-based file the caller may give the derived key itself.
            guard bytes.count == cipher.keySize else {
                throw TokenFileError(.wrongKey, "the key given is \(bytes.count) bytes; \(cipher.name) needs \(cipher.keySize)")
            }
            return bytes
        case (.derived(let parameters, _), .password(let password)):
            if let keyLength = parameters.keyLength, keyLength != cipher.keySize {
                throw TokenFileError(.malformed, "the PBKDF2 KeyLength is \(keyLength) bytes but \(what) uses \(cipher.name)")
            }
            if let cached = derivedKeys[cipher.keySize] { return cached }
            let derived: [UInt8]
            do {
                let key = try KDF.Insecure.PBKDF2.deriveKey(
                    from: Array(password.utf8), salt: parameters.salt, using: parameters.prf.pbkdf2,
                    outputByteCount: cipher.keySize, unsafeUncheckedRounds: parameters.iterations)
                derived = key.withUnsafeBytes { Array($0) }
            } catch {
                throw TokenFileError(.malformed, "PBKDF2 failed on the file's parameters")
            }
            derivedKeys[cipher.keySize] = derived
            return derived
        }
    }

    private static func named(_ method: Method) -> String {
        switch method {
        case .preShared(let name?), .derived(_, let name?): " (named \(TokenFileText.quoted(name)))"
        default: ""
        }
    }

    /// The MAC key: `MACMethod/MACKey`, encrypted under the file's encryption key.
    private mutating func macKey(what: String) throws(TokenFileError) -> [UInt8] {
        if let macKey { return macKey }
        guard let encryptedMACKey else {
            if macKeyIsReference {
                throw TokenFileError(.unsupported, "the MAC key is not in the file (MACKeyReference)")
            }
            throw TokenFileError(.malformed, "the MACMethod has no MACKey")
        }
        let (cipher, bytes) = try Self.cipherValue(of: encryptedMACKey, what: "the MACKey")
        let key = try encryptionKey(for: cipher, what: "the MACKey")
        // The MAC key has no MAC of its own: bad padding here means the key is wrong.
        guard let decrypted = AESCBC.decrypt(bytes, key: key), !decrypted.isEmpty else {
            throw TokenFileError(.wrongKey, "the key or password given does not open the file's MAC key")
        }
        macKey = decrypted
        return decrypted
    }
}
