import Foundation

/// Runs a program to completion and captures what it wrote.
///
/// Output goes through temporary files rather than pipes, so a program that writes
/// megabytes (a PNG, thousands of codes) can never dead-lock against a full pipe.
public enum ExternalProcess {
    public struct Result: Sendable {
        public let status: Int32
        public let stdout: Data
        public let stderr: Data
        public var standardOutput: String { String(decoding: stdout, as: UTF8.self) }
        public var standardError: String { String(decoding: stderr, as: UTF8.self) }
    }

    /// Finds a command on `PATH`.
    public static func which(_ command: String) -> String? {
        if command.contains("/") {
            return FileManager.default.isExecutableFile(atPath: command) ? command : nil
        }
        let path = ProcessInfo.processInfo.environment["PATH"] ?? "/usr/local/bin:/usr/bin:/bin"
        for directory in path.split(separator: ":") {
            let candidate = "\(directory)/\(command)"
            if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
        }
        return nil
    }

    /// Runs `command` (looked up on `PATH`) with `arguments`, feeding `input` on standard input,
    /// and waits for it as a task (``SpawnedProcess/exited()``), holding no thread meanwhile; it
    /// starts once one of the ``ProcessSlots`` is free.
    public static func run(
        _ command: String,
        _ arguments: [String],
        input: Data = Data(),
        environment: [String: String]? = nil
    ) async throws -> Result {
        let files = try Files(command: command, input: input)
        defer { files.remove() }
        return try await ProcessSlots.shared.withSlot {
            let process = try files.spawn(arguments, environment: environment)
            await process.exited()
            return try files.result(of: process)
        }
    }

    /// ``run(_:_:input:environment:)`` blocking the calling thread: only for `deinit`, `defer`
    /// and the synchronous checks of whether a tool is installed, where nothing can be awaited.
    public static func runBlocking(
        _ command: String,
        _ arguments: [String],
        input: Data = Data(),
        environment: [String: String]? = nil
    ) throws -> Result {
        let files = try Files(command: command, input: input)
        defer { files.remove() }
        let process = try files.spawn(arguments, environment: environment)
        process.waitUntilExit()
        return try files.result(of: process)
    }

    /// The program and the three files its standard streams use, in a folder of their own.
    private struct Files: Sendable {
        let executable: String
        let directory: URL
        let input: URL
        let output: URL
        let error: URL

        init(command: String, input data: Data) throws {
            guard let executable = ExternalProcess.which(command) else {
                throw CocoaError(.fileNoSuchFile, userInfo: [NSFilePathErrorKey: command])
            }
            self.executable = executable
            directory = FileManager.default.temporaryDirectory.appendingPathComponent("twofold-process-\(UUID().uuidString)")
            input = directory.appendingPathComponent("stdin")
            output = directory.appendingPathComponent("stdout")
            error = directory.appendingPathComponent("stderr")
            try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
            try data.write(to: input)
            try Data().write(to: output)
            try Data().write(to: error)
        }

        func spawn(_ arguments: [String], environment: [String: String]?) throws -> SpawnedProcess {
            try SpawnedProcess(executable, arguments: arguments,
                               environment: ProcessInfo.processInfo.environment.merging(environment ?? [:]) { $1 },
                               input: input.path, output: output.path, error: error.path)
        }

        /// The exit status (128 + the signal that ended it, as a shell reports it) and the output.
        func result(of process: SpawnedProcess) throws -> Result {
            Result(status: process.signaled ? 128 + process.terminationStatus : process.terminationStatus,
                   stdout: try Data(contentsOf: output), stderr: try Data(contentsOf: error))
        }

        func remove() {
            try? FileManager.default.removeItem(at: directory)
        }
    }
}
