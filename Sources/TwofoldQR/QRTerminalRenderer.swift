/// Draws a ``QRCode`` as text for a terminal.
///
/// Half blocks put two module rows in each text line, which keeps the code near square in
/// the usual 1:2 character cell. Every line forces black on white with ANSI SGR codes,
/// because a dark-themed terminal would otherwise draw light modules dark and the code,
/// inverted and without its quiet zone, would not scan. The ASCII style is for places that
/// show neither Unicode block elements nor colour (log files, some CI consoles): "##" per dark
/// module, two spaces per light one, one line per module row.
public struct QRTerminalRenderer: Sendable {
    public enum Style: Sendable {
        /// `▀ ▄ █` and space, two module rows per line, black on white.
        case halfBlocks
        /// `##` and two spaces, one module row per line, no escape codes.
        case ascii
    }

    public var style: Style
    /// Light modules around the symbol; negative values count as 0. Keep the default 4
    /// (ISO/IEC 18004:2015 §6.3.8) for codes meant to be scanned.
    public var quietZone: Int

    public init(style: Style = .halfBlocks, quietZone: Int = 4) {
        self.style = style
        self.quietZone = quietZone
    }

    /// The text for `code`, one line per text row, each ending in a newline.
    public func render(_ code: QRCode) -> String {
        let margin = max(0, quietZone)
        let range = -margin..<(code.size + margin)
        var text = ""
        switch style {
        case .halfBlocks:
            text.reserveCapacity((range.count + 12) * (range.count / 2 + 1) * 3)
            for top in stride(from: range.lowerBound, to: range.upperBound, by: 2) {
                text += "\u{1B}[30;47m"
                for x in range {
                    let upper = code[x, top]
                    let lower = top + 1 < range.upperBound && code[x, top + 1]
                    switch (upper, lower) {
                    case (true, true): text += "█"
                    case (true, false): text += "▀"
                    case (false, true): text += "▄"
                    case (false, false): text += " "
                    }
                }
                text += "\u{1B}[0m\n"
            }
        case .ascii:
            text.reserveCapacity((2 * range.count + 1) * range.count)
            for y in range {
                for x in range {
                    text += code[x, y] ? "##" : "  "
                }
                text += "\n"
            }
        }
        return text
    }
}
