import Foundation

/// Text helpers shared by the readers: trimming, Base64, and the checks and quoting that keep
/// untrusted text out of messages unescaped.
enum TokenFileText {
    /// The longest serial a token may have.
    static let maximumSerialLength = 64
    /// The longest manufacturer name kept.
    static let maximumManufacturerLength = 128

    static func isXMLSpace(_ scalar: Unicode.Scalar) -> Bool {
        scalar == " " || scalar == "\t" || scalar == "\n" || scalar == "\r"
    }

    /// `text` without leading and trailing XML white space (space, tab, CR, LF).
    static func trimmingXMLSpace(_ text: String) -> String {
        let scalars = text.unicodeScalars
        guard let first = scalars.firstIndex(where: { !isXMLSpace($0) }),
              let last = scalars.lastIndex(where: { !isXMLSpace($0) }) else { return "" }
        return String(scalars[first...last])
    }

    /// `text` quoted for a message: at most 64 characters, with quotes, backslashes and every
    /// non-printable character escaped, so a hostile file cannot forge lines in a log.
    static func quoted(_ text: some StringProtocol) -> String {
        let limit = 64
        var result = "\""
        for (index, scalar) in text.unicodeScalars.enumerated() {
            if index == limit {
                result += "…"
                break
            }
            result += isPrintable(scalar) && scalar != "\"" && scalar != "\\" ? String(scalar) : scalar.escaped(asASCII: true)
        }
        return result + "\""
    }

    /// Printable: not a control, format, separator-other-than-space, surrogate, private-use
    /// or unassigned code point.
    static func isPrintable(_ scalar: Unicode.Scalar) -> Bool {
        switch scalar.properties.generalCategory {
        case .control, .format, .lineSeparator, .paragraphSeparator, .surrogate, .privateUse, .unassigned:
            false
        default:
            true
        }
    }

    /// Whether `text` can be a serial: 1–64 printable characters, not starting or ending with
    /// white space.
    static func isValidSerial(_ text: String) -> Bool {
        guard !text.isEmpty, text.count <= maximumSerialLength, text.utf8.count <= 4 * maximumSerialLength else { return false }
        guard text.unicodeScalars.allSatisfy(isPrintable) else { return false }
        let scalars = text.unicodeScalars
        return !scalars.first!.properties.isWhitespace && !scalars.last!.properties.isWhitespace
    }

    /// Decodes XML Schema `base64Binary`: Base64 with padding, white space allowed anywhere.
    /// - Returns: `nil` when the text is not Base64.
    static func base64(_ text: String) -> [UInt8]? {
        let compact = String(text.unicodeScalars.filter { !isXMLSpace($0) })
        guard let data = Data(base64Encoded: compact) else { return nil }
        return [UInt8](data)
    }
}
