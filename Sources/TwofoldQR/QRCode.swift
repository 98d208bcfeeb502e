/// A QR Code Model 2 symbol (ISO/IEC 18004:2015): the module matrix and how it was made.
///
/// Encoding is pure computation with no I/O, so the same call serves the CLI, the HTTP
/// server and tests. Modules are stored as one bit each, row by row, so a version 40 symbol
/// takes about 4 KB.
///
/// ```swift
/// let code = try QRCode(text: "otpauth://totp/Example:alice?secret=JBSWY3DPEHPK3PXP&issuer=Example")
/// let svg = QRSVGRenderer().render(code)
/// ```
public struct QRCode: Sendable, Equatable {
    /// The symbol version, 1...40; the symbol is 17 + 4 × version modules wide.
    public let version: Int
    /// The error correction level the symbol was made with.
    public let errorCorrection: QRErrorCorrection
    /// The data mask applied, 0...7 (§7.8.2).
    public let mask: Int
    /// Row-major module bits, `(size + 63) / 64` words per row; bit x of a row is column x.
    private let rowBits: [UInt64]

    /// Modules per side: 17 + 4 × ``version``.
    public var size: Int { 17 + 4 * version }

    /// Whether the module in column `x`, row `y` is dark. Coordinates outside the symbol
    /// read as light, as the quiet zone around it is.
    public subscript(x: Int, y: Int) -> Bool {
        let side = size
        guard x >= 0, y >= 0, x < side, y < side else { return false }
        let wordsPerRow = (side + 63) >> 6
        return (rowBits[y * wordsPerRow + x >> 6] >> UInt64(x & 63)) & 1 != 0
    }

    /// Encodes bytes exactly as given.
    ///
    /// By default the smallest version that holds the data at `errorCorrection` is used, the
    /// data is split into numeric, alphanumeric and byte segments so that it takes the fewest
    /// bits, and the mask with the lowest penalty score is applied. No ECI header is written.
    ///
    /// - Parameters:
    ///   - bytes: The payload.
    ///   - errorCorrection: The error correction level; the level is never raised silently.
    ///   - version: A version to use instead of the smallest that fits.
    ///   - mask: A mask to apply instead of the best-scoring one.
    ///   - mode: Encode the whole payload as one segment in this mode.
    /// - Throws: ``QRError`` with code `invalid_version`, `invalid_mask`, `invalid_mode`
    ///   (a byte the mode cannot represent) or `data_too_long`.
    public init(
        bytes: some Sequence<UInt8>,
        errorCorrection: QRErrorCorrection = .medium,
        version: Int? = nil,
        mask: Int? = nil,
        mode: QRMode? = nil
    ) throws(QRError) {
        if let version, !QRVersion.numbers.contains(version) {
            throw QRError.invalidVersion(version)
        }
        if let mask, !(0..<QRMaskPattern.count).contains(mask) {
            throw QRError.invalidMask(mask)
        }
        let data = Array(bytes)
        let plan = try QRSegmentPlanner.plan(data, level: errorCorrection, version: version, mode: mode)
        let dataCodewords = QRCodewordEncoder.dataCodewords(
            for: data, segments: plan.segments, version: plan.version, level: errorCorrection
        )
        let codewords = QRCodewordEncoder.finalSequence(
            dataCodewords: dataCodewords, version: plan.version, level: errorCorrection
        )
        var builder = QRMatrixBuilder(version: plan.version)
        builder.place(codewords)
        let finished = builder.finish(level: errorCorrection, mask: mask)
        self.version = plan.version.number
        self.errorCorrection = errorCorrection
        self.mask = finished.mask
        rowBits = finished.rows
    }

    /// Encodes the UTF-8 bytes of `text`, without an ECI header: authenticator apps and
    /// phone cameras read byte-mode data as UTF-8.
    ///
    /// - Throws: ``QRError``, as ``init(bytes:errorCorrection:version:mask:mode:)``.
    public init(
        text: String,
        errorCorrection: QRErrorCorrection = .medium,
        version: Int? = nil,
        mask: Int? = nil,
        mode: QRMode? = nil
    ) throws(QRError) {
        try self.init(bytes: text.utf8, errorCorrection: errorCorrection, version: version, mask: mask, mode: mode)
    }
}
