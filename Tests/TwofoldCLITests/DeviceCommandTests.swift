import Foundation
import Testing
import TwofoldTesting
#if canImport(Glibc)
import Glibc
#endif

/// `twofold device` through the real binary: usage errors, and the device file that activation
/// writes, against a one-route stand-in for the server's activation endpoint.
@Suite("twofold device")
struct DeviceCommandTests {
    static let challenge = "chl_" + String(repeating: "a", count: 26)
    static let deviceID = "dev_" + String(repeating: "d", count: 26)

    static func uri(_ base: String, token: String = "tok-123_x") -> String {
        "twofold://activate?url=\(base.addingPercentEncoding(withAllowedCharacters: .alphanumerics)!)&token=\(token)"
    }

    static func mode(_ path: String) throws -> Int {
        (try FileManager.default.attributesOfItem(atPath: path)[.posixPermissions] as? NSNumber)?.intValue ?? -1
    }

    @Test("usage errors exit 2 under the subcommand's usage, saying what is wrong", arguments: [
        (["device", "activate"], "give the activation URI", "activate"),
        (["device", "activate", "https://2fa.example.com/activate?token=t"], "must start with twofold://activate?", "activate"),
        (["device", "activate", "twofold://activate?url=ftp%3A%2F%2Fa&token=t"], "http:// or https://", "activate"),
        (["device", "activate", "twofold://activate?url=http%3A%2F%2Fa"], "no token parameter", "activate"),
        (["device", "activate", "twofold://activate?url=http%3A%2F%2Fa&token=t", "--uri-file", "f"], "not both", "activate"),
        (["device", "approve", "chl_nope"], "is not a challenge id", "approve"),
        (["device", "approve", challenge, "--number=-1"], "must not be negative", "approve"),
        (["device", "approve", challenge, "--number", "forty-two"], "--number", "approve"),
        (["device", "deny", "42"], "is not a challenge id", "deny"),
        (["device", "deny", challenge, "--fraud", "--number", "4"], "--number", "deny"),
        (["device", "watch", "--interval", "0"], "between 0.1 and 3600", "watch"),
        (["device", "watch", "--interval", "nan"], "between 0.1 and 3600", "watch"),
        (["device", "pending", "--bogus"], "--bogus", "pending"),
    ])
    func usageErrors(arguments: [String], reason: String, command: String) async throws {
        let sandbox = try Sandbox()
        let result = try await sandbox.run(arguments, environment: ["TWOFOLD_DEVICE_FILE": sandbox.path("device.json")])
        #expect(result.status == 2, "\(arguments): \(result.standardError)")
        #expect(result.standardOutput.isEmpty)
        #expect(result.standardError.contains(reason), "\(arguments): \(result.standardError)")
        #expect(result.standardError.contains("Usage: twofold device \(command)"), "\(arguments): \(result.standardError)")
        #expect(sandbox.contents().isEmpty)
    }

