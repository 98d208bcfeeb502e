/// Chooses the segments and the version for a payload.
///
/// Without a forced mode the input is split into numeric, alphanumeric and byte segments
/// by an exact dynamic programme over the input. The state after each byte is the mode of
/// the segment holding it and that segment's length modulo 3 (numeric) or 2 (alphanumeric),
/// because those residues decide what the next character costs: a numeric group of 1, 2 or
/// 3 digits takes 4, 7 or 10 bits, an alphanumeric pair 11 bits and a lone character 6. The
/// result has the fewest bits possible, so the smallest version. Header widths differ between
/// versions 1–9, 10–26 and 27–40, so the split is planned once per range, smallest first.
enum QRSegmentPlanner {
    struct Plan: Sendable {
        let version: QRVersion
        let segments: [QRSegment]
    }

    /// No input longer than this fits any symbol: 7089 digits fill version 40-L, and every
    /// other byte costs more bits than a digit.
    static let maximumLength = 7089

    /// - Throws: `invalid_mode` when `mode` cannot represent a byte; `data_too_long` when no
    ///   allowed version holds the data.
    static func plan(
        _ data: [UInt8],
        level: QRErrorCorrection,
        version requested: Int?,
        mode: QRMode?
    ) throws(QRError) -> Plan {
        if let mode, mode != .byte {
            for (offset, byte) in data.enumerated() where !mode.canEncode(byte) {
                throw QRError.invalidMode(mode, byte: byte, offset: offset)
            }
        }
        guard data.count <= maximumLength else {
            throw tooLong(byteCount: data.count, neededBits: nil, level: level, version: requested)
        }
        let sizeClasses = requested.map { [QRVersion($0).sizeClass] } ?? [0, 1, 2]
        var neededBits = 0
        for sizeClass in sizeClasses {
            let segments = mode.map { [QRSegment(mode: $0, start: 0, count: data.count)] }
                ?? optimalSegments(data, sizeClass: sizeClass)
            let bits = segments.reduce(0) { $0 + $1.bitLength(sizeClass: sizeClass) }
            neededBits = bits
            guard segments.allSatisfy({ $0.countFits(sizeClass: sizeClass) }) else { continue }
            let candidates = requested.map { $0...$0 } ?? QRVersion.versions(inSizeClass: sizeClass)
            for number in candidates {
                let version = QRVersion(number)
                if bits <= version.dataCodewords(level) * 8 {
                    return Plan(version: version, segments: segments)
                }
            }
        }
        throw tooLong(byteCount: data.count, neededBits: neededBits, level: level, version: requested)
    }

    /// The `data_too_long` error, stating the capacity of the largest symbol allowed.
    private static func tooLong(byteCount: Int, neededBits: Int?, level: QRErrorCorrection, version: Int?) -> QRError {
        let largest = QRVersion(version ?? 40)
        let capacityBits = largest.dataCodewords(level) * 8
        let byteModeHeader = 4 + QRMode.byte.characterCountBits(sizeClass: largest.sizeClass)
        let byteCapacity = (capacityBits - byteModeHeader) / 8
        let symbol = "version \(largest.number)-\(level.rawValue)"
        let scope = version == nil ? "the largest QR code at level \(level.rawValue), \(symbol)," : symbol
        let capacity = "\(scope) holds at most \(capacityBits) data bits (\(byteCapacity) bytes in byte mode)."
        let message = neededBits.map { "The data (\(byteCount) bytes) needs \($0) bits, but \(capacity)" }
            ?? "The data (\(byteCount) bytes) does not fit: \(capacity)"
        return QRError(code: "data_too_long", message: message)
    }

