/// An `otpauth://` Key URI, the format authenticator apps scan from a QR code
/// (Google Authenticator's "Key Uri Format").
///
///     otpauth://totp/ACME%20Co:alice@example.com?secret=JBSWY3DPEHPK3PXP&issuer=ACME%20Co
///
/// Parsing treats the text as hostile: every failure is an ``OTPError`` with code
/// `invalid_uri` and a message naming the problem; nothing traps.
public struct OTPAuthURI: Sendable, Equatable {
    /// Whether codes follow the clock or a counter.
    public enum Method: Sendable, Equatable {
        /// Time-based, with a period in seconds.
        case totp(period: Int)
        /// Counter-based, with the counter the next code will use.
        case hotp(counter: UInt64)
    }

    /// The longest URI accepted, as given and as ``string`` writes it (percent-encoding can
    /// make it up to three times longer); a QR code for enrollment never needs more.
    public static let maximumLength = 4096

    public let method: Method
    /// The service name shown in the app, or `nil`.
    public let issuer: String?
    /// The account name shown in the app (the user's name at the issuer).
    public let account: String
    public let secret: OTPSecret
    public let algorithm: OTPAlgorithm
    public let digits: Int

    /// - Throws: `invalid_uri` for an empty account, an issuer or account containing a colon
    ///   (the label separator), or a ``string`` longer than ``maximumLength`` bytes, which
    ///   ``init(parsing:)`` would refuse; `invalid_digits` or `invalid_period` for values outside
    ///   their ranges.
    public init(
        method: Method,
        account: String,
        issuer: String? = nil,
        secret: OTPSecret,
        algorithm: OTPAlgorithm = .sha1,
        digits: Int = 6
    ) throws(OTPError) {
        guard !account.isEmpty else { throw Self.invalid("the account name is empty") }
        guard !account.contains(":") else {
            throw Self.invalid("the account name must not contain \":\", which separates issuer and account")
        }
        if let issuer {
            guard !issuer.isEmpty else { throw Self.invalid("the issuer is empty; leave it out instead") }
            guard !issuer.contains(":") else {
                throw Self.invalid("the issuer must not contain \":\", which separates issuer and account")
            }
        }
        try OTPDigits.validate(digits)
        if case .totp(let period) = method, !TOTP.allowedPeriods.contains(period) {
            throw OTPError(.invalidPeriod, "period must be 1 to 86400 seconds, not \(period)")
        }
        self.method = method
        self.account = account
        self.issuer = issuer
        self.secret = secret
        self.algorithm = algorithm
        self.digits = digits
        // Refused here rather than only by the parser, so that every URI made or parsed parses
        // again.
        let length = string.utf8.count
        guard length <= Self.maximumLength else {
            throw Self.invalid("written out, the URI is \(length) bytes; at most \(Self.maximumLength) are accepted")
        }
    }

    /// The URI text. Parameters at their defaults (SHA1, 6 digits, 30 seconds) are left out,
    /// as the apps that ignore them would assume those values anyway.
    public var string: String {
        var label = PercentEncoding.encode(account, keeping: [UInt8(ascii: "@")])
        var query = ["secret=\(secret.base32)"]
        if let issuer {
            let encodedIssuer = PercentEncoding.encode(issuer)
            label = "\(encodedIssuer):\(label)"
            query.append("issuer=\(encodedIssuer)")
        }
        if algorithm != .sha1 { query.append("algorithm=\(algorithm.uriName)") }
        if digits != 6 { query.append("digits=\(digits)") }
        let type: String
        switch method {
        case .totp(let period):
            type = "totp"
            if period != 30 { query.append("period=\(period)") }
        case .hotp(let counter):
            type = "hotp"
            query.append("counter=\(counter)")
        }
        return "otpauth://\(type)/\(label)?\(query.joined(separator: "&"))"
    }

