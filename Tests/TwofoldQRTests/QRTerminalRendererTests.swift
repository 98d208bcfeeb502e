import Testing
import TwofoldQR

@Suite("Terminal renderer")
struct QRTerminalRendererTests {
    static let reset = "\u{1B}[0m"
    static let blackOnWhite = "\u{1B}[30;47m"

    @Test("half blocks: (size + 8) columns, two module rows per line, black on white")
    func halfBlockDimensions() throws {
        let code = try QRCode(text: "otpauth://totp/Twofold:alice?secret=JBSWY3DPEHPK3PXP")
        let lines = QRTerminalRenderer().render(code).split(separator: "\n", omittingEmptySubsequences: false)
        #expect(lines.last == "")
        let body = lines.dropLast()
        #expect(body.count == (code.size + 8 + 1) / 2)
        for line in body {
            #expect(line.hasPrefix(Self.blackOnWhite))
            #expect(line.hasSuffix(Self.reset))
            #expect(line.dropFirst(Self.blackOnWhite.count).dropLast(Self.reset.count).count == code.size + 8)
        }
    }

    @Test("half blocks draw the finder pattern in the top-left corner after the quiet zone")
    func topLeftCorner() throws {
        let code = try QRCode(text: "corner")
        let lines = QRTerminalRenderer().render(code).split(separator: "\n").map {
            Array($0.dropFirst(Self.blackOnWhite.count).dropLast(Self.reset.count))
        }
        // Rows -4...-1 are quiet zone; rows 0 and 1 are the finder's top edge and its second row.
        #expect(lines[0].allSatisfy { $0 == " " } && lines[1].allSatisfy { $0 == " " })
        #expect(String(lines[2][0..<12]) == "    █▀▀▀▀▀█ ")
        #expect(String(lines[3][0..<11]) == "    █ ███ █")
        #expect(String(lines[4][0..<11]) == "    █ ▀▀▀ █")
    }

    @Test("half blocks reproduce every module", arguments: [0, 4, 5])
    func halfBlocksMatchModules(quietZone: Int) throws {
        let code = try QRCode(text: "TWOFOLD 2FA", errorCorrection: .high)
        let lines = QRTerminalRenderer(quietZone: quietZone).render(code).split(separator: "\n").map {
            Array($0.dropFirst(Self.blackOnWhite.count).dropLast(Self.reset.count))
        }
        let side = code.size + 2 * quietZone
        #expect(lines.count == (side + 1) / 2)
        var wrong = 0
        for (line, characters) in lines.enumerated() {
            #expect(characters.count == side)
            for (column, character) in characters.enumerated() {
                let x = column - quietZone, top = 2 * line - quietZone
                let upper = code[x, top]
                let lower = 2 * line + 1 < side && code[x, top + 1]
                let expected: Character = upper ? (lower ? "█" : "▀") : (lower ? "▄" : " ")
                if character != expected { wrong += 1 }
            }
        }
        #expect(wrong == 0)
    }

    @Test("ASCII style: ## and two spaces per module, one line per row, no escape codes")
    func asciiStyle() throws {
        let code = try QRCode(text: "ascii")
        let text = QRTerminalRenderer(style: .ascii).render(code)
        #expect(!text.contains("\u{1B}"))
        let lines = text.split(separator: "\n", omittingEmptySubsequences: false).dropLast()
        #expect(lines.count == code.size + 8)
        var wrong = 0
        for (row, line) in lines.enumerated() {
            let characters = Array(line)
            #expect(characters.count == 2 * (code.size + 8))
            for column in 0..<(code.size + 8) {
                let pair = String(characters[(2 * column)..<(2 * column + 2)])
                if pair != (code[column - 4, row - 4] ? "##" : "  ") { wrong += 1 }
            }
        }
        #expect(wrong == 0)
        #expect(lines[4].hasPrefix("        ##############  "))
    }
}
