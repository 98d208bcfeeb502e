import TwofoldOTP

/// Turns one `KeyPackage` (RFC 6030 §4) into a token.
enum PSKCKeyPackage {
    /// Reads `package`, the `number`th in the file.
    /// - Returns: the token and the label that names its key in messages, or `nil` for a
    ///   package with no key, or whose key is the PIN of another (Figure 5): Twofold does not
    ///   keep token PINs, and a PIN a device checks itself (`PINUsageMode` `Local`) needs none.
    /// - Throws: `unsupported` naming the key for anything but an HOTP or TOTP key with
    ///   decimal codes; `malformed`; the decryption errors of ``PSKCEncryption``.
    static func read(
        _ package: XMLElementNode,
        number: Int,
        encryption: inout PSKCEncryption
    ) throws(TokenFileError) -> (HardwareToken, String)? {
        let packageLabel = "key package \(number)"
        guard let key = try package.one(XMLNamespace.pskc, "Key", in: packageLabel) else { return nil }
        let id = key.attributes["Id"].map(TokenFileText.trimmingXMLSpace)
        let label = id.map { "key \(TokenFileText.quoted($0))" } ?? "the key of \(packageLabel)"

        let algorithmURI = key.attributes["Algorithm"] ?? ""
        guard let algorithm = PSKCAlgorithms.KeyAlgorithm(uri: algorithmURI) else {
            let what = algorithmURI.isEmpty ? "names no algorithm" : "uses \(TokenFileText.quoted(algorithmURI))"
            throw TokenFileError(.unsupported, "\(label) \(what); Twofold imports HOTP and TOTP keys")
        }
        if case .pin = algorithm { return nil }

        let parameters = try readParameters(of: key, label: label)
        try checkPolicy(of: key, label: label)

        let data = try key.one(XMLNamespace.pskc, "Data", in: label)
        guard let secretElement = try data?.one(XMLNamespace.pskc, "Secret", in: label) else {
            throw TokenFileError(.unsupported, "\(label) carries no secret (a key derived from a master key, KeyReference, is not imported)")
        }
        let secret = try readBinary(secretElement, what: "\(label) Secret", encryption: &encryption)
        guard !secret.isEmpty, secret.count <= 1_024 else {
            throw TokenFileError(.malformed, "\(label) has a secret of \(secret.count) bytes; it must be 1 to 1024")
        }

        let kind: HardwareToken.Kind
        switch algorithm {
        case .hotp:
            // RFC 6030 §4.3.4: the counter the next code uses; 0 when absent.
            let counter = try data?.one(XMLNamespace.pskc, "Counter", in: label).map { element throws(TokenFileError) in
                try readInteger(element, what: "\(label) Counter", encryption: &encryption)
            } ?? 0
            kind = .hotp(counter: counter)
        default:
            // RFC 6030 §4.3.4 TimeInterval; RFC 6238 §5.2's default of 30 s when absent.
            let interval = try data?.one(XMLNamespace.pskc, "TimeInterval", in: label).map { element throws(TokenFileError) in
                try readInteger(element, what: "\(label) TimeInterval", encryption: &encryption)
            } ?? 30
            guard interval >= 1, interval <= UInt64(TOTP.allowedPeriods.upperBound) else {
                throw TokenFileError(.unsupported, "\(label) has a time step of \(interval) s; Twofold supports 1 to \(TOTP.allowedPeriods.upperBound)")
            }
            kind = .totp(period: Int(interval))
        }

        let device = try package.one(XMLNamespace.pskc, "DeviceInfo", in: packageLabel)
        let serialText = try device?.one(XMLNamespace.pskc, "SerialNo", in: packageLabel)?.text
        guard let serial = (serialText?.isEmpty == false ? serialText : nil) ?? id, !serial.isEmpty else {
            throw TokenFileError(.malformed, "\(packageLabel) has neither a device serial (DeviceInfo/SerialNo) nor a key Id")
        }
        guard TokenFileText.isValidSerial(serial) else {
            throw TokenFileError(.malformed, "\(label) has the serial \(TokenFileText.quoted(serial)); a serial is 1 to \(TokenFileText.maximumSerialLength) printable characters")
        }
        var manufacturer = try device?.one(XMLNamespace.pskc, "Manufacturer", in: packageLabel)?.text
        if manufacturer?.isEmpty == true { manufacturer = nil }
        if let name = manufacturer {
            guard name.count <= TokenFileText.maximumManufacturerLength, name.unicodeScalars.allSatisfy(TokenFileText.isPrintable) else {
                throw TokenFileError(.malformed, "\(label) has the manufacturer \(TokenFileText.quoted(name)); it must be at most \(TokenFileText.maximumManufacturerLength) printable characters")
            }
        }

        let token = HardwareToken(serial: serial, secret: secret, kind: kind, digits: parameters.digits,
                                  algorithm: parameters.algorithm, manufacturer: manufacturer)
        return (token, label)
    }

    // MARK: Algorithm parameters and policy

    private struct Parameters {
        var digits = 6
        var algorithm = OTPAlgorithm.sha1
    }

