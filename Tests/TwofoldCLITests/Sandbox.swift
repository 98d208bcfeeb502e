import Foundation
import TwofoldTesting

/// A fresh folder to run `twofold` in, with an environment that holds no `TWOFOLD_*` variable
/// but those a test gives: an operator in a new shell. Removed, with everything in it, when the
/// sandbox goes away.
final class Sandbox: @unchecked Sendable {
    /// The root, holding ``directory`` and the output files of served processes.
    private let root: URL
    /// The working folder of every command run here.
    let directory: URL

    init() throws {
        root = FileManager.default.temporaryDirectory.appendingPathComponent("twofold-sandbox-\(UUID().uuidString)")
        directory = root.appendingPathComponent("work")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
    }

    deinit {
        try? FileManager.default.removeItem(at: root)
    }

    /// `name` inside the working folder.
    func path(_ name: String) -> String {
        directory.appendingPathComponent(name).path
    }

    /// What the working folder holds, recursively, as relative paths.
    func contents() -> [String] {
        (FileManager.default.subpaths(atPath: directory.path) ?? []).sorted()
    }

    /// The process environment without any `TWOFOLD_*` variable, plus `extra`.
    static func environment(_ extra: [String: String]) -> [String: String] {
        ProcessInfo.processInfo.environment.filter { !$0.key.hasPrefix("TWOFOLD_") }.merging(extra) { $1 }
    }

    /// Runs `twofold ARGUMENTS` in the working folder and waits for it.
    func run(_ arguments: [String], environment: [String: String] = [:], input: String = "") async throws -> Outcome {
        try await ProcessSlots.shared.withSlot {
            let server = try start(arguments, environment: environment, input: input)
            await server.process.exited()
            return try server.result()
        }
    }

    /// Starts `twofold ARGUMENTS` in the working folder without waiting for it.
    func start(_ arguments: [String], environment: [String: String] = [:], input: String = "") throws -> RunningTwofold {
        let outputs = root.appendingPathComponent("run-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: outputs, withIntermediateDirectories: true)
        let inURL = outputs.appendingPathComponent("stdin")
        let outURL = outputs.appendingPathComponent("stdout")
        let errURL = outputs.appendingPathComponent("stderr")
        try Data(input.utf8).write(to: inURL)
        try Data().write(to: outURL)
        try Data().write(to: errURL)
        let process = try SpawnedProcess(TwofoldBinary.path, arguments: arguments, environment: Self.environment(environment),
                                         directory: directory.path, input: inURL.path, output: outURL.path, error: errURL.path)
        return RunningTwofold(process: process, standardOutput: outURL, standardError: errURL)
    }

    /// Starts `twofold serve` with `environment` (which should hold a free `TWOFOLD_LISTEN`)
    /// and waits until it logs that it listens.
    func serve(_ environment: [String: String]) async throws -> RunningTwofold {
        let server = try start(["serve"], environment: environment)
        try await server.waitForOutput("listening")
        return server
    }

    /// Creates the store and the development key of the working folder as an operator's first
    /// `twofold serve` does, then stops the server.
    func createStoreByServing(_ environment: [String: String] = [:]) async throws {
        let server = try await serve(environment.merging(["TWOFOLD_LISTEN": "127.0.0.1:\(try AdminHarness.freePort())"]) { $1 })
        let result = try await server.stop()
        guard result.status == 0 else { throw HarnessError("twofold serve exited \(result.status): \(result.standardError)") }
    }
}

/// How a `twofold` process ended, and what it wrote.
struct Outcome: Sendable {
    let status: Int32
    let standardOutput: String
    let standardError: String

    /// The lines of standard error, without the empty one after the last newline.
    var errorLines: [String] { standardError.split(separator: "\n").map(String.init) }
}

/// A `twofold` process started by a ``Sandbox``.
final class RunningTwofold: @unchecked Sendable {
    let process: SpawnedProcess
    private let standardOutput: URL
    private let standardError: URL

    init(process: SpawnedProcess, standardOutput: URL, standardError: URL) {
        self.process = process
        self.standardOutput = standardOutput
        self.standardError = standardError
    }

    deinit {
        if process.isRunning {
            process.terminate()
            process.waitUntilExit()
        }
    }

    /// Waits until standard error or standard output holds `text`, for up to 20 seconds.
    func waitForOutput(_ text: String) async throws {
        for _ in 0..<400 {
            let written = (try? String(contentsOf: standardError, encoding: .utf8)) ?? ""
            let printed = (try? String(contentsOf: standardOutput, encoding: .utf8)) ?? ""
            if written.contains(text) || printed.contains(text) { return }
            guard process.isRunning else {
                throw HarnessError("twofold exited (\(process.terminationStatus)) before writing \"\(text)\": \(written)")
            }
            try await Task.sleep(for: .milliseconds(50))
        }
        throw HarnessError("twofold did not write \"\(text)\" within 20 s")
    }

    /// Stops the process as Ctrl-C does (SIGINT), waits for it, and returns what it wrote.
    func stop() async throws -> Outcome {
        if process.isRunning { process.interrupt() }
        await process.exited()
        return try result()
    }

    /// The exit status and what the finished process wrote.
    func result() throws -> Outcome {
        Outcome(status: process.terminationStatus,
                standardOutput: String(decoding: try Data(contentsOf: standardOutput), as: UTF8.self),
                standardError: String(decoding: try Data(contentsOf: standardError), as: UTF8.self))
    }
}
