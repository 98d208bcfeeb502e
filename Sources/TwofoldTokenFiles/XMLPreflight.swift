/// Checks made on the raw bytes before an XML parser sees them.
///
/// FoundationXML's parser on Linux does not report DTD declarations to its delegate (it
/// expands internal entities silently), so a document type declaration cannot be refused
/// from a callback. Instead any markup declaration is refused here, before parsing: `<!`
/// may only open a comment or a CDATA section. That rules out internal entity expansion
/// ("billion laughs") and external entities (XXE) whatever the parser would do with them.
/// The check needs an ASCII-compatible encoding, so the file must be valid UTF-8 (or declare
/// US-ASCII); UTF-16 and UTF-32 files, whose ASCII characters hold NUL bytes, are refused.
enum XMLPreflight {
    static func check(_ bytes: [UInt8]) throws(TokenFileError) {
        if bytes.contains(0) {
            throw TokenFileError(.malformed, "the file is not UTF-8 text (it holds NUL bytes; UTF-16 is not read)")
        }
        // FoundationXML traps on a comment that is not valid UTF-8 (its comment callback makes
        // a String of it), so no byte that is not UTF-8 may reach the parser.
        guard String(validating: bytes, as: UTF8.self) != nil else {
            throw TokenFileError(.malformed, "the file is not valid UTF-8 text")
        }
        try checkEncodingDeclaration(bytes)
        var index = bytes.startIndex
        while let open = bytes[index...].firstIndex(of: UInt8(ascii: "<")) {
            let next = open + 1
            if next < bytes.endIndex, bytes[next] == UInt8(ascii: "!") {
                let rest = bytes[(next + 1)...]
                if !rest.starts(with: "--".utf8), !rest.starts(with: "[CDATA[".utf8) {
                    throw TokenFileError(.malformed, "document type and entity declarations (\"<!DOCTYPE\", \"<!ENTITY\") are refused")
                }
            }
            index = next
        }
    }

    /// Refuses an XML declaration that names an encoding other than UTF-8 or US-ASCII.
    private static func checkEncodingDeclaration(_ bytes: [UInt8]) throws(TokenFileError) {
        var start = bytes[...]
        if start.starts(with: [0xEF, 0xBB, 0xBF]) { start = start.dropFirst(3) }
        guard start.starts(with: "<?xml".utf8) else { return }
        let head = start.prefix(256)
        guard let end = head.firstRange(of: "?>".utf8) else { return }
        let declaration = String(decoding: head[..<end.lowerBound], as: UTF8.self)
        guard let keyword = declaration.range(of: "encoding") else { return }
        let after = declaration[keyword.upperBound...].drop { $0 == " " || $0 == "=" || $0 == "\t" || $0 == "\n" || $0 == "\r" }
        guard let quote = after.first, quote == "\"" || quote == "'" else { return }
        let value = after.dropFirst().prefix { $0 != quote }
        let accepted = ["utf-8", "utf8", "us-ascii", "ascii"]
        guard accepted.contains(value.lowercased()) else {
            throw TokenFileError(.unsupported, "the file declares the encoding \(TokenFileText.quoted(String(value))); Twofold reads UTF-8")
        }
    }
}
