import Foundation
import FuzzSupport
import TwofoldCore
import TwofoldServer

// Input: a configuration file's text (none if empty), then 0x00 and the environment as
// NAME=value lines.
//
// Properties: loading never traps and fails only with `configuration`; a loaded configuration
// gives its challenge policy and store warning without trapping, and the log format read
// before the other settings (`requestedLogFormat`) is the one loaded; every duration that
// parses is formatted to text that parses back to it.
//
// Environment names longer than 64 bytes are skipped (see below). The settings name files (the
// VAPID key is read while loading): inputs naming anything under /dev or /proc are left out, as
// reading a terminal or a pipe there would block the fuzzer, which says nothing about the parser.

/// The file the text is written to, one per process.
private let path = FileManager.default.temporaryDirectory
    .appendingPathComponent("twofold-fuzz-\(ProcessInfo.processInfo.processIdentifier).conf").path

@main
enum ConfigurationFuzzer {
    static func main() { runLibFuzzer(fuzzConfiguration) }
}

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzConfiguration(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    let bytes = UnsafeBufferPointer(start: data, count: size)
    for special in ["/dev", "/proc"] where bytes.firstRange(of: special.utf8) != nil { return 0 }
    var input = FuzzInput(data, size)
    let fileText = input.field()
    var environment: [String: String] = [:]
    for line in input.restText().split(separator: "\n") {
        let parts = line.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
        // A name far longer than any setting's would only spend the run in the edit distance
        // of the "did you mean" warning, which is quadratic in the name's length.
        guard parts[0].utf8.count <= 64 else { continue }
        environment[String(parts[0])] = parts.count == 2 ? String(parts[1]) : ""
        if parts.count == 2, let seconds = try? DurationText.parse(String(parts[1])) {
            let text = DurationText.format(seconds)
            require((try? DurationText.parse(text)) == seconds, "\(seconds) s is formatted as \(text), which does not parse back")
        }
    }
    // Empty text means no file: reading an empty file leaks in Swift 6.3.1's Foundation, and
    // libFuzzer would then stop to look for leaks after every such run.
    let file: String? = fileText.isEmpty ? nil : path
    if let file {
        do {
            try Data(fileText).write(to: URL(fileURLWithPath: file))
        } catch {
            fatalError("cannot write \(file): \(error)")
        }
    }

    let configuration: TwofoldConfiguration
    do {
        configuration = try TwofoldConfiguration.load(file: file, environment: environment)
    } catch {
        require(error.code == .configuration, "loading failed with \(error.code): \(error.message)")
        return 0
    }
    _ = configuration.challengePolicy
    _ = configuration.storeTransportWarning
    let format = TwofoldConfiguration.requestedLogFormat(file: file, environment: environment)
    require(format == configuration.logFormat, "the log format is read as \(format) first, then loaded as \(configuration.logFormat)")
    return 0
}
