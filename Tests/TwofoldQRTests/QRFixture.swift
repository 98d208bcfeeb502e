import Foundation
import TwofoldQR

/// A known-answer matrix from `Fixtures/`, made once with segno by `Tests/Scripts/qr_make_fixtures.py`.
struct QRFixture: Sendable, CustomStringConvertible {
    let name: String
    let data: [UInt8]
    let level: QRErrorCorrection
    let version: Int
    let mask: Int
    let mode: QRMode
    /// Whether the mask was chosen by penalty evaluation rather than given.
    let automaticMask: Bool
    /// One string of '1' (dark) and '0' (light) per module row.
    let rows: [String]

    var description: String { name }

    struct FormatError: Error, CustomStringConvertible {
        let description: String
    }

    /// Every fixture in the test bundle, by file name.
    static func loadAll() throws -> [QRFixture] {
        guard let directory = Bundle.module.url(forResource: "Fixtures", withExtension: nil) else {
            throw FormatError(description: "the test bundle has no Fixtures folder")
        }
        let files = try FileManager.default.contentsOfDirectory(at: directory, includingPropertiesForKeys: nil)
            .filter { $0.pathExtension == "txt" }
            .sorted { $0.lastPathComponent < $1.lastPathComponent }
        return try files.map { try QRFixture(contentsOf: $0) }
    }

    init(contentsOf url: URL) throws {
        name = url.lastPathComponent
        let lines = try String(contentsOf: url, encoding: .utf8).split(separator: "\n").map(String.init)
        guard let header = lines.first else { throw FormatError(description: "\(name) is empty") }
        var fields: [String: String] = [:]
        for field in header.split(separator: " ") {
            let parts = field.split(separator: "=", maxSplits: 1).map(String.init)
            guard parts.count == 2 else { throw FormatError(description: "\(name): bad header field \(field)") }
            fields[parts[0]] = parts[1]
        }
        guard let hex = fields["data"], let data = Hex.bytes(hex),
            let level = fields["level"].flatMap(QRErrorCorrection.init(rawValue:)),
            let version = fields["version"].flatMap({ Int($0) }),
            let mask = fields["mask"].flatMap({ Int($0) }),
            let mode = fields["mode"].flatMap(QRMode.init(rawValue:)),
            let selection = fields["selection"], ["auto", "fixed"].contains(selection)
        else {
            throw FormatError(description: "\(name): incomplete header \(header)")
        }
        self.data = data
        self.level = level
        self.version = version
        self.mask = mask
        self.mode = mode
        automaticMask = selection == "auto"
        rows = Array(lines.dropFirst())
    }
}
