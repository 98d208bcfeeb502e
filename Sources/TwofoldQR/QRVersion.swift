/// The fixed facts of one QR Code version: size, codeword counts, block structure and
/// alignment pattern positions.
///
/// The two per-level tables and the alignment table are ISO/IEC 18004:2015 Table 9 and
/// Annex E, Table E.1; everything else follows from them. They are kept as flat arrays so
/// a lookup costs an index, not a dictionary hash, on every encode.
struct QRVersion: Sendable, Equatable {
    /// 1...40.
    let number: Int

    static let numbers = 1...40

    init(_ number: Int) {
        precondition(QRVersion.numbers.contains(number), "QR version \(number) out of range")
        self.number = number
    }

    /// Modules per side (§6.3.1): 21 for version 1, growing by 4 per version.
    var size: Int { 17 + 4 * number }

    /// 0 for versions 1–9, 1 for 10–26, 2 for 27–40: the ranges whose character count
    /// indicators differ in width (Table 3).
    var sizeClass: Int { number <= 9 ? 0 : number <= 26 ? 1 : 2 }

    /// The versions that share a character count width with this one.
    static func versions(inSizeClass sizeClass: Int) -> ClosedRange<Int> {
        [1...9, 10...26, 27...40][sizeClass]
    }

    /// Centre coordinates of the alignment patterns along each axis (Annex E, Table E.1).
    var alignmentCenters: [Int] { QRVersion.alignmentTable[number - 1] }

    /// Modules left for data and error correction once every function pattern, the format
    /// and version information and the dark module are placed (§6.4.1). It is the symbol area
    /// minus 3 finders with separators (3 × 64), format information and dark module (31),
    /// the two timing rows (2 × (size − 16)), the alignment patterns (25 modules each, less the
    /// 5 shared with a timing pattern for those on row or column 6) and version information (36).
    var dataModules: Int {
        let side = size
        var modules = side * side - 3 * 64 - 31 - 2 * (side - 16)
        if number >= 2 {
            let perAxis = number / 7 + 2
            modules -= 25 * (perAxis * perAxis - 3) - 10 * (perAxis - 2)
        }
        if number >= 7 {
            modules -= 36
        }
        return modules
    }

    /// Codewords in the symbol, data and error correction together (Table 1). The 0, 3, 4 or 7
    /// modules left over are remainder bits (§7.6).
    var totalCodewords: Int { dataModules / 8 }

    /// Error-correction codewords in each block at `level` (Table 9).
    func errorCorrectionCodewordsPerBlock(_ level: QRErrorCorrection) -> Int {
        Int(QRVersion.errorCorrectionPerBlock[level.tableIndex * 40 + number - 1])
    }

    /// Reed–Solomon blocks at `level` (Table 9).
    func blockCount(_ level: QRErrorCorrection) -> Int {
        Int(QRVersion.blocks[level.tableIndex * 40 + number - 1])
    }

    /// Data codewords the symbol holds at `level`.
    func dataCodewords(_ level: QRErrorCorrection) -> Int {
        totalCodewords - errorCorrectionCodewordsPerBlock(level) * blockCount(level)
    }

    private static let errorCorrectionPerBlock: [UInt8] = [
        // L
        7, 10, 15, 20, 26, 18, 20, 24, 30, 18, 20, 24, 26, 30, 22, 24, 28, 30, 28, 28,
        28, 28, 30, 30, 26, 28, 30, 30, 30, 30, 30, 30, 30, 30, 30, 30, 30, 30, 30, 30,
        // M
        10, 16, 26, 18, 24, 16, 18, 22, 22, 26, 30, 22, 22, 24, 24, 28, 28, 26, 26, 26,
        26, 28, 28, 28, 28, 28, 28, 28, 28, 28, 28, 28, 28, 28, 28, 28, 28, 28, 28, 28,
        // Q
        13, 22, 18, 26, 18, 24, 18, 22, 20, 24, 28, 26, 24, 20, 30, 24, 28, 28, 26, 30,
        28, 30, 30, 30, 30, 28, 30, 30, 30, 30, 30, 30, 30, 30, 30, 30, 30, 30, 30, 30,
        // H
        17, 28, 22, 16, 22, 28, 26, 26, 24, 28, 24, 28, 22, 24, 24, 30, 28, 28, 26, 28,
        30, 24, 30, 30, 30, 30, 30, 30, 30, 30, 30, 30, 30, 30, 30, 30, 30, 30, 30, 30,
    ]

    private static let blocks: [UInt8] = [
        // L
        1, 1, 1, 1, 1, 2, 2, 2, 2, 4, 4, 4, 4, 4, 6, 6, 6, 6, 7, 8,
        8, 9, 9, 10, 12, 12, 12, 13, 14, 15, 16, 17, 18, 19, 19, 20, 21, 22, 24, 25,
        // M
        1, 1, 1, 2, 2, 4, 4, 4, 5, 5, 5, 8, 9, 9, 10, 10, 11, 13, 14, 16,
        17, 17, 18, 20, 21, 23, 25, 26, 28, 29, 31, 33, 35, 37, 38, 40, 43, 45, 47, 49,
        // Q
        1, 1, 2, 2, 4, 4, 6, 6, 8, 8, 8, 10, 12, 16, 12, 17, 16, 18, 21, 20,
        23, 23, 25, 27, 29, 34, 34, 35, 38, 40, 43, 45, 48, 51, 53, 56, 59, 62, 65, 68,
        // H
        1, 1, 2, 4, 4, 4, 5, 6, 8, 8, 11, 11, 16, 16, 18, 16, 19, 21, 25, 25,
        25, 34, 30, 32, 35, 37, 40, 42, 45, 48, 51, 54, 57, 60, 63, 66, 70, 74, 77, 81,
    ]

    private static let alignmentTable: [[Int]] = [
        [], [6, 18], [6, 22], [6, 26], [6, 30], [6, 34],
        [6, 22, 38], [6, 24, 42], [6, 26, 46], [6, 28, 50], [6, 30, 54], [6, 32, 58], [6, 34, 62],
        [6, 26, 46, 66], [6, 26, 48, 70], [6, 26, 50, 74], [6, 30, 54, 78], [6, 30, 56, 82],
        [6, 30, 58, 86], [6, 34, 62, 90],
        [6, 28, 50, 72, 94], [6, 26, 50, 74, 98], [6, 30, 54, 78, 102], [6, 28, 54, 80, 106],
        [6, 32, 58, 84, 110], [6, 30, 58, 86, 114], [6, 34, 62, 90, 118],
        [6, 26, 50, 74, 98, 122], [6, 30, 54, 78, 102, 126], [6, 26, 52, 78, 104, 130],
        [6, 30, 56, 82, 108, 134], [6, 34, 60, 86, 112, 138], [6, 30, 58, 86, 114, 142],
        [6, 34, 62, 90, 118, 146],
        [6, 30, 54, 78, 102, 126, 150], [6, 24, 50, 76, 102, 128, 154], [6, 28, 54, 80, 106, 132, 158],
        [6, 32, 58, 84, 110, 136, 162], [6, 26, 54, 82, 110, 138, 166], [6, 30, 58, 86, 114, 142, 170],
    ]
}
