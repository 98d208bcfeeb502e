/// Draws a ``QRCode`` as an SVG document.
///
/// The drawing is one white background rectangle and a single `<path>` holding every dark
/// module, as one `h`-run per horizontal stretch of dark modules, so even a version 40 symbol
/// stays a small document that browsers draw quickly. Coordinates are in modules (the
/// `viewBox`); `width` and `height` scale it, and `shape-rendering="crispEdges"` keeps
/// anti-aliasing from blurring module edges.
public struct QRSVGRenderer: Sendable {
    /// Pixels per module for the `width` and `height` attributes; at least 1.
    public var moduleSize: Int
    /// Light modules around the symbol; never fewer than the 4 that ISO/IEC 18004:2015 §6.3.8 requires.
    public var quietZone: Int

    public init(moduleSize: Int = 8, quietZone: Int = 4) {
        self.moduleSize = moduleSize
        self.quietZone = quietZone
    }

    /// The SVG document for `code`.
    public func render(_ code: QRCode) -> String {
        let margin = max(4, quietZone)
        let scale = max(1, moduleSize)
        let side = code.size + 2 * margin
        let pixels = side * scale
        // The path is written as UTF-8 bytes with hand-formatted numbers: string
        // interpolation per run would cost an allocation for every one of several hundred runs.
        var path: [UInt8] = []
        path.reserveCapacity(code.size * code.size * 2)
        for y in 0..<code.size {
            var x = 0
            while x < code.size {
                guard code[x, y] else {
                    x += 1
                    continue
                }
                var run = 1
                while x + run < code.size && code[x + run, y] {
                    run += 1
                }
                // M x y h run v1 h-run z: a one-module-high rectangle.
                path.append(UInt8(ascii: "M"))
                Self.appendDecimal(x + margin, to: &path)
                path.append(UInt8(ascii: " "))
                Self.appendDecimal(y + margin, to: &path)
                path.append(UInt8(ascii: "h"))
                Self.appendDecimal(run, to: &path)
                path.append(contentsOf: "v1h-".utf8)
                Self.appendDecimal(run, to: &path)
                path.append(UInt8(ascii: "z"))
                x += run
            }
        }
        return """
            <?xml version="1.0" encoding="UTF-8"?>
            <svg xmlns="http://www.w3.org/2000/svg" version="1.1" viewBox="0 0 \(side) \(side)" \
            width="\(pixels)" height="\(pixels)" shape-rendering="crispEdges">\
            <rect width="\(side)" height="\(side)" fill="#ffffff"/>\
            <path fill="#000000" d="\(String(decoding: path, as: UTF8.self))"/>\
            </svg>

            """
    }

    /// Appends the decimal digits of a non-negative `value`.
    private static func appendDecimal(_ value: Int, to bytes: inout [UInt8]) {
        if value >= 10 {
            appendDecimal(value / 10, to: &bytes)
        }
        bytes.append(UInt8(ascii: "0") + UInt8(value % 10))
    }
}
