import Foundation
import Logging

// MARK: - What the environment holds besides the settings

extension TwofoldConfiguration {
    /// The log format the file and environment ask for, read even when other settings are
    /// invalid, so that the error refusing them is written in the format asked for.
    public static func requestedLogFormat(file: String?, environment: [String: String]) -> LogFormat {
        var text = environment["TWOFOLD_LOG_FORMAT"].flatMap { $0.isEmpty ? nil : $0 }
        if text == nil, let path = configurationFile(file: file, environment: environment),
           let contents = try? String(contentsOfFile: path, encoding: .utf8),
           let values = try? parseFile(contents, path: path) {
            // A file that cannot be read or parsed is reported by load(file:environment:).
            text = values["TWOFOLD_LOG_FORMAT"]
        }
        return text.flatMap { LogFormat(rawValue: $0.trimmingCharacters(in: .whitespaces).lowercased()) } ?? .text
    }

    /// `TWOFOLD_*` names the environment may hold that are not settings: `TWOFOLD_CONFIG`, and
    /// the variables of Twofold's own scripts (tests, benchmarks, provisioning).
    static let otherKnownVariables: Set<String> = ["TWOFOLD_CONFIG", "TWOFOLD_BIN"]
    static let scriptVariablePrefixes = ["TWOFOLD_TEST_", "TWOFOLD_BENCH_", "TWOFOLD_PG_", "TWOFOLD_MULTI_", "TWOFOLD_DB_"]

    /// One warning per `TWOFOLD_*` variable of `environment` that is not a setting, with the
    /// nearest setting's name when one is close enough to be the intended one.
    static func unknownVariableWarnings(_ environment: [String: String]) -> [String] {
        let known = settings.map(\.name)
        return environment.keys.filter { name in
            name.hasPrefix("TWOFOLD_") && !known.contains(name) && !otherKnownVariables.contains(name)
                && !scriptVariablePrefixes.contains { name.hasPrefix($0) }
        }.sorted().map { name in
            if let nearest = nearestSetting(to: name) {
                return "\(name) is not a Twofold setting and is ignored: did you mean \(nearest)?"
            }
            return "\(name) is not a Twofold setting and is ignored (`twofold serve --help` lists the settings)"
        }
    }

    /// The setting whose name is closest to `name` (Levenshtein distance), if it is close enough
    /// to be a typo of it: at most a third of the name's length apart, and at least 2 allowed.
    static func nearestSetting(to name: String) -> String? {
        let candidates = settings.map(\.name) + ["TWOFOLD_CONFIG"]
        let scored = candidates.map { ($0, editDistance(name, $0)) }
        guard let best = scored.min(by: { $0.1 < $1.1 }) else { return nil }
        let suffixLength = name.count - "TWOFOLD_".count
        return best.1 <= max(2, suffixLength / 3) ? best.0 : nil
    }

    static func editDistance(_ a: String, _ b: String) -> Int {
        let a = Array(a.utf8), b = Array(b.utf8)
        var previous = Array(0...b.count)
        for (i, x) in a.enumerated() {
            var current = [i + 1] + Array(repeating: 0, count: b.count)
            for (j, y) in b.enumerated() {
                current[j + 1] = min(previous[j + 1] + 1, current[j] + 1, previous[j] + (x == y ? 0 : 1))
            }
            previous = current
        }
        return previous[b.count]
    }

    /// Logs the configuration's ``warnings``, once logging is set up.
    public func logWarnings(to logger: Logger) {
        for warning in warnings { logger.warning("\(warning)") }
    }
}