    /// The split of `data` into segments with the fewest bits for versions in `sizeClass`.
    static func optimalSegments(_ data: [UInt8], sizeClass: Int) -> [QRSegment] {
        guard !data.isEmpty else { return [] }
        // States: numeric with 1, 2, 0 (mod 3) digits so far; alphanumeric with an odd or
        // even count; byte.
        let numeric1 = 0, numeric2 = 1, numeric0 = 2, alpha1 = 3, alpha0 = 4, byte = 5, stateCount = 6
        let start = UInt8(stateCount)
        let stateModes: [QRMode] = [.numeric, .numeric, .numeric, .alphanumeric, .alphanumeric, .byte]
        let numericHeader = 4 + QRMode.numeric.characterCountBits(sizeClass: sizeClass)
        let alphaHeader = 4 + QRMode.alphanumeric.characterCountBits(sizeClass: sizeClass)
        let byteHeader = 4 + QRMode.byte.characterCountBits(sizeClass: sizeClass)
        let unreachable = Int.max / 4

        var cost = [Int](repeating: unreachable, count: stateCount)
        var next = cost
        var previous = [UInt8](repeating: start, count: data.count * stateCount)

        /// The cheapest state of another mode to start a new segment from (or the start).
        func cheapestOutside(_ excluded: ClosedRange<Int>, first: Bool) -> (cost: Int, state: UInt8) {
            if first { return (0, start) }
            var best = (cost: unreachable, state: start)
            for state in 0..<stateCount where !excluded.contains(state) && cost[state] < best.cost {
                best = (cost[state], UInt8(state))
            }
            return best
        }

        for (index, value) in data.enumerated() {
            let first = index == 0
            for state in 0..<stateCount { next[state] = unreachable }
            let row = index * stateCount
            if QRMode.numeric.canEncode(value) {
                let entry = cheapestOutside(numeric1...numeric0, first: first)
                if entry.cost + numericHeader + 4 < next[numeric1] {
                    next[numeric1] = entry.cost + numericHeader + 4
                    previous[row + numeric1] = entry.state
                }
                if !first {
                    if cost[numeric0] + 4 <= next[numeric1] {
                        next[numeric1] = cost[numeric0] + 4
                        previous[row + numeric1] = UInt8(numeric0)
                    }
                    next[numeric2] = cost[numeric1] + 3
                    previous[row + numeric2] = UInt8(numeric1)
                    next[numeric0] = cost[numeric2] + 3
                    previous[row + numeric0] = UInt8(numeric2)
                }
            }
            if QRMode.alphanumeric.canEncode(value) {
                let entry = cheapestOutside(alpha1...alpha0, first: first)
                if entry.cost + alphaHeader + 6 < next[alpha1] {
                    next[alpha1] = entry.cost + alphaHeader + 6
                    previous[row + alpha1] = entry.state
                }
                if !first {
                    if cost[alpha0] + 6 <= next[alpha1] {
                        next[alpha1] = cost[alpha0] + 6
                        previous[row + alpha1] = UInt8(alpha0)
                    }
                    next[alpha0] = cost[alpha1] + 5
                    previous[row + alpha0] = UInt8(alpha1)
                }
            }
            let entry = cheapestOutside(byte...byte, first: first)
            next[byte] = entry.cost + byteHeader + 8
            previous[row + byte] = entry.state
            if !first && cost[byte] + 8 <= next[byte] {
                next[byte] = cost[byte] + 8
                previous[row + byte] = UInt8(byte)
            }
            for state in 0..<stateCount where next[state] >= unreachable {
                next[state] = unreachable
            }
            swap(&cost, &next)
        }

        var state = 0
        for candidate in 1..<stateCount where cost[candidate] < cost[state] {
            state = candidate
        }
        // Walk back, closing a segment wherever the mode changes.
        var segments: [QRSegment] = []
        var end = data.count
        var index = data.count - 1
        while index >= 0 {
            let before = previous[index * stateCount + state]
            let mode = stateModes[state]
            if before == start || stateModes[Int(before)] != mode {
                segments.append(QRSegment(mode: mode, start: index, count: end - index))
                end = index
            }
            if before == start { break }
            state = Int(before)
            index -= 1
        }
        return segments.reversed()
    }
}
