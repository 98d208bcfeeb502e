/// Turns planned segments into the final codeword sequence of a symbol: the data bit
/// stream with terminator and pad codewords, split into Reed–Solomon blocks, with the
/// blocks' data and error-correction codewords interleaved (ISO/IEC 18004:2015 §7.4–7.6).
enum QRCodewordEncoder {
    /// The data codewords: segments, terminator, zero bits to the next codeword boundary,
    /// then the pad codewords 11101100 and 00010001 alternately (§7.4.9, §7.4.10).
    static func dataCodewords(
        for data: [UInt8],
        segments: [QRSegment],
        version: QRVersion,
        level: QRErrorCorrection
    ) -> [UInt8] {
        var writer = QRBitWriter(capacity: version.dataCodewords(level))
        let sizeClass = version.sizeClass
        for segment in segments {
            writer.append(segment.mode.indicator, width: 4)
            writer.append(UInt32(segment.count), width: segment.mode.characterCountBits(sizeClass: sizeClass))
            let end = segment.start + segment.count
            switch segment.mode {
            case .numeric:
                var index = segment.start
                while index < end {
                    let digits = min(3, end - index)
                    var value: UInt32 = 0
                    for offset in 0..<digits {
                        value = value * 10 + UInt32(data[index + offset] - 0x30)
                    }
                    writer.append(value, width: 3 * digits + 1)
                    index += digits
                }
            case .alphanumeric:
                var index = segment.start
                while index + 1 < end {
                    let high = UInt32(QRMode.alphanumericValues[Int(data[index])])
                    let low = UInt32(QRMode.alphanumericValues[Int(data[index + 1])])
                    writer.append(high * 45 + low, width: 11)
                    index += 2
                }
                if index < end {
                    writer.append(UInt32(QRMode.alphanumericValues[Int(data[index])]), width: 6)
                }
            case .byte:
                for index in segment.start..<end {
                    writer.append(UInt32(data[index]), width: 8)
                }
            }
        }
        // Terminator: up to four zero bits, fewer when the symbol is full (§7.4.9).
        writer.skip(min(4, writer.capacityBits - writer.bitCount))
        // Zero bits up to the codeword boundary, none when already on one (§7.4.10).
        writer.skip((8 - (writer.bitCount & 7)) & 7)
        var bytes = writer.bytes
        var pad: UInt8 = 0xEC
        for index in (writer.bitCount / 8)..<bytes.count {
            bytes[index] = pad
            pad ^= 0xEC ^ 0x11
        }
        return bytes
    }

    /// Data and error-correction codewords in placement order (§7.5.1, §7.6, Table 9).
    ///
    /// Blocks of group 1 hold ⌊data / blocks⌋ data codewords; the last (data mod blocks) blocks
    /// form group 2 and hold one more. Interleaving takes codeword i of every block in turn,
    /// skipping the shorter blocks once they run out, then does the same for the
    /// error-correction codewords.
    static func finalSequence(dataCodewords data: [UInt8], version: QRVersion, level: QRErrorCorrection) -> [UInt8] {
        let blockCount = version.blockCount(level)
        let errorCount = version.errorCorrectionCodewordsPerBlock(level)
        let shortLength = data.count / blockCount
        let shortBlocks = blockCount - data.count % blockCount
        let encoder = ReedSolomonEncoder(degree: errorCount)

        var result = [UInt8](repeating: 0, count: version.totalCodewords)
        var offset = 0
        for block in 0..<blockCount {
            let length = shortLength + (block < shortBlocks ? 0 : 1)
            let blockData = data[offset..<(offset + length)]
            // Codeword i of this block lands at i·blocks + block, except that the extra
            // codeword of a long block comes after every block's codeword shortLength − 1.
            for (index, codeword) in blockData.enumerated() {
                let position = index < shortLength
                    ? index * blockCount + block
                    : shortLength * blockCount + (block - shortBlocks)
                result[position] = codeword
            }
            let errorCorrection = encoder.errorCorrection(for: blockData)
            for (index, codeword) in errorCorrection.enumerated() {
                result[data.count + index * blockCount + block] = codeword
            }
            offset += length
        }
        return result
    }
}
