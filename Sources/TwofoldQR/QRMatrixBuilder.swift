/// Lays out a symbol: function patterns, codeword placement, masking and the format and
/// version information (ISO/IEC 18004:2015 §6.3, §7.7–7.10).
///
/// The matrix is held twice as bit sets, by rows and by columns, so that the penalty rules
/// read columns as cheaply as rows. A third and fourth set mark which modules carry data,
/// which is where masks apply. While masks are compared, the format and version information
/// areas and the dark module are still light: segno evaluates masks that way, and doing
/// the same keeps the chosen mask identical to segno's for the same input.
struct QRMatrixBuilder {
    let version: QRVersion
    let size: Int
    /// 64-bit words per row or column.
    let wordsPerLine: Int
    /// Dark modules before masking, row by row.
    private var rows: [UInt64]
    /// The same modules column by column.
    private var columns: [UInt64]
    /// Modules that hold codeword bits (not function patterns or reserved areas), by rows.
    private var dataRows: [UInt64]
    /// The same, by columns.
    private var dataColumns: [UInt64]
    /// Bits 0..<size of one line.
    private let validLine: [UInt64]

    init(version: QRVersion) {
        self.version = version
        size = version.size
        wordsPerLine = (version.size + 63) / 64
        rows = [UInt64](repeating: 0, count: size * wordsPerLine)
        columns = rows
        var line = [UInt64](repeating: 0, count: wordsPerLine)
        for bit in 0..<size {
            line[bit >> 6] |= 1 << UInt64(bit & 63)
        }
        validLine = line
        dataRows = [UInt64]()
        dataRows.reserveCapacity(size * wordsPerLine)
        for _ in 0..<size {
            dataRows.append(contentsOf: line)
        }
        dataColumns = dataRows
        drawFunctionPatterns()
    }

    // MARK: Function patterns (§6.3)

    private mutating func drawFunctionPatterns() {
        // Finder patterns with their separators (§6.3.3, §6.3.4): dark at Chebyshev
        // distance 0, 1 and 3 from the centre, light at 2 and at 4 (the separator).
        for (left, top) in [(0, 0), (size - 7, 0), (0, size - 7)] {
            for dy in -1...7 {
                for dx in -1...7 {
                    let x = left + dx, y = top + dy
                    guard x >= 0, x < size, y >= 0, y < size else { continue }
                    let distance = max(abs(dx - 3), abs(dy - 3))
                    setFunction(x: x, y: y, dark: distance != 2 && distance != 4)
                }
            }
        }
        // Timing patterns on row and column 6, dark on even coordinates (§6.3.5).
        for index in 8..<(size - 8) {
            setFunction(x: index, y: 6, dark: index % 2 == 0)
            setFunction(x: 6, y: index, dark: index % 2 == 0)
        }
        // Alignment patterns at every pair of centres except the three finder corners (§6.3.6).
        let centers = version.alignmentCenters
        let last = centers.count - 1
        for (rowIndex, centerY) in centers.enumerated() {
            for (columnIndex, centerX) in centers.enumerated() {
                let corner = (rowIndex == 0 && (columnIndex == 0 || columnIndex == last))
                    || (rowIndex == last && columnIndex == 0)
                if corner { continue }
                for dy in -2...2 {
                    for dx in -2...2 {
                        setFunction(x: centerX + dx, y: centerY + dy, dark: max(abs(dx), abs(dy)) != 1)
                    }
                }
            }
        }
        // Format information beside the finders, including the dark module's place (§7.9.1).
        for index in 0...8 {
            reserve(x: 8, y: index)
            reserve(x: index, y: 8)
        }
        for index in 0..<8 {
            reserve(x: size - 1 - index, y: 8)
            reserve(x: 8, y: size - 1 - index)
        }
        // Version information blocks, 6 × 3 each, from version 7 (§7.10).
        if version.number >= 7 {
            for long in 0..<6 {
                for short in 0..<3 {
                    reserve(x: size - 11 + short, y: long)
                    reserve(x: long, y: size - 11 + short)
                }
            }
        }
    }

    private mutating func setFunction(x: Int, y: Int, dark: Bool) {
        reserve(x: x, y: y)
        let rowBit: UInt64 = 1 << UInt64(x & 63)
        let columnBit: UInt64 = 1 << UInt64(y & 63)
        if dark {
            rows[y * wordsPerLine + x >> 6] |= rowBit
            columns[x * wordsPerLine + y >> 6] |= columnBit
        } else {
            rows[y * wordsPerLine + x >> 6] &= ~rowBit
            columns[x * wordsPerLine + y >> 6] &= ~columnBit
        }
    }

    private mutating func reserve(x: Int, y: Int) {
        dataRows[y * wordsPerLine + x >> 6] &= ~(1 << UInt64(x & 63))
        dataColumns[x * wordsPerLine + y >> 6] &= ~(1 << UInt64(y & 63))
    }

    // MARK: Codeword placement (§7.7.3)

