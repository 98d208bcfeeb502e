import Foundation
import Logging
import Synchronization
import Testing
@testable import TwofoldServer
import TwofoldHTTP

@Suite("Log lines")
struct LogLineTests {
    @Test("UTC calendar times match known instants, leap days and dates before 1970 included", arguments: [
        (Int64(0), 0, "1970-01-01T00:00:00.000Z"),
        (Int64(951_782_400), 0, "2000-02-29T00:00:00.000Z"),
        (Int64(1_796_525_563), 123_456_789, "2026-12-06T02:52:43.123Z"),
        (Int64(4_102_444_799), 999_999_999, "2099-12-31T23:59:59.999Z"),
        (Int64(-1), 0, "1969-12-31T23:59:59.000Z"),
        (Int64(-2_208_988_800), 0, "1900-01-01T00:00:00.000Z"),
    ])
    func knownTimes(seconds: Int64, nanoseconds: Int, expected: String) {
        let line = LogLine.text(time: UTCTime(secondsSinceEpoch: seconds, nanoseconds: nanoseconds), level: .info,
                                label: "l", message: "m", fields: [:], errorType: nil)
        #expect(line.hasPrefix(expected + " "))
    }

    @Test("UTC calendar times agree with Foundation's for random instants from 1900 to 2200")
    func timesAgreeWithFoundation() {
        var generator = SystemRandomNumberGenerator()
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(identifier: "UTC")!
        for _ in 0..<2_000 {
            let seconds = Int64.random(in: -2_208_988_800...7_258_118_400, using: &generator)
            let time = UTCTime(secondsSinceEpoch: seconds, nanoseconds: 0)
            let parts = calendar.dateComponents([.year, .month, .day, .hour, .minute, .second],
                                                from: Date(timeIntervalSince1970: TimeInterval(seconds)))
            #expect([time.year, time.month, time.day, time.hour, time.minute, time.second]
                == [parts.year, parts.month, parts.day, parts.hour, parts.minute, parts.second], "at \(seconds)")
        }
    }

    @Test("a text line: time, level, label, message, then sorted metadata, quoted only when needed")
    func textLine() {
        let written = LockedLines()
        var logger = Logger(label: "twofold.http") { label in LineLogHandler(label: label, format: .text, write: { written.append($0) }) }
        logger[metadataKey: "request_id"] = "abc"
        logger.info("request", metadata: ["status": "200", "route": "/v1/users/{user_id}/verify", "note": "two words"])
        logger.debug("not at info")
        #expect(written.lines.count == 1)
        let line = written.lines[0]
        let time = String(line.prefix(24))
        #expect(time.count == 24 && time.hasSuffix("Z") && time.dropFirst(10).hasPrefix("T"))
        #expect(line.dropFirst(24) == #" info twofold.http: request note="two words" request_id=abc route=/v1/users/{user_id}/verify status=200"# + "\n")
    }

    @Test("a message or value with a newline, quote or control character stays on one line")
    func textEscaping() {
        let written = LockedLines()
        let logger = Logger(label: "x") { label in LineLogHandler(label: label, format: .text, write: { written.append($0) }) }
        logger.warning("forged\ninfo x: admin logged in", metadata: ["value": "a\"b\\c\r\u{1}", "empty": ""])
        let line = written.lines[0]
        #expect(line.dropLast().contains("\n") == false)
        #expect(line.dropFirst(24) == #" warning x: forged\ninfo x: admin logged in empty="" value="a\"b\\c\r\u0001""# + "\n")
    }

    @Test("a JSON line parses, sorts its keys, escapes control characters and keeps the fixed fields")
    func jsonLine() throws {
        let written = LockedLines()
        var logger = Logger(label: "twofold.http") { label in LineLogHandler(label: label, format: .json, write: { written.append($0) }) }
        logger[metadataKey: "zeta"] = "last"
        logger.error("bad\nthing \"quoted\" \u{7}", metadata: [
            "message": "a metadata field cannot replace the message", "alpha": ["b": "2", "a": ["1", "x\ty"]], "time": "no",
        ])
        let line = written.lines[0]
        #expect(line.hasSuffix("\n") && line.dropLast().contains("\n") == false)
        let object = try #require(JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])
        #expect(object["message"] as? String == "bad\nthing \"quoted\" \u{7}")
        #expect(object["level"] as? String == "error")
        #expect(object["zeta"] as? String == "last")
        #expect((object["time"] as? String)?.hasSuffix("Z") == true && (object["time"] as? String) != "no")
        let alpha = try #require(object["alpha"] as? [String: Any])
        #expect(alpha["a"] as? [String] == ["1", "x\ty"])
        let keys = ["alpha", "label", "level", "message", "time", "zeta"]
        let positions = keys.map { line.range(of: "\"\($0)\":")!.lowerBound }
        #expect(positions == positions.sorted())
        #expect(line.contains(#""b":"2""#) && line.range(of: #""a":"#)!.lowerBound < line.range(of: #""b":"#)!.lowerBound)
    }

    @Test("the JSON log handler writes one object per line with the metadata as fields")
    func jsonLogHandler() throws {
        let written = LockedLines()
        var logger = Logger(label: "twofold.http") { label in
            LineLogHandler(label: label, format: .json, write: { written.append($0) })
        }
        logger[metadataKey: "request_id"] = "abc"
        logger.info("request", metadata: ["status": "200", "nested": ["a": "b"]])
        logger.debug("not at info")
        let lines = written.lines
        #expect(lines.count == 1)
        let line = try #require(lines.first)
        #expect(line.hasSuffix("\n"))
        #expect(line.dropLast().contains("\n") == false)
        let object = try #require(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])
        #expect(object["message"] as? String == "request")
        #expect(object["level"] as? String == "info")
        #expect(object["label"] as? String == "twofold.http")
        #expect(object["request_id"] as? String == "abc")
        #expect(object["status"] as? String == "200")
        #expect(object["nested"] as? [String: String] == ["a": "b"])
        #expect((object["time"] as? String)?.hasSuffix("Z") == true)
    }

    @Test("in JSON, numbers and Bools given as values are JSON numbers and booleans; strings stay strings")
    func jsonNumbers() throws {
        let written = LockedLines()
        let logger = Logger(label: "twofold") { label in LineLogHandler(label: label, format: .json, write: { written.append($0) }) }
        logger.notice("listening", metadata: [
            "port": .stringConvertible(8080), "ratio": .stringConvertible(0.5), "ready": .stringConvertible(true),
            "infinite": .stringConvertible(Double.infinity), "user_id": "12345", "count": "\(3)",
        ])
        let line = try #require(written.lines.first)
        #expect(line.contains(#""port":8080"#))
        #expect(line.contains(#""ratio":0.5"#))
        #expect(line.contains(#""ready":true"#))
        #expect(line.contains(#""infinite":"inf""#))
        #expect(line.contains(#""user_id":"12345""#))
        #expect(line.contains(#""count":"3""#))
        let object = try #require(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])
        #expect(object["port"] as? Int == 8080)
    }
}

final class LockedLines: Sendable {
    private let storage = Mutex<[String]>([])
    var lines: [String] { storage.withLock { $0 } }
    func append(_ line: String) { storage.withLock { $0.append(line) } }

}
