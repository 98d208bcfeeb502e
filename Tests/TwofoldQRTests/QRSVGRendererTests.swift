import Testing
import TwofoldQR

@Suite("SVG renderer")
struct QRSVGRendererTests {
    static let uri = "otpauth://totp/Twofold:alice.smith%40example.com?secret=JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP&issuer=Twofold&digits=6&period=30"

    @Test("is well-formed XML: one svg root, one white background rect, exactly one path")
    func structure() throws {
        let code = try QRCode(text: Self.uri)
        let document = try SVGDocument(parsing: QRSVGRenderer().render(code))
        #expect(document.elements.map(\.name) == ["svg", "rect", "path"])
        let svg = try #require(document.elements(named: "svg").first)
        let side = code.size + 8
        #expect(svg.attributes["xmlns"] == "http://www.w3.org/2000/svg")
        #expect(svg.attributes["viewBox"] == "0 0 \(side) \(side)")
        #expect(svg.attributes["width"] == "\(side * 8)")
        #expect(svg.attributes["height"] == "\(side * 8)")
        #expect(svg.attributes["shape-rendering"] == "crispEdges")
        let rect = try #require(document.elements(named: "rect").first)
        #expect(rect.attributes["fill"] == "#ffffff")
        #expect(rect.attributes["width"] == "\(side)")
        #expect(document.elements(named: "path").count == 1)
    }

    @Test("the path covers exactly the dark modules", arguments: [(8, 4), (3, 10), (1, 4)])
    func pathCoversDarkModules(moduleSize: Int, quietZone: Int) throws {
        let code = try QRCode(text: Self.uri, errorCorrection: .quartile)
        let document = try SVGDocument(parsing: QRSVGRenderer(moduleSize: moduleSize, quietZone: quietZone).render(code))
        let path = try #require(document.elements(named: "path").first?.attributes["d"])
        let side = code.size + 2 * quietZone
        let dark = try Self.modules(drawnBy: path, side: side)
        var wrong = 0
        for y in 0..<side {
            for x in 0..<side where dark[y][x] != code[x - quietZone, y - quietZone] {
                wrong += 1
            }
        }
        #expect(wrong == 0)
        #expect(document.elements(named: "svg").first?.attributes["width"] == "\(side * moduleSize)")
    }

    @Test("never draws a quiet zone narrower than four modules")
    func clampsQuietZone() throws {
        let code = try QRCode(text: "quiet")
        let document = try SVGDocument(parsing: QRSVGRenderer(moduleSize: 0, quietZone: 1).render(code))
        let svg = try #require(document.elements(named: "svg").first)
        #expect(svg.attributes["viewBox"] == "0 0 \(code.size + 8) \(code.size + 8)")
        #expect(svg.attributes["width"] == "\(code.size + 8)")
        let path = try #require(document.elements(named: "path").first?.attributes["d"])
        #expect(path.hasPrefix("M4 4h7v1h-7z"))
    }

    /// Replays the path's `M x y h n v1 h-n z` runs onto a grid of modules.
    static func modules(drawnBy path: String, side: Int) throws -> [[Bool]] {
        var grid = [[Bool]](repeating: [Bool](repeating: false, count: side), count: side)
        for run in path.split(separator: "z") {
            let numbers = run.split(whereSeparator: { "Mhv ".contains($0) }).compactMap { Int($0) }
            let shapeIsRun = run.hasPrefix("M") && numbers.count == 5 && numbers[3] == 1 && numbers[4] == -numbers[2]
            guard shapeIsRun else { throw SVGDocument.Failure(description: "unexpected path piece \(run)") }
            let (x, y, width) = (numbers[0], numbers[1], numbers[2])
            for column in x..<(x + width) {
                #expect(!grid[y][column], "module \(column),\(y) drawn twice")
                grid[y][column] = true
            }
        }
        return grid
    }
}
