import TwofoldOTP

extension TokenFile {
    /// Reads Twofold's token CSV: one token per line,
    ///
    ///     serial, secret, type, digits, period-or-counter[, algorithm]
    ///
    /// - `serial`: 1–64 printable characters (no commas: fields are not quoted).
    /// - `secret`: `hex:` followed by an even number of hex digits, or `base32:` followed by
    ///   RFC 4648 Base32 (padding optional, any case). The prefix is required, so a secret is
    ///   never read in the wrong alphabet: `ABCDEF23` is valid hex and valid Base32.
    /// - `type`: `hotp` or `totp`.
    /// - `digits`: 6, 7 or 8.
    /// - `period-or-counter`: a TOTP period in seconds (1–86400, default 30) or an HOTP
    ///   counter (default 0); may be left empty.
    /// - `algorithm` (optional): `sha1` (the default), `sha256` or `sha512`.
    ///
    /// Fields are trimmed of spaces and tabs. Blank lines and lines starting with `#` are
    /// skipped, and so is a header line whose first field is `serial`. Lines end in LF or CRLF.
    ///
    /// ```
    /// serial,secret,type,digits,period-or-counter
    /// # two event tokens and a time token
    /// HW-0001, hex:3132333435363738393031323334353637383930, hotp, 6, 0
    /// HW-0002, base32:GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ, hotp, 8, 17
    /// HW-0003, base32:GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ, totp, 6, 60, sha256
    /// ```
    ///
    /// - Returns: the tokens in file order (manufacturer `nil`).
    /// - Throws: ``TokenFileError``: `malformed` naming the line number and the field at fault
    ///   (never the secret's characters), `duplicateSerial` naming both lines, `tooLarge`.
    public static func readCSV(_ bytes: [UInt8]) throws(TokenFileError) -> [HardwareToken] {
        try checkSize(bytes)
        var tokens: [HardwareToken] = []
        var serialLines: [String: Int] = [:]
        var sawContent = false
        for (index, rawLine) in bytes.split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: false).enumerated() {
            let number = index + 1
            let lineBytes = rawLine.last == UInt8(ascii: "\r") ? rawLine.dropLast() : rawLine
            guard let line = String(validating: lineBytes, as: UTF8.self) else {
                throw TokenFileError(.malformed, "line \(number) is not UTF-8 text")
            }
            let content = trimmingCSVSpace(Substring(line))
            if content.isEmpty || content.hasPrefix("#") { continue }
            let fields = content.split(separator: ",", omittingEmptySubsequences: false).map(trimmingCSVSpace)
            defer { sawContent = true }
            if !sawContent, fields[0].lowercased() == "serial" { continue }
            let token = try csvToken(fields, line: number)
            if let earlier = serialLines[token.serial] {
                throw TokenFileError(.duplicateSerial, "line \(number): the serial \(TokenFileText.quoted(token.serial)) is also on line \(earlier)")
            }
            guard tokens.count < maximumTokenCount else {
                throw TokenFileError(.tooLarge, "line \(number): the file holds more than \(maximumTokenCount) tokens")
            }
            serialLines[token.serial] = number
            tokens.append(token)
        }
        return tokens
    }

    private static func trimmingCSVSpace(_ text: Substring) -> Substring {
        let isSpace: (Character) -> Bool = { $0 == " " || $0 == "\t" }
        guard let first = text.firstIndex(where: { !isSpace($0) }), let last = text.lastIndex(where: { !isSpace($0) }) else { return "" }
        return text[first...last]
    }

    private static func csvToken(_ fields: [Substring], line: Int) throws(TokenFileError) -> HardwareToken {
        func fail(_ message: String) -> TokenFileError {
            TokenFileError(.malformed, "line \(line): \(message)")
        }
        guard (4...6).contains(fields.count) else {
            throw fail("\(fields.count) fields; expected serial, secret, type, digits, period-or-counter and an optional algorithm")
        }
        let serial = String(fields[0])
        guard TokenFileText.isValidSerial(serial) else {
            throw fail("the serial \(TokenFileText.quoted(serial)) is not 1 to \(TokenFileText.maximumSerialLength) printable characters")
        }
        let secret = try csvSecret(fields[1], fail: fail)
        let type = fields[2].lowercased()
        guard type == "hotp" || type == "totp" else {
            throw fail("the type \(TokenFileText.quoted(fields[2])) is not hotp or totp")
        }
        guard let digits = Int(fields[3]), (6...8).contains(digits) else {
            throw fail("digits \(TokenFileText.quoted(fields[3])) is not 6, 7 or 8")
        }
        let last = fields.count > 4 ? fields[4] : ""
        let kind: HardwareToken.Kind
        if type == "hotp" {
            guard last.isEmpty || last.allSatisfy(\.isASCIIDigit), let counter = last.isEmpty ? 0 : UInt64(last) else {
                throw fail("the counter \(TokenFileText.quoted(last)) is not a number from 0 to \(UInt64.max)")
            }
            kind = .hotp(counter: counter)
        } else {
            guard let period = last.isEmpty ? 30 : Int(last), TOTP.allowedPeriods.contains(period), last.allSatisfy(\.isASCIIDigit) else {
                throw fail("the period \(TokenFileText.quoted(last)) is not 1 to \(TOTP.allowedPeriods.upperBound) seconds")
            }
            kind = .totp(period: period)
        }
        var algorithm = OTPAlgorithm.sha1
        if fields.count == 6, !fields[5].isEmpty {
            guard let named = try? OTPAlgorithm(name: String(fields[5])) else {
                throw fail("the algorithm \(TokenFileText.quoted(fields[5])) is not sha1, sha256 or sha512")
            }
            algorithm = named
        }
        return HardwareToken(serial: serial, secret: secret, kind: kind, digits: digits, algorithm: algorithm)
    }

    /// Decodes the secret field. Messages say what is wrong, never which characters.
    private static func csvSecret(_ field: Substring, fail: (String) -> TokenFileError) throws(TokenFileError) -> [UInt8] {
        let lower = field.prefix(7).lowercased()
        let bytes: [UInt8]
        if lower.hasPrefix("hex:") {
            let digits = Array(field.dropFirst(4).utf8)
            guard digits.count.isMultiple(of: 2) else { throw fail("the hex secret has an odd number of digits") }
            var decoded: [UInt8] = []
            decoded.reserveCapacity(digits.count / 2)
            var high: UInt8 = 0
            for (index, digit) in digits.enumerated() {
                guard let value = hexValue(digit) else { throw fail("the hex secret has a character that is not a hex digit") }
                if index.isMultiple(of: 2) { high = value } else { decoded.append(high << 4 | value) }
            }
            bytes = decoded
        } else if lower.hasPrefix("base32:") {
            guard let decoded = try? Base32.decode(String(field.dropFirst(7))) else {
                throw fail("the Base32 secret is not valid Base32 (A–Z, 2–7, optional padding)")
            }
            bytes = decoded
        } else {
            throw fail("the secret must start with hex: or base32:")
        }
        guard !bytes.isEmpty, bytes.count <= 1_024 else { throw fail("the secret must be 1 to 1024 bytes, not \(bytes.count)") }
        return bytes
    }

    private static func hexValue(_ digit: UInt8) -> UInt8? {
        switch digit {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): digit - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): digit - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): digit - UInt8(ascii: "A") + 10
        default: nil
        }
    }
}

private extension Character {
    var isASCIIDigit: Bool { isASCII && isWholeNumber }
}