    /// Parses an `otpauth://` URI.
    ///
    /// Accepts what apps accept: a literal or percent-encoded `:` between issuer and account,
    /// spaces after it, parameters in any order, unknown parameters (ignored), lower-case
    /// algorithm names and secrets with padding.
    /// - Throws: `invalid_uri` (or `invalid_base32`, `invalid_digits`, `invalid_period`) for
    ///   input over 4 KiB (as given, or as ``string`` writes it), another scheme, an unknown
    ///   type, a missing or empty secret, an unknown algorithm, digits or period out of range, a
    ///   parameter given twice, a label issuer that disagrees with the `issuer` parameter, a
    ///   missing HOTP counter, or malformed percent-encoding.
    public init(parsing text: String) throws(OTPError) {
        guard text.utf8.count <= Self.maximumLength else {
            throw Self.invalid("the URI is \(text.utf8.count) bytes; at most \(Self.maximumLength) are accepted")
        }
        let scheme = "otpauth://"
        guard text.utf8.count >= scheme.utf8.count,
              text.prefix(scheme.count).lowercased() == scheme else {
            throw Self.invalid("the URI must start with otpauth://")
        }
        var rest = text.dropFirst(scheme.count)
        if let hash = rest.firstIndex(of: "#") { rest = rest[..<hash] }

        guard let slash = rest.firstIndex(of: "/") else {
            throw Self.invalid("the URI has no label: expected otpauth://totp/Issuer:account?secret=…")
        }
        let type = rest[..<slash].lowercased()
        let afterType = rest[rest.index(after: slash)...]
        let rawLabel: Substring
        let rawQuery: Substring
        if let question = afterType.firstIndex(of: "?") {
            rawLabel = afterType[..<question]
            rawQuery = afterType[afterType.index(after: question)...]
        } else {
            rawLabel = afterType
            rawQuery = ""
        }
        guard type == "totp" || type == "hotp" else {
            throw Self.invalid("unknown OTP type \"\(rest[..<slash])\": expected totp or hotp")
        }

        let (labelIssuer, account) = try Self.parseLabel(rawLabel)
        let parameters = try Self.parseQuery(rawQuery)

        guard let secretText = parameters["secret"], !secretText.isEmpty else {
            throw Self.invalid("the secret parameter is missing or empty")
        }
        let secret = try OTPSecret(base32: secretText)

        let issuerParameter = parameters["issuer"]
        if let issuerParameter, issuerParameter.isEmpty {
            throw Self.invalid("the issuer parameter is empty")
        }
        if let labelIssuer, let issuerParameter, labelIssuer != issuerParameter {
            throw Self.invalid("the label's issuer \"\(labelIssuer)\" disagrees with the issuer parameter \"\(issuerParameter)\"")
        }

        var algorithm = OTPAlgorithm.sha1
        if let name = parameters["algorithm"] {
            do {
                algorithm = try OTPAlgorithm(name: name)
            } catch {
                throw Self.invalid("unknown algorithm \"\(name)\": expected SHA1, SHA256 or SHA512")
            }
        }
        var digits = 6
        if let text = parameters["digits"] {
            guard let value = Self.decimal(text, maxLength: 2), OTPDigits.allowed.contains(Int(value)) else {
                throw Self.invalid("digits must be 6, 7 or 8, not \"\(text)\"")
            }
            digits = Int(value)
        }

        let method: Method
        if type == "totp" {
            var period = 30
            if let text = parameters["period"] {
                guard let value = Self.decimal(text, maxLength: 5), TOTP.allowedPeriods.contains(Int(value)) else {
                    throw Self.invalid("period must be 1 to 86400 seconds, not \"\(text)\"")
                }
                period = Int(value)
            }
            method = .totp(period: period)
        } else {
            guard let text = parameters["counter"] else {
                throw Self.invalid("an hotp URI needs a counter parameter")
            }
            guard let counter = Self.decimal(text, maxLength: 20) else {
                throw Self.invalid("counter must be a whole number from 0 to 18446744073709551615, not \"\(text)\"")
            }
            method = .hotp(counter: counter)
        }
        try self.init(
            method: method,
            account: account,
            issuer: labelIssuer ?? issuerParameter,
            secret: secret,
            algorithm: algorithm,
            digits: digits
        )
    }