    /// Places the codewords, most significant bit first, in two-module columns from the
    /// right edge, upwards then downwards in turn, skipping function modules and the
    /// vertical timing column. Modules left over are remainder bits and stay light (§7.6).
    mutating func place(_ codewords: [UInt8]) {
        let totalBits = codewords.count * 8
        var bitIndex = 0
        var right = size - 1
        var upward = true
        while right >= 1 {
            if right == 6 {
                right = 5
            }
            for step in 0..<size {
                let y = upward ? size - 1 - step : step
                for offset in 0..<2 {
                    let x = right - offset
                    let word = y * wordsPerLine + x >> 6
                    let bit: UInt64 = 1 << UInt64(x & 63)
                    guard dataRows[word] & bit != 0 else { continue }
                    if bitIndex < totalBits && (codewords[bitIndex >> 3] >> (7 - UInt8(bitIndex & 7))) & 1 != 0 {
                        rows[word] |= bit
                        columns[x * wordsPerLine + y >> 6] |= 1 << UInt64(y & 63)
                    }
                    bitIndex += 1
                }
            }
            upward.toggle()
            right -= 2
        }
    }

    // MARK: Masking (§7.8) and format and version information (§7.9, §7.10)

    /// Masks the placed data, with `mask` or with the mask of lowest penalty, and adds the
    /// format and version information and the dark module.
    /// - Returns: The chosen mask and the finished rows.
    func finish(level: QRErrorCorrection, mask requested: Int?) -> (mask: Int, rows: [UInt64]) {
        var bestRows = rows
        var bestMask = requested ?? 0
        if let requested {
            applyMask(requested, to: rows, data: dataRows, patterns: QRMaskPattern.rowPatterns, into: &bestRows)
        } else {
            // Two scratch buffers serve all eight candidates; a better candidate's rows are
            // swapped into `bestRows`, so no buffer is allocated per mask.
            var maskedRows = rows
            var maskedColumns = columns
            var bestScore = Int.max
            for mask in 0..<QRMaskPattern.count {
                applyMask(mask, to: rows, data: dataRows, patterns: QRMaskPattern.rowPatterns, into: &maskedRows)
                applyMask(mask, to: columns, data: dataColumns, patterns: QRMaskPattern.columnPatterns, into: &maskedColumns)
                let score = penalty(rows: maskedRows, columns: maskedColumns)
                if score < bestScore {
                    bestScore = score
                    bestMask = mask
                    swap(&bestRows, &maskedRows)
                }
            }
        }
        addInformation(to: &bestRows, level: level, mask: bestMask)
        return (bestMask, bestRows)
    }

    /// Writes `lines` with the mask's pattern XOR-ed into its data modules to `result`,
    /// which has the same length.
    private func applyMask(_ mask: Int, to lines: [UInt64], data: [UInt64], patterns: [UInt64], into result: inout [UInt64]) {
        let words = wordsPerLine
        result.withUnsafeMutableBufferPointer { result in
            lines.withUnsafeBufferPointer { lines in
                data.withUnsafeBufferPointer { data in
                    patterns.withUnsafeBufferPointer { patterns in
                        let maskBase = mask * QRMaskPattern.period
                        var phase = 0
                        for line in 0..<size {
                            let pattern = (maskBase + phase) * QRMaskPattern.wordsPerLine
                            let base = line * words
                            for word in 0..<words {
                                result[base + word] = lines[base + word] ^ (patterns[pattern + word] & data[base + word])
                            }
                            phase = phase == QRMaskPattern.period - 1 ? 0 : phase + 1
                        }
                    }
                }
            }
        }
    }

    private func penalty(rows: [UInt64], columns: [UInt64]) -> Int {
        rows.withUnsafeBufferPointer { rows in
            columns.withUnsafeBufferPointer { columns in
                validLine.withUnsafeBufferPointer { valid in
                    let rowWords = rows.baseAddress!, columnWords = columns.baseAddress!
                    if wordsPerLine == 1 {
                        return QRPenaltyScorer<UInt64>(size: size, wordsPerLine: 1, validWords: valid.baseAddress!)
                            .score(rows: rowWords, columns: columnWords)
                    }
                    return QRPenaltyScorer<QRWideBitLine>(size: size, wordsPerLine: wordsPerLine, validWords: valid.baseAddress!)
                        .score(rows: rowWords, columns: columnWords)
                }
            }
        }
    }

    /// Writes both copies of the format information, the version information (version 7
    /// and up) and the dark module at (8, size − 8) (§7.9.1, §7.10, §6.3.7).
    private func addInformation(to lines: inout [UInt64], level: QRErrorCorrection, mask: Int) {
        func set(_ x: Int, _ y: Int, _ dark: Bool) {
            let bit: UInt64 = 1 << UInt64(x & 63)
            if dark {
                lines[y * wordsPerLine + x >> 6] |= bit
            } else {
                lines[y * wordsPerLine + x >> 6] &= ~bit
            }
        }
        let format = QRInformationBits.format(level: level, mask: mask)
        for bit in 0..<15 {
            let dark = (format >> bit) & 1 != 0
            // Around the top-left finder: bits 0–7 down column 8 (skipping the timing row),
            // bits 8–14 leftwards along row 8 (skipping the timing column).
            switch bit {
            case 0...5: set(8, bit, dark)
            case 6: set(8, 7, dark)
            case 7: set(8, 8, dark)
            case 8: set(7, 8, dark)
            default: set(14 - bit, 8, dark)
            }
            // The copy: bits 0–7 along row 8 from the right edge, bits 8–14 up column 8.
            if bit < 8 {
                set(size - 1 - bit, 8, dark)
            } else {
                set(8, size - 15 + bit, dark)
            }
        }
        set(8, size - 8, true)
        if version.number >= 7 {
            let information = QRInformationBits.version(version.number)
            for bit in 0..<18 {
                let dark = (information >> bit) & 1 != 0
                set(size - 11 + bit % 3, bit / 3, dark)
                set(bit / 3, size - 11 + bit % 3, dark)
            }
        }
    }
}
