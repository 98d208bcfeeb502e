/// The eight data mask patterns (ISO/IEC 18004:2015 §7.8.2, Table 10), as precomputed bit sets.
///
/// Every pattern repeats every 12 rows and every 12 columns (its conditions use i mod 2,
/// i mod 3, ⌊i/2⌋ mod 2 and i·j mod 6), so 12 row bit sets and 12 column bit sets of
/// 192 bits per mask cover every symbol up to version 40. A mask is applied to a whole line
/// with one AND (with the line's data modules) and one XOR per word.
enum QRMaskPattern {
    static let count = 8
    /// Words per stored line: 192 bits, enough for 177 modules.
    static let wordsPerLine = 3
    static let period = 12

    /// Whether mask `mask` inverts the module at row `i`, column `j`.
    static func inverts(mask: Int, row i: Int, column j: Int) -> Bool {
        switch mask {
        case 0: (i + j) % 2 == 0
        case 1: i % 2 == 0
        case 2: j % 3 == 0
        case 3: (i + j) % 3 == 0
        case 4: (i / 2 + j / 3) % 2 == 0
        case 5: (i * j) % 2 + (i * j) % 3 == 0
        case 6: ((i * j) % 2 + (i * j) % 3) % 2 == 0
        default: ((i + j) % 2 + (i * j) % 3) % 2 == 0
        }
    }

    /// `rowPatterns[((mask * 12) + row mod 12) * 3 + word]`: bit c is set when the mask
    /// inverts column c of that row.
    static let rowPatterns: [UInt64] = table { mask, line, position in
        inverts(mask: mask, row: line, column: position)
    }

    /// `columnPatterns[((mask * 12) + column mod 12) * 3 + word]`: bit r is set when the mask
    /// inverts row r of that column.
    static let columnPatterns: [UInt64] = table { mask, line, position in
        inverts(mask: mask, row: position, column: line)
    }

    private static func table(_ inverts: (Int, Int, Int) -> Bool) -> [UInt64] {
        var words = [UInt64](repeating: 0, count: count * period * wordsPerLine)
        for mask in 0..<count {
            for line in 0..<period {
                let base = (mask * period + line) * wordsPerLine
                for position in 0..<(wordsPerLine * 64) where inverts(mask, line, position) {
                    words[base + position >> 6] |= 1 << UInt64(position & 63)
                }
            }
        }
        return words
    }
}