    @Test("without a device file, or with one that is not, commands exit 2 naming it", arguments: [
        ["device", "pending"], ["device", "approve", challenge], ["device", "deny", challenge], ["device", "watch"],
    ])
    func missingDeviceFile(arguments: [String]) async throws {
        let sandbox = try Sandbox()
        let path = sandbox.path("device.json")
        let missing = try await sandbox.run(arguments, environment: ["TWOFOLD_DEVICE_FILE": path])
        #expect(missing.status == 2)
        #expect(missing.standardError.contains("no device file at \(path): activate this device first"), "\(missing.standardError)")
        #expect(!missing.standardError.contains("Usage:"))

        try PrivateFileWriter.write(path, #"{"server_url": "http://127.0.0.1:1"}"#)
        let malformed = try await sandbox.run(arguments + ["--device-file", path])
        #expect(malformed.status == 2)
        #expect(malformed.standardError.contains("\(path) is not a Twofold device file"), "\(malformed.standardError)")
    }

    @Test("activate writes the server, the device id and the key to a new file readable by its owner only")
    func activateWritesDeviceFile() async throws {
        let stub = try ActivationStub(status: 201, body: #"{"device_id": "\#(Self.deviceID)"}"#)
        defer { stub.stop() }
        let sandbox = try Sandbox()
        let path = sandbox.path("device.json")
        let result = try await sandbox.run(["device", "activate", Self.uri(stub.base), "--device-file", path])
        #expect(result.status == 0, "\(result.standardError)")
        #expect(result.standardOutput == "activated device \(Self.deviceID) with \(stub.base); wrote \(path)\n")
        // The URI holds a one-time token: on the command line it is warned about.
        #expect(result.standardError.contains("the activation URI is on the command line"))
        #expect(try Self.mode(path) == 0o600)

        let file = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: path))) as? [String: String])
        #expect(Set(file.keys) == ["server_url", "device_id", "private_key"])
        #expect(file["server_url"] == stub.base)
        #expect(file["device_id"] == Self.deviceID)
        let pem = try #require(file["private_key"])
        #expect(pem.hasPrefix("-----BEGIN PRIVATE KEY-----"))
        let keyBody = pem.split(separator: "\n")[1]
        #expect(!result.standardOutput.contains(keyBody) && !result.standardError.contains(keyBody))

        let request = try #require(stub.requests.first)
        #expect(stub.requests.count == 1)
        #expect(request.head.hasPrefix("POST /v1/devices/activate HTTP/1.1\r\n"))
        let sent = try #require(try JSONSerialization.jsonObject(with: Data(request.body)) as? [String: Any])
        #expect(sent["token"] as? String == "tok-123_x")
        #expect((sent["transport"] as? [String: String]) == ["type": "polling"])
        let publicKey = try #require((sent["public_key"] as? String).flatMap { Data(base64Encoded: $0) })
        #expect(publicKey.count == 91)  // SPKI DER of a P-256 key
        #expect(!String(decoding: request.body, as: UTF8.self).contains(keyBody))

        let json = try await sandbox.run(["device", "activate", "--uri-file", "-", "--device-file", sandbox.path("second.json"), "--json"],
                                   input: Self.uri(stub.base) + "\n")
        #expect(json.status == 0, "\(json.standardError)")
        #expect(json.standardError.isEmpty)
        #expect(json.standardOutput == #"{"device_file":"\#(sandbox.path("second.json"))","device_id":"\#(Self.deviceID)","server_url":"\#(stub.base)"}"# + "\n")
    }

    @Test("activate refuses an existing device file, or a link in its place, before using the token; --force replaces it")
    func activateRefusesExistingFile() async throws {
        let stub = try ActivationStub(status: 201, body: #"{"device_id": "\#(Self.deviceID)"}"#)
        defer { stub.stop() }
        let sandbox = try Sandbox()
        let path = sandbox.path("device.json")
        try PrivateFileWriter.write(path, "the old device")
        let refused = try await sandbox.run(["device", "activate", Self.uri(stub.base), "--device-file", path])
        #expect(refused.status == 1)
        #expect(refused.standardError.contains("refusing to overwrite \(path) without --force"), "\(refused.standardError)")
        #expect(try String(contentsOfFile: path, encoding: .utf8) == "the old device")

        let victim = sandbox.path("victim")
        try "do not touch".write(toFile: victim, atomically: false, encoding: .utf8)
        let link = sandbox.path("linked.json")
        try FileManager.default.createSymbolicLink(atPath: link, withDestinationPath: victim)
        let throughLink = try await sandbox.run(["device", "activate", Self.uri(stub.base), "--device-file", link])
        #expect(throughLink.status == 1)
        #expect(stub.requests.isEmpty)

        let forced = try await sandbox.run(["device", "activate", Self.uri(stub.base), "--device-file", link, "--force"])
        #expect(forced.status == 0, "\(forced.standardError)")
        #expect(try String(contentsOfFile: victim, encoding: .utf8) == "do not touch")
        #expect(try FileManager.default.attributesOfItem(atPath: link)[.type] as? FileAttributeType == .typeRegular)
        #expect(try Self.mode(link) == 0o600)
        #expect(stub.requests.count == 1)
    }

    @Test("the default device file is ~/.config/twofold/device.json, in a folder created 0700; TWOFOLD_DEVICE_FILE overrides it")
    func defaultLocation() async throws {
        let stub = try ActivationStub(status: 201, body: #"{"device_id": "\#(Self.deviceID)"}"#)
        defer { stub.stop() }
        let sandbox = try Sandbox()
        let home = sandbox.path("home")
        try FileManager.default.createDirectory(atPath: home, withIntermediateDirectories: false)
        let result = try await sandbox.run(["device", "activate", Self.uri(stub.base)], environment: ["HOME": home])
        #expect(result.status == 0, "\(result.standardError)")
        #expect(try Self.mode(home + "/.config") == 0o700)
        #expect(try Self.mode(home + "/.config/twofold") == 0o700)
        #expect(try Self.mode(home + "/.config/twofold/device.json") == 0o600)

        let elsewhere = sandbox.path("elsewhere.json")
        let overridden = try await sandbox.run(["device", "activate", Self.uri(stub.base)],
                                         environment: ["HOME": home, "TWOFOLD_DEVICE_FILE": elsewhere])
        #expect(overridden.status == 0, "\(overridden.standardError)")
        #expect(FileManager.default.fileExists(atPath: elsewhere))
    }

    @Test("a refused activation prints the server's message, escaped, exits 1 and writes nothing")
    func refusedActivation() async throws {
        let stub = try ActivationStub(status: 400, body: #"{"error": {"code": "invalid_request", "message": "the activation token expired\u001b[2J"}}"#)
        defer { stub.stop() }
        let sandbox = try Sandbox()
        let path = sandbox.path("device.json")
        let result = try await sandbox.run(["device", "activate", Self.uri(stub.base), "--device-file", path])
        #expect(result.status == 1)
        #expect(result.standardError.contains("Error: the server refused the activation: the activation token expired\\u{1b}[2J"),
                "\(result.standardError)")
        #expect(!result.standardError.contains("\u{1b}"))
        #expect(!FileManager.default.fileExists(atPath: path))
    }

    @Test("watch stops at the end of standard input, warning that the server is gone; pending fails on it")
    func watchEndsWithInput() async throws {
        let stub = try ActivationStub(status: 201, body: #"{"device_id": "\#(Self.deviceID)"}"#)
        let sandbox = try Sandbox()
        let path = sandbox.path("device.json")
        let activated = try await sandbox.run(["device", "activate", "--uri-file", "-", "--device-file", path], input: Self.uri(stub.base))
        try #require(activated.status == 0, "\(activated.standardError)")
        stub.stop()

        let watch = try await sandbox.run(["device", "watch", "--interval", "0.1", "--device-file", path])
        #expect(watch.status == 0, "\(watch.standardError)")
        #expect(watch.standardOutput.isEmpty)
        #expect(watch.standardError.contains("Warning: cannot reach the Twofold server at \(stub.base)"), "\(watch.standardError)")

        let pending = try await sandbox.run(["device", "pending", "--device-file", path])
        #expect(pending.status == 1)
        #expect(pending.standardError.contains("Error: cannot reach the Twofold server at \(stub.base)"), "\(pending.standardError)")
    }

    @Test("a server that cannot be reached exits 1 naming it")
    func unreachable() async throws {
        let (descriptor, port) = try LoopbackSocket.bound()  // bound, not listening: connections are refused
        defer { close(descriptor) }
        let sandbox = try Sandbox()
        let base = "http://127.0.0.1:\(port)"
        let result = try await sandbox.run(["device", "activate", Self.uri(base), "--device-file", sandbox.path("device.json")])
        #expect(result.status == 1)
        #expect(result.standardError.contains("Error: cannot reach the Twofold server at \(base)"), "\(result.standardError)")
        #expect(sandbox.contents().isEmpty)
    }
}

/// Writes a file as a test's fixture.
private enum PrivateFileWriter {
    static func write(_ path: String, _ text: String) throws {
        try text.write(toFile: path, atomically: false, encoding: .utf8)
        chmod(path, 0o600)
    }
}

/// An HTTP/1.1 server on 127.0.0.1 that answers every request with one status and body, and
/// records what it received: the server's activation endpoint, as far as `activate` needs it.
private final class ActivationStub: @unchecked Sendable {
    struct Received {
        var head: String
        var body: [UInt8]
    }

    let base: String
    private let descriptor: Int32
    private let status: Int
    private let body: String
    private let lock = NSLock()
    private var received: [Received] = []

    init(status: Int, body: String) throws {
        let (descriptor, port) = try LoopbackSocket.bound()
        guard listen(descriptor, 16) == 0 else {
            close(descriptor)
            throw HarnessError("listen() failed")
        }
        self.descriptor = descriptor
        self.status = status
        self.body = body
        base = "http://127.0.0.1:\(port)"
        let thread = Thread { [self] in serve() }
        thread.start()
    }

    var requests: [Received] { lock.withLock { received } }

    /// Stops accepting: the accepting thread sees the socket shut and ends.
    func stop() {
        shutdown(descriptor, Int32(SHUT_RDWR))
        close(descriptor)
    }

    private func serve() {
        while true {
            let connection = accept(descriptor, nil, nil)
            if connection < 0 {
                if errno == EINTR { continue }
                return
            }
            handle(connection)
            close(connection)
        }
    }

    private func handle(_ connection: Int32) {
        var bytes: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 4096)
        let separator = Array("\r\n\r\n".utf8)
        var expected: Int?
        while expected.map({ bytes.count < $0 }) ?? true {
            let count = buffer.withUnsafeMutableBytes { recv(connection, $0.baseAddress, $0.count, 0) }
            guard count > 0 else { return }
            bytes += buffer[..<count]
            if expected == nil, let end = bytes.firstRange(of: separator) {
                let head = String(decoding: bytes[..<end.lowerBound], as: UTF8.self)
                let length = head.split(separator: "\r\n").compactMap { line -> Int? in
                    let parts = line.split(separator: ":", maxSplits: 1)
                    guard parts.count == 2, parts[0].lowercased() == "content-length" else { return nil }
                    return Int(parts[1].trimmingCharacters(in: .whitespaces))
                }.first ?? 0
                expected = end.upperBound + length
            }
        }
        let end = bytes.firstRange(of: separator)!
        let request = Received(head: String(decoding: bytes[..<end.upperBound], as: UTF8.self), body: Array(bytes[end.upperBound...]))
        lock.withLock { received.append(request) }
        let payload = Array(body.utf8)
        let response = Array("HTTP/1.1 \(status) Stub\r\nContent-Type: application/json\r\nContent-Length: \(payload.count)\r\nConnection: close\r\n\r\n".utf8) + payload
        var sent = 0
        while sent < response.count {
            let count = response[sent...].withUnsafeBytes { send(connection, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            guard count > 0 else { return }
            sent += count
        }
    }
}
