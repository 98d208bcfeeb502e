import Foundation
import TwofoldQR
import TwofoldTesting

/// Runs `Tests/Scripts/qr_segno_matrix.py`: many matrices from segno in one Python process.
enum SegnoReference {
    static let tool = ExternalTool.pythonModule("segno", installHint: "pip install segno")

    struct Case: Encodable {
        let data: String
        let level: String
        let version: Int?
        let mask: Int?
        let mode: String?

        init(data: [UInt8], level: QRErrorCorrection, version: Int?, mask: Int?, mode: QRMode?) {
            self.data = Hex.string(data)
            self.level = level.rawValue
            self.version = version
            self.mask = mask
            self.mode = mode?.rawValue
        }
    }

    struct Matrix: Decodable {
        let version: Int
        let level: String
        let mask: Int
        let rows: [String]
    }

    struct ScriptError: Error, CustomStringConvertible {
        let description: String
    }

    static func matrices(for cases: [Case]) async throws -> [Matrix] {
        let input = try JSONEncoder().encode(cases)
        let result = try await ExternalProcess.run("python3", [TestEnvironment.script("qr_segno_matrix.py")], input: input)
        guard result.status == 0 else {
            throw ScriptError(description: "qr_segno_matrix.py exited \(result.status): \(result.standardError)")
        }
        let matrices = try JSONDecoder().decode([Matrix].self, from: result.stdout)
        guard matrices.count == cases.count else {
            throw ScriptError(description: "qr_segno_matrix.py returned \(matrices.count) matrices for \(cases.count) cases")
        }
        return matrices
    }
}
