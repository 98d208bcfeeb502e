/// The namespaces a PSKC file uses. Elements are matched by namespace URI and local name,
/// never by prefix: RFC 6030's own examples bind the PSKC namespace as the default in some
/// figures and as `pskc:` in others.
enum XMLNamespace {
    /// RFC 6030 §11.1.
    static let pskc = "urn:ietf:params:xml:ns:keyprov:pskc"
    /// XML Encryption 1.0: `EncryptionMethod`, `CipherData`, `CipherValue`.
    static let xmlenc = "http://www.w3.org/2001/04/xmlenc#"
    /// XML Encryption 1.1: `DerivedKey`, `KeyDerivationMethod`, its own `PBKDF2-params`.
    static let xmlenc11 = "http://www.w3.org/2009/xmlenc11#"
    /// XML Signature: `KeyName`, `X509Data`.
    static let xmldsig = "http://www.w3.org/2000/09/xmldsig#"
    /// PKCS #5 v2.0's schema namespace, for `PBKDF2-params` (RFC 6030 §6.2).
    static let pkcs5 = "http://www.rsasecurity.com/rsalabs/pkcs/schemas/pkcs-5v2-0#"
    /// Elements with no namespace: the children of `PBKDF2-params` in RFC 6030's Figure 7.
    static let none = ""
}
