import Foundation
import TwofoldQR
import TwofoldTesting

/// Runs `Tests/Scripts/qr_decode.py`: writes PNG files, has zxing-cpp decode them all in
/// one Python process, and returns what it read along with a structural check of each file.
enum ZXingDecoder {
    static let tool = ExternalTool.pythonModule("zxingcpp", installHint: "pip install zxing-cpp pillow")

    struct Request: Encodable {
        let path: String
    }

    struct PNGReport: Decodable {
        let signature: Bool
        let chunks: [String]
        let crc_ok: Bool
        let trailing_bytes: Int
        let width: Int?
        let height: Int?
        let bit_depth: Int?
        let colour_type: Int?
        let compression: Int?
        let filter_method: Int?
        let interlace: Int?
        let inflated_ok: Bool?
        let filters: [Int]?
    }

    struct Decoded: Decodable {
        let bytes: String?
        let version: Int?
        let mask: Int?
        let level: String?
        let png: PNGReport
    }

    struct ScriptError: Error, CustomStringConvertible {
        let description: String
    }

    /// Decodes each PNG image.
    static func decode(_ images: [[UInt8]]) async throws -> [Decoded] {
        let directory = FileManager.default.temporaryDirectory
            .appendingPathComponent("twofold-qr-decode-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        var requests: [Request] = []
        for (index, image) in images.enumerated() {
            let url = directory.appendingPathComponent("code-\(index).png")
            try Data(image).write(to: url)
            requests.append(Request(path: url.path))
        }
        let result = try await ExternalProcess.run(
            "python3", [TestEnvironment.script("qr_decode.py")], input: try JSONEncoder().encode(requests)
        )
        guard result.status == 0 else {
            throw ScriptError(description: "qr_decode.py exited \(result.status): \(result.standardError)")
        }
        let decoded = try JSONDecoder().decode([Decoded].self, from: result.stdout)
        guard decoded.count == images.count else {
            throw ScriptError(description: "qr_decode.py answered \(decoded.count) of \(images.count) images")
        }
        return decoded
    }
}