    /// Splits `Issuer:account`. The separator may be a literal colon or `%3A`; spaces after
    /// it are dropped, as the key URI format allows.
    private static func parseLabel(_ raw: Substring) throws(OTPError) -> (issuer: String?, account: String) {
        var issuerPart: String?
        var accountPart: String
        if let colon = raw.firstIndex(of: ":") {
            issuerPart = try decodeComponent(raw[..<colon], name: "label", plusAsSpace: false)
            accountPart = try decodeComponent(raw[raw.index(after: colon)...], name: "label", plusAsSpace: false)
        } else {
            let label = try decodeComponent(raw, name: "label", plusAsSpace: false)
            if let colon = label.firstIndex(of: ":") {
                issuerPart = String(label[..<colon])
                accountPart = String(label[label.index(after: colon)...])
            } else {
                accountPart = label
            }
        }
        accountPart = String(accountPart.drop(while: { $0 == " " }))
        if let issuer = issuerPart, issuer.isEmpty {
            throw invalid("the label has an empty issuer before \":\"")
        }
        guard !accountPart.isEmpty else { throw invalid("the label has no account name") }
        guard !accountPart.contains(":") else {
            throw invalid("the label has more than one \":\"; issuer and account may not contain one")
        }
        return (issuerPart, accountPart)
    }

    private static func parseQuery(_ raw: Substring) throws(OTPError) -> [String: String] {
        var parameters: [String: String] = [:]
        for pair in raw.split(separator: "&", omittingEmptySubsequences: true) {
            let name: String
            let value: String
            if let equals = pair.firstIndex(of: "=") {
                name = try decodeComponent(pair[..<equals], name: "parameter name", plusAsSpace: true)
                value = try decodeComponent(pair[pair.index(after: equals)...], name: "parameter \(pair[..<equals])", plusAsSpace: true)
            } else {
                name = try decodeComponent(pair, name: "parameter name", plusAsSpace: true)
                value = ""
            }
            guard parameters[name] == nil else {
                throw invalid("the parameter \"\(name)\" is given more than once")
            }
            parameters[name] = value
        }
        return parameters
    }

    private static func decodeComponent(_ raw: Substring, name: String, plusAsSpace: Bool) throws(OTPError) -> String {
        guard let decoded = PercentEncoding.decode(raw, plusAsSpace: plusAsSpace) else {
            throw invalid("malformed percent-encoding in the \(name): every % must be followed by two hex digits, and the bytes must be UTF-8")
        }
        return decoded
    }

    /// A plain decimal number: ASCII digits only, no sign, at most `maxLength` of them.
    private static func decimal(_ text: String, maxLength: Int) -> UInt64? {
        guard !text.isEmpty, text.utf8.count <= maxLength,
              text.utf8.allSatisfy({ $0 >= UInt8(ascii: "0") && $0 <= UInt8(ascii: "9") }) else { return nil }
        return UInt64(text)
    }

    private static func invalid(_ message: String) -> OTPError {
        OTPError(.invalidURI, "invalid otpauth URI: \(message)")
    }
}

extension OTPAuthURI {
    /// A TOTP generator for this URI. Fails for an `hotp` URI.
    public func makeTOTP() throws(OTPError) -> TOTP {
        guard case .totp(let period) = method else {
            throw Self.invalid("this is an hotp URI, not totp")
        }
        return try TOTP(secret: secret, algorithm: algorithm, digits: digits, period: period)
    }

    /// An HOTP generator for this URI. Fails for a `totp` URI.
    public func makeHOTP() throws(OTPError) -> HOTP {
        guard case .hotp = method else {
            throw Self.invalid("this is a totp URI, not hotp")
        }
        return try HOTP(secret: secret, algorithm: algorithm, digits: digits)
    }
}
