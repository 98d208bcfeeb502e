import Foundation
import TwofoldTesting

/// The `twofold` executable SwiftPM built next to this test bundle.
enum TwofoldBinary {
    static let path: String = {
        let bundle = URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath()
        let candidates = [
            bundle.deletingLastPathComponent().appendingPathComponent("twofold").path,
            Bundle.main.bundleURL.deletingLastPathComponent().appendingPathComponent("twofold").path,
        ]
        return candidates.first { FileManager.default.isExecutableFile(atPath: $0) } ?? candidates[0]
    }()

    static func run(_ arguments: [String], input: String = "", environment: [String: String]? = nil) async throws -> ExternalProcess.Result {
        try await ExternalProcess.run(path, arguments, input: Data(input.utf8), environment: environment)
    }
}
