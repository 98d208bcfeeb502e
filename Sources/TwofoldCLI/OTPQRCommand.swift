import ArgumentParser
import Foundation
import TwofoldQR
import TwofoldServer

extension QRErrorCorrection: ExpressibleByArgument {
    public init?(argument: String) {
        self.init(rawValue: argument.uppercased())
    }
}

/// How `twofold otp qr` draws a symbol.
enum QROutputFormat: String, CaseIterable, ExpressibleByArgument {
    case terminal, ascii, svg, png
}

/// `twofold otp qr`: draws any text as a QR code, byte for byte.
struct OTPQRCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "qr",
        abstract: "Draw text (usually an otpauth:// URI) as a QR code: in the terminal, as SVG or as PNG.",
        discussion: """
            The text is encoded byte for byte as UTF-8; it is not rewritten. The terminal format \
            uses Unicode half blocks, black on white whatever the terminal's colours; ascii is a \
            plain fallback. Quiet zone 4 modules; PNG 8 pixels per module. Without --output, \
            the drawing goes to standard output. An otpauth:// URI holds the secret: give it with \
            --text-file FILE, or --text-file - on standard input, rather than as an argument, which \
            other users can see.
            """
    )

    @Option(help: ArgumentHelp("A file holding the text to encode (one trailing newline is removed, nothing else), or - to read it from standard input.",
                               valueName: "file"))
    var textFile: String?

    @Argument(help: "The text to encode. An otpauth:// URI holds the secret, which other users can see in the process list: use --text-file.")
    var text: String?

    @Option(help: "terminal, ascii, svg or png.")
    var format: QROutputFormat = .terminal

    @Option(help: "Error correction level: L (7%), M (15%), Q (25%) or H (30%).")
    var ecc: QRErrorCorrection = .medium

    @Option(help: ArgumentHelp("Write to this file instead of standard output.", valueName: "file"))
    var output: String?

    func validate() throws {
        switch (textFile, text) {
        case (nil, nil): throw ValidationError("give the text: --text-file FILE, or --text-file - to read it from standard input")
        case (_?, _?): throw ValidationError("give the text once: --text-file FILE (or - for standard input), or as the argument")
        default: break
        }
    }

    func run() throws {
        let payload: String
        if let textFile {
            payload = try OTPSecretInput.read(textFile, option: "--text-file", singleLine: false)
        } else {
            payload = text ?? ""
            if OTPSecretInput.holdsSecret(payload) { OTPSecretInput.warnCommandLine("the URI, with its secret,", use: "--text-file") }
        }
        let code: QRCode
        do {
            code = try QRCode(text: payload, errorCorrection: ecc)
        } catch {
            throw CommandFailure(error.message)
        }
        let bytes = QRDrawing.render(code, format: format)
        if let output {
            do {
                // The code holds the secret: mode 0600 from creation.
                try PrivateFile.create(output, bytes: bytes, replacing: true)
            } catch {
                throw CommandFailure("cannot write \(output): \(error.localizedDescription)")
            }
        } else {
            StandardOutput.write(bytes)
        }
    }
}

/// Rendering shared by `otp qr` and `otp uri --qr`.
enum QRDrawing {
    static func render(_ code: QRCode, format: QROutputFormat) -> [UInt8] {
        switch format {
        case .terminal: Array(QRTerminalRenderer(style: .halfBlocks).render(code).utf8)
        case .ascii: Array(QRTerminalRenderer(style: .ascii).render(code).utf8)
        case .svg: Array(QRSVGRenderer().render(code).utf8)
        case .png: QRPNGRenderer().render(code)
        }
    }
}
