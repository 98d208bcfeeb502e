/// Scores a masked symbol by the four penalty rules of ISO/IEC 18004:2015 §7.8.3.1, Table 11.
/// The mask with the lowest score is used.
///
/// - N1: each run of five or more same-coloured modules in a row or column scores 3, plus 1
///   per module beyond five.
/// - N2: each 2 × 2 block of one colour scores 3 (overlapping blocks count separately).
/// - N3: each 1:1:3:1:1 dark-light-dark-dark-dark-light-dark pattern in a row or column with
///   four light modules before or after it scores 40. Modules outside the symbol count as
///   light (the quiet zone). Patterns are counted left to right; once one counts, the search
///   resumes seven modules on, so a pattern overlapping a counted one is not counted again.
///   This is the reading segno implements, and reproducing it keeps the chosen mask the same.
/// - N4: 10 for every whole 5 % by which the dark share of the symbol strays from 50 %.
///
/// Lines are scored as bit sets (see ``QRBitLine``), a few dozen word operations per line.
struct QRPenaltyScorer<Line: QRBitLine> {
    let size: Int
    let wordsPerLine: Int
    /// Bits 0..<size set.
    private let valid: Line

    init(size: Int, wordsPerLine: Int, validWords: UnsafePointer<UInt64>) {
        self.size = size
        self.wordsPerLine = wordsPerLine
        valid = Line(words: validWords, count: wordsPerLine)
    }

    /// The total penalty of a symbol given both as rows and as columns (its transpose).
    func score(rows: UnsafePointer<UInt64>, columns: UnsafePointer<UInt64>) -> Int {
        var runs = 0
        var finderLike = 0
        var blocks = 0
        var dark = 0
        var above = Line.zero
        for index in 0..<size {
            let row = Line(words: rows + index * wordsPerLine, count: wordsPerLine)
            dark += row.population
            runs += runPenalty(row)
            finderLike += finderLikeCount(row)
            if index > 0 {
                // A block's four modules are equal when the two rows agree at c and c + 1
                // and the upper row agrees with itself from c to c + 1.
                let agree = ~(row ^ above) & valid
                blocks += (agree & agree.shiftedDown(1) & ~(above ^ above.shiftedDown(1))).population
            }
            above = row
            let column = Line(words: columns + index * wordsPerLine, count: wordsPerLine)
            runs += runPenalty(column)
            finderLike += finderLikeCount(column)
        }
        return runs + 3 * blocks + 40 * finderLike + balancePenalty(dark: dark)
    }

    /// N1 for one line: a run of length L ≥ 5 has L − 4 starting positions of five equal
    /// modules, and one of them starts the run; (L − 4) + 2 is the rule's 3 + (L − 5).
    private func runPenalty(_ line: Line) -> Int {
        runPenalty(ofSetBits: line) + runPenalty(ofSetBits: ~line & valid)
    }

    private func runPenalty(ofSetBits bits: Line) -> Int {
        let five = bits & bits.shiftedDown(1) & bits.shiftedDown(2) & bits.shiftedDown(3) & bits.shiftedDown(4)
        if five.isZero { return 0 }
        let starts = five & ~bits.shiftedUp(1)
        return five.population + 2 * starts.population
    }

    /// N3 for one line, as a count of patterns.
    private func finderLikeCount(_ line: Line) -> Int {
        let inverse = ~line
        var patterns = line & inverse.shiftedDown(1) & line.shiftedDown(2) & line.shiftedDown(3)
            & line.shiftedDown(4) & inverse.shiftedDown(5) & line.shiftedDown(6)
        if patterns.isZero { return 0 }
        let lightBefore = ~(line.shiftedUp(1) | line.shiftedUp(2) | line.shiftedUp(3) | line.shiftedUp(4))
        let lightAfter = ~(line.shiftedDown(7) | line.shiftedDown(8) | line.shiftedDown(9) | line.shiftedDown(10))
        let counted = lightBefore | lightAfter
        var count = 0
        var resume = 0
        while !patterns.isZero {
            let start = patterns.lowestSetBit
            patterns.clearLowestSetBit()
            guard start >= resume else { continue }
            if counted.contains(start) {
                count += 1
                resume = start + 7
            }
        }
        return count
    }

    /// N4, computed in floating point exactly as segno does so that boundary cases agree.
    private func balancePenalty(dark: Int) -> Int {
        let share = Double(dark) / Double(size * size)
        return 10 * Int(abs(share * 100 - 50) / 5)
    }
}
