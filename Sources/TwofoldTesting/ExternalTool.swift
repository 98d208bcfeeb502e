import Foundation
import Synchronization
import Testing

/// An outside program a test checks Twofold against (pyotp, oathtool, a QR decoder, …).
///
/// Locally a missing tool skips the test with a printed reason, so `swift test` works on a
/// bare machine. When `CI` is set a missing tool fails the test: CI must run every check.
public struct ExternalTool: Sendable {
    /// What the tool is called in messages.
    public let name: String
    /// How to install it, shown when it is missing.
    public let installHint: String
    private let probe: @Sendable () -> Bool

    public init(name: String, installHint: String, probe: @escaping @Sendable () -> Bool) {
        self.name = name
        self.installHint = installHint
        self.probe = probe
    }

    /// A program found on `PATH`.
    public static func command(_ command: String, installHint: String) -> ExternalTool {
        ExternalTool(name: command, installHint: installHint) {
            ExternalProcess.which(command) != nil
        }
    }

    /// A Python module importable by `python3`. Looked for once per test process: the look starts
    /// Python and blocks the calling thread, which many tests would otherwise do again and again.
    public static func pythonModule(_ module: String, installHint: String) -> ExternalTool {
        ExternalTool(name: "python3 module \(module)", installHint: installHint) {
            if let known = importable.withLock({ $0[module] }) { return known }
            let found = ExternalProcess.which("python3") != nil
                && (try? ExternalProcess.runBlocking("python3", ["-c", "import \(module)"]))?.status == 0
            importable.withLock { $0[module] = found }
            return found
        }
    }

    /// Whether each Python module asked about so far could be imported.
    private static let importable = Mutex<[String: Bool]>([:])

    /// Whether the tool can be used on this machine.
    public var isAvailable: Bool { probe() }

    /// Returns when the tool is there; otherwise skips the running test (locally) or fails it (CI).
    public func require(sourceLocation: SourceLocation = #_sourceLocation) throws {
        if isAvailable { return }
        let reason = "\(name) is not installed (\(installHint))"
        if TestEnvironment.isCI {
            Issue.record("CI must run this test, but \(reason)", sourceLocation: sourceLocation)
            throw MissingToolError(reason: reason)
        }
        print("◇ Skipped: \(reason)")
        try Test.cancel(Comment(rawValue: "skipped: \(reason)"), sourceLocation: sourceLocation)
    }
}

/// Thrown after recording an issue when CI lacks a required tool.
public struct MissingToolError: Error, CustomStringConvertible {
    public let reason: String
    public var description: String { reason }
}

/// Facts about the environment the tests run in.
public enum TestEnvironment {
    /// True when the `CI` variable is set to anything but an empty string, `0` or `false`.
    public static var isCI: Bool {
        guard let value = ProcessInfo.processInfo.environment["CI"] else { return false }
        return !["", "0", "false"].contains(value.lowercased())
    }

    /// The root of the repository (the folder holding Package.swift).
    public static let repositoryRoot: URL = {
        URL(fileURLWithPath: #filePath)
            .deletingLastPathComponent()  // TwofoldTesting
            .deletingLastPathComponent()  // Sources
            .deletingLastPathComponent()
    }()

    /// A script under `Tests/Scripts/`.
    public static func script(_ name: String) -> String {
        repositoryRoot.appendingPathComponent("Tests/Scripts/\(name)").path
    }
}
