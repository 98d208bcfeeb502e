import FuzzSupport
import TwofoldQR

// Input: five option bytes (error correction, version, mask, mode, renderer), then the payload.
// Versions and masks include impossible values (0, 41, -1, Int.min, Int.max) as well as nil.
//
// Properties: encoding never traps and fails only with a documented code, and with the one an
// impossible option calls for; a symbol has the version, level and mask asked for, the
// matching size, its finder, timing and dark modules where ISO/IEC 18004 puts them, reads light
// outside, and is the smallest version that holds the data; each renderer's output has the
// dimensions its options give.

@main
enum QRFuzzer {
    static func main() { runLibFuzzer(fuzzQR) }
}

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzQR(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    var input = FuzzInput(data, size)
    let level = QRErrorCorrection.allCases[Int(input.byte() % 4)]
    let version = requestedVersion(input.byte())
    let mask = requestedMask(input.byte())
    let modeByte = input.byte()
    let mode: QRMode? = modeByte % 4 == 0 ? nil : QRMode.allCases[Int(modeByte % 4) - 1]
    let renderer = input.byte()
    let payload = input.rest()

    let code: QRCode
    do {
        code = try QRCode(bytes: payload, errorCorrection: level, version: version, mask: mask, mode: mode)
    } catch {
        if let version, !(1...40).contains(version) {
            require(error.code == "invalid_version", "version \(version) failed with \(error.code)")
        } else if let mask, !(0...7).contains(mask) {
            require(error.code == "invalid_mask", "mask \(mask) failed with \(error.code)")
        } else {
            require(["invalid_mode", "data_too_long"].contains(error.code), "encoding failed with \(error.code): \(error.message)")
            if error.code == "invalid_mode" {
                require(mode != nil && mode != .byte, "invalid_mode without a restricted mode")
            }
        }
        return 0
    }
    require(version.map { (1...40).contains($0) } ?? true, "version \(version!) was accepted")
    require(mask.map { (0...7).contains($0) } ?? true, "mask \(mask!) was accepted")
    require((1...40).contains(code.version), "version \(code.version)")
    require(version == nil || code.version == version, "asked for version \(version!), got \(code.version)")
    require(code.errorCorrection == level, "asked for level \(level), got \(code.errorCorrection)")
    require((0...7).contains(code.mask), "mask \(code.mask)")
    require(mask == nil || code.mask == mask, "asked for mask \(mask!), got \(code.mask)")
    require(code.size == 17 + 4 * code.version, "size \(code.size) for version \(code.version)")
    checkFunctionPatterns(code)

    if version == nil, code.version > 1 {
        let smaller = try? QRCode(bytes: payload, errorCorrection: level, version: code.version - 1, mask: mask, mode: mode)
        require(smaller == nil, "version \(code.version) was chosen, but \(code.version - 1) holds the data")
    }

    render(code, options: renderer)
    return 0
}

private func requestedVersion(_ byte: UInt8) -> Int? {
    switch byte {
    case 0...40: byte == 0 ? nil : Int(byte)
    case 0xF0: 0
    case 0xF1: 41
    case 0xF2: -1
    case 0xF3: Int.min
    case 0xF4: Int.max
    default: nil
    }
}

private func requestedMask(_ byte: UInt8) -> Int? {
    switch byte {
    case 0...7: Int(byte)
    case 0xF0: 8
    case 0xF1: -1
    case 0xF2: Int.min
    case 0xF3: Int.max
    default: nil
    }
}

/// The finder patterns (§6.3.3), the timing patterns (§6.3.5) and the dark module (§7.9.1),
/// which every symbol has whatever its data and mask; and light outside the symbol.
private func checkFunctionPatterns(_ code: QRCode) {
    let size = code.size
    for (left, top) in [(0, 0), (size - 7, 0), (0, size - 7)] {
        for y in -1...7 {
            for x in -1...7 {
                let ring = max(abs(2 * x - 6), abs(2 * y - 6)) / 2  // 0 at the centre, 3 on the edge, 4 outside
                let dark = ring != 2 && ring != 4
                let (column, row) = (left + x, top + y)
                guard (0..<size).contains(column), (0..<size).contains(row) else { continue }
                require(code[column, row] == dark, "finder module (\(column), \(row)) of version \(code.version) is \(dark ? "light" : "dark")")
            }
        }
    }
    for index in 8..<(size - 8) {
        require(code[index, 6] == index.isMultiple(of: 2), "timing module (\(index), 6) is wrong")
        require(code[6, index] == index.isMultiple(of: 2), "timing module (6, \(index)) is wrong")
    }
    require(code[8, 4 * code.version + 9], "the dark module is light")
    for outside in [(-1, 0), (0, -1), (size, 0), (0, size), (Int.min, Int.min), (Int.max, Int.max)] {
        require(!code[outside.0, outside.1], "module \(outside) outside the symbol reads dark")
    }
}

/// One renderer, with small scales and quiet zones (including negative ones, which count as 0).
private func render(_ code: QRCode, options: UInt8) {
    let scale = Int(options >> 2 & 3)  // 0 counts as 1
    let quietZone = Int(options >> 4) - 2  // -2 ... 13
    switch options & 3 {
    case 0:
        let png = QRPNGRenderer(scale: scale, quietZone: quietZone, bitDepth: options & 0x80 == 0 ? .one : .eight).render(code)
        let width = (code.size + 2 * max(0, quietZone)) * max(1, scale)
        require(png.starts(with: [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]), "the PNG has no signature")
        require(png.count > 24 && Array(png[16..<24]) == bigEndian(width) + bigEndian(width),
                "the PNG's IHDR is not \(width) × \(width)")
    case 1:
        let svg = QRSVGRenderer(moduleSize: scale, quietZone: quietZone).render(code)
        let side = code.size + 2 * max(4, quietZone)
        require(svg.contains("viewBox=\"0 0 \(side) \(side)\""), "the SVG's viewBox is not \(side) × \(side)")
    default:
        let ascii = options & 1 == 0
        let text = QRTerminalRenderer(style: ascii ? .ascii : .halfBlocks, quietZone: quietZone).render(code)
        let side = code.size + 2 * max(0, quietZone)
        let lines = text.split(separator: "\n", omittingEmptySubsequences: false).count - 1
        require(lines == (ascii ? side : (side + 1) / 2), "the terminal drawing has \(lines) lines for \(side) rows")
    }
}

private func bigEndian(_ value: Int) -> [UInt8] {
    [UInt8(value >> 24 & 0xFF), UInt8(value >> 16 & 0xFF), UInt8(value >> 8 & 0xFF), UInt8(value & 0xFF)]
}