    /// `AlgorithmParameters` (RFC 6030 §4.3.3). Without a `ResponseFormat` the code length is
    /// 6, RFC 4226's; without a `Suite` the hash is SHA-1.
    private static func readParameters(of key: XMLElementNode, label: String) throws(TokenFileError) -> Parameters {
        var parameters = Parameters()
        guard let element = try key.one(XMLNamespace.pskc, "AlgorithmParameters", in: label) else { return parameters }
        if try element.one(XMLNamespace.pskc, "ChallengeFormat", in: label) != nil {
            throw TokenFileError(.unsupported, "\(label) is a challenge-response key (ChallengeFormat); Twofold imports HOTP and TOTP keys")
        }
        if let suite = try element.one(XMLNamespace.pskc, "Suite", in: label), !suite.text.isEmpty {
            var name = suite.text.uppercased()
            if name.hasPrefix("HMAC-") { name.removeFirst(5) }
            guard let algorithm = try? OTPAlgorithm(name: name) else {
                throw TokenFileError(.unsupported, "\(label) has the Suite \(TokenFileText.quoted(suite.text)); Twofold supports HMAC-SHA1, HMAC-SHA256 and HMAC-SHA512")
            }
            parameters.algorithm = algorithm
        }
        if let format = try element.one(XMLNamespace.pskc, "ResponseFormat", in: label) {
            let encoding = TokenFileText.trimmingXMLSpace(format.attributes["Encoding"] ?? "DECIMAL")
            guard encoding == "DECIMAL" else {
                throw TokenFileError(.unsupported, "\(label) has \(TokenFileText.quoted(encoding)) codes; Twofold supports DECIMAL")
            }
            if let check = format.attributes["CheckDigits"], ["true", "1"].contains(TokenFileText.trimmingXMLSpace(check)) {
                throw TokenFileError(.unsupported, "\(label) appends a Luhn check digit (CheckDigits); Twofold does not")
            }
            let lengthText = TokenFileText.trimmingXMLSpace(format.attributes["Length"] ?? "")
            guard let digits = Int(lengthText) else {
                throw TokenFileError(.malformed, "\(label) has a ResponseFormat without a numeric Length")
            }
            parameters.digits = digits
        }
        // RFC 4226 §5.3: 6 to 8 digits, the limits TwofoldOTP enforces.
        guard (6...8).contains(parameters.digits) else {
            throw TokenFileError(.unsupported, "\(label) makes \(parameters.digits)-digit codes; Twofold supports 6 to 8 (RFC 4226 §5.3)")
        }
        return parameters
    }

    /// `Policy` (RFC 6030 §5): a key must be for OTPs, and a PIN, if any, must be checked by
    /// the device itself. Start and expiry dates are not enforced.
    private static func checkPolicy(of key: XMLElementNode, label: String) throws(TokenFileError) {
        guard let policy = try key.one(XMLNamespace.pskc, "Policy", in: label) else { return }
        let usages = policy.all(XMLNamespace.pskc, "KeyUsage").map(\.text)
        if !usages.isEmpty, !usages.contains("OTP") {
            throw TokenFileError(.unsupported, "\(label) is not for one-time passwords (KeyUsage \(usages.map(TokenFileText.quoted).joined(separator: ", ")))")
        }
        if let pin = try policy.one(XMLNamespace.pskc, "PINPolicy", in: label),
           let mode = pin.attributes["PINUsageMode"].map(TokenFileText.trimmingXMLSpace), mode != "Local" {
            throw TokenFileError(.unsupported, "\(label) wants its PIN typed with the code (PINUsageMode \(TokenFileText.quoted(mode))); Twofold does not check token PINs")
        }
    }

    // MARK: Values

    /// A `binaryDataType` value: `PlainValue` (Base64) or `EncryptedValue` with its `ValueMAC`.
    private static func readBinary(_ element: XMLElementNode, what: String, encryption: inout PSKCEncryption) throws(TokenFileError) -> [UInt8] {
        let plain = try element.one(XMLNamespace.pskc, "PlainValue", in: what)
        let encrypted = try element.one(XMLNamespace.pskc, "EncryptedValue", in: what)
        switch (plain, encrypted) {
        case (let plain?, nil):
            guard let bytes = TokenFileText.base64(plain.text) else {
                throw TokenFileError(.malformed, "\(what) is not Base64")
            }
            return bytes
        case (nil, let encrypted?):
            let mac = try element.one(XMLNamespace.pskc, "ValueMAC", in: what)
            return try encryption.decrypt(encrypted, mac: mac, what: what)
        case (nil, nil):
            throw TokenFileError(.malformed, "\(what) has neither a PlainValue nor an EncryptedValue")
        case (.some, .some):
            throw TokenFileError(.malformed, "\(what) has both a PlainValue and an EncryptedValue")
        }
    }

    /// A `longDataType` / `intDataType` value: a decimal `PlainValue`, or an `EncryptedValue`
    /// whose plaintext is the number in big-endian binary, 1 to 8 bytes.
    private static func readInteger(_ element: XMLElementNode, what: String, encryption: inout PSKCEncryption) throws(TokenFileError) -> UInt64 {
        if let plain = try element.one(XMLNamespace.pskc, "PlainValue", in: what) {
            guard try element.one(XMLNamespace.pskc, "EncryptedValue", in: what) == nil else {
                throw TokenFileError(.malformed, "\(what) has both a PlainValue and an EncryptedValue")
            }
            guard plain.text.utf8.allSatisfy({ $0 >= UInt8(ascii: "0") && $0 <= UInt8(ascii: "9") }), let value = UInt64(plain.text) else {
                throw TokenFileError(.malformed, "\(what) \(TokenFileText.quoted(plain.text)) is not a number from 0 to \(UInt64.max)")
            }
            return value
        }
        guard let encrypted = try element.one(XMLNamespace.pskc, "EncryptedValue", in: what) else {
            throw TokenFileError(.malformed, "\(what) has neither a PlainValue nor an EncryptedValue")
        }
        let mac = try element.one(XMLNamespace.pskc, "ValueMAC", in: what)
        let bytes = try encryption.decrypt(encrypted, mac: mac, what: what)
        guard (1...8).contains(bytes.count) else {
            throw TokenFileError(.malformed, "\(what) decrypts to \(bytes.count) bytes, not a 1- to 8-byte number")
        }
        return bytes.reduce(0) { $0 << 8 | UInt64($1) }
    }
}
