/// A run of input bytes written in one mode, with its own mode indicator and character
/// count (ISO/IEC 18004:2015 §7.4.1).
struct QRSegment: Sendable, Equatable {
    let mode: QRMode
    /// Offset of the first byte in the input.
    let start: Int
    /// Number of bytes, which is also the character count for these three modes.
    let count: Int

    /// Bits the segment takes in a symbol of `sizeClass`: mode indicator, character count, data.
    func bitLength(sizeClass: Int) -> Int {
        4 + mode.characterCountBits(sizeClass: sizeClass) + mode.dataBits(count: count)
    }

    /// Whether the character count fits its indicator in `sizeClass`.
    func countFits(sizeClass: Int) -> Bool {
        count < 1 << mode.characterCountBits(sizeClass: sizeClass)
    }
}
