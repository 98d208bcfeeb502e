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

    /// Runs `command` (looked up on `PATH`) with `arguments`, feeding `input` on standard input.
    public static func run(
        _ command: String,
        _ arguments: [String],
        input: Data = Data(),
        environment: [String: String]? = nil
    ) throws -> Result {
        guard let executable = which(command) else {
            throw CocoaError(.fileNoSuchFile, userInfo: [NSFilePathErrorKey: command])
        }
        let directory = FileManager.default.temporaryDirectory
            .appendingPathComponent("twofold-process-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let inURL = directory.appendingPathComponent("stdin")
        let outURL = directory.appendingPathComponent("stdout")
        let errURL = directory.appendingPathComponent("stderr")
        try input.write(to: inURL)
        try Data().write(to: outURL)
        try Data().write(to: errURL)

        let status = try spawnAndWait(executable, arguments: arguments,
                                      environment: ProcessInfo.processInfo.environment.merging(environment ?? [:]) { $1 },
                                      stdin: inURL.path, stdout: outURL.path, stderr: errURL.path)
        return Result(
            status: status,
            stdout: try Data(contentsOf: outURL),
            stderr: try Data(contentsOf: errURL)
        )
    }

    /// Starts `executable` (``SpawnedProcess``), its standard streams opened on the three files,
    /// and waits for it.
    /// - Returns: The exit status, or 128 + the signal that ended it, as a shell reports it.
    static func spawnAndWait(_ executable: String, arguments: [String], environment: [String: String],
                             stdin: String, stdout: String, stderr: String) throws -> Int32 {
        let process = try SpawnedProcess(executable, arguments: arguments, environment: environment, input: stdin, output: stdout,
                                         error: stderr)
        process.waitUntilExit()
        return process.signaled ? 128 + process.terminationStatus : process.terminationStatus
    }
}
