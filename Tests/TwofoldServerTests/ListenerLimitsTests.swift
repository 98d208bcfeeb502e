#if canImport(Glibc)
import Glibc
private let systemClose = Glibc.close
private let systemSend = Glibc.send
private let streamSocket = Int32(SOCK_STREAM.rawValue)
private let noSignal = Int32(MSG_NOSIGNAL)
#elseif canImport(Darwin)
import Darwin
private let systemClose = Darwin.close
private let systemSend = Darwin.send
private let streamSocket = SOCK_STREAM
private let noSignal: Int32 = 0
#endif
import Foundation
import Hummingbird
import ServiceLifecycle
import Logging
import Testing
import TwofoldCore
@testable import TwofoldServer

/// The listener's idle timeout and connection cap, against raw TCP clients that misbehave. One at
/// a time: each picks a free port before its server binds it, and two at once could pick the same.
@Suite("Listener limits: slow and idle clients", .serialized, .timeLimit(.minutes(2)))
struct ListenerLimitsTests {
    /// Runs `body` with the port of a server configured with `values` (TWOFOLD_* settings),
    /// started as `serve` starts it (the configured listener, not a test harness's).
    static func withServer(_ values: [String: String], _ body: @escaping @Sendable (Int) async throws -> Void) async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("twofold-listener-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: directory) }
        let port = try RawClient.freePort()
        var environment = values
        environment["TWOFOLD_DATA_DIR"] = directory.path
        environment["TWOFOLD_LISTEN"] = "127.0.0.1:\(port)"
        let configuration = try TwofoldConfiguration.load(file: nil, environment: environment)
        var logger = Logger(label: "test")
        logger.logLevel = .critical
        let runtime = try await TwofoldRuntime.open(configuration, logger: logger, creating: true)
        let application = try buildApplication(runtime: runtime, logger: logger)
        // Bounded, like `serve`'s: a connection left waiting in the backlog past the cap must not
        // hold the test's shutdown.
        var groupConfiguration = ServiceGroupConfiguration(services: [application], logger: logger)
        groupConfiguration.maximumGracefulShutdownDuration = .seconds(10)
        let group = ServiceGroup(configuration: groupConfiguration)
        try await withThrowingTaskGroup(of: Void.self) { tasks in
            tasks.addTask { try await group.run() }
            defer { tasks.cancelAll() }
            // Ready when it accepts a connection.
            let deadline = ContinuousClock.now + .seconds(10)
            while (try? RawClient(port: port))?.close() == nil {
                guard ContinuousClock.now < deadline else { throw TwofoldError(.unavailable, "the server did not start") }
                try await Task.sleep(for: .milliseconds(50))
            }
            do {
                try await body(port)
            } catch {
                await group.triggerGracefulShutdown()
                throw error
            }
            await group.triggerGracefulShutdown()
            try await tasks.next()
        }
        try await runtime.close()
    }

    @Test("a request head that never ends is cut off after the idle timeout")
    func slowHeadIsClosed() async throws {
        try await Self.withServer(["TWOFOLD_HTTP_IDLE_TIMEOUT": "1s"]) { port in
            let socket = try RawClient(port: port)
            defer { socket.close() }
            try socket.send("GET /healthz HTTP/1.1\r\nHost: twofold\r\n")
            let started = ContinuousClock.now
            // Keep dribbling header bytes, as a slowloris client does: the head still has to end in time.
            for index in 0..<3 {
                try await Task.sleep(for: .milliseconds(300))
                _ = try? socket.send("X-Slow-\(index): 1\r\n")
            }
            // Without the timeout the connection stays open for good; a loaded machine may close it late.
            #expect(await socket.readUntilClosed(timeout: 20) != nil, "the server kept the connection open")
            #expect(ContinuousClock.now - started < .seconds(21))
        }
    }

    @Test("a keep-alive connection left idle is closed after the idle timeout, a request in flight is not")
    func idleConnectionIsClosed() async throws {
        try await Self.withServer(["TWOFOLD_HTTP_IDLE_TIMEOUT": "1s"]) { port in
            let socket = try RawClient(port: port)
            defer { socket.close() }
            try socket.send("GET /healthz HTTP/1.1\r\nHost: twofold\r\n\r\n")
            // Closed a second after the answer; the bound is loose, as the whole suite runs at once.
            let answer = try #require(await socket.readUntilClosed(timeout: 20))
            #expect(answer.hasPrefix("HTTP/1.1 200"))
            #expect(answer.contains(#"{"status":"ok"}"#))
        }
    }

    @Test("past the connection cap a new client waits until another leaves")
    func connectionCap() async throws {
        try await Self.withServer(["TWOFOLD_MAX_CONNECTIONS": "16", "TWOFOLD_HTTP_IDLE_TIMEOUT": "10m"]) { port in
            // Sixteen keep-alive connections, each with a request answered: all accepted and open
            // (the first answer may be slow on a new server, and must not pass for a wait).
            var held: [RawClient] = []
            defer { held.forEach { $0.close() } }
            for _ in 0..<16 {
                let client = try RawClient(port: port)
                held.append(client)
                try client.send("GET /healthz HTTP/1.1\r\nHost: twofold\r\n\r\n")
                #expect(await client.read(timeout: 10)?.hasPrefix("HTTP/1.1 200") == true)
            }
            try await Task.sleep(for: .milliseconds(200))
            let waiting = try RawClient(port: port)
            defer { waiting.close() }
            try waiting.send("GET /healthz HTTP/1.1\r\nHost: twofold\r\nConnection: close\r\n\r\n")
            #expect(await waiting.read(timeout: 1.5) == nil, "a 17th connection was served")
            held.removeFirst().close()
            let answer = try #require(await waiting.readUntilClosed(timeout: 20))
            #expect(answer.hasPrefix("HTTP/1.1 200"))
        }
    }
}

/// A blocking TCP client on loopback, for tests that need to misbehave below HTTP.
final class RawClient: @unchecked Sendable {
    private let descriptor: Int32

    init(port: Int) throws {
        descriptor = socket(AF_INET, streamSocket, 0)
        guard descriptor >= 0 else { throw TwofoldError(.unavailable, "socket() failed") }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(descriptor, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard connected == 0 else {
            _ = systemClose(descriptor)
            throw TwofoldError(.unavailable, "connect() failed")
        }
    }

    /// A port nothing listens on now (the system's choice, released at once).
    static func freePort() throws -> Int {
        let probe = socket(AF_INET, streamSocket, 0)
        defer { _ = systemClose(probe) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = 0
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &address) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { socketAddress in
                bind(probe, socketAddress, length) == 0 && getsockname(probe, socketAddress, &length) == 0
            }
        }
        guard bound else { throw TwofoldError(.unavailable, "no free port") }
        return Int(UInt16(bigEndian: address.sin_port))
    }

    func send(_ text: String) throws {
        let bytes = Array(text.utf8)
        let sent = bytes.withUnsafeBytes { systemSend(descriptor, $0.baseAddress, $0.count, noSignal) }
        guard sent == bytes.count else { throw TwofoldError(.unavailable, "send() failed") }
    }

    // The reads look without blocking and sleep as a task between looks: a test that blocked
    // here would hold one of the few threads every concurrent test's tasks run on.

    /// What arrives within `timeout` seconds, `nil` when nothing does.
    func read(timeout: Double) async -> String? {
        guard await readable(until: ContinuousClock.now + .milliseconds(Int(timeout * 1000))) else { return nil }
        var buffer = [UInt8](repeating: 0, count: 65_536)
        let count = recv(descriptor, &buffer, buffer.count, 0)
        return count > 0 ? String(decoding: buffer[..<count], as: UTF8.self) : nil
    }

    /// Everything until the server closes, or `nil` when it has not closed within `timeout` seconds.
    func readUntilClosed(timeout: Double) async -> String? {
        let deadline = ContinuousClock.now + .milliseconds(Int(timeout * 1000))
        var received = ""
        var buffer = [UInt8](repeating: 0, count: 65_536)
        while await readable(until: deadline) {
            let count = recv(descriptor, &buffer, buffer.count, 0)
            if count <= 0 { return received }
            received += String(decoding: buffer[..<count], as: UTF8.self)
        }
        return nil
    }

    /// Whether a read would not block, looking every 10 ms until `deadline`.
    private func readable(until deadline: ContinuousClock.Instant) async -> Bool {
        while true {
            var poller = pollfd(fd: descriptor, events: Int16(POLLIN), revents: 0)
            if poll(&poller, 1, 0) == 1 { return true }
            guard ContinuousClock.now < deadline, (try? await Task.sleep(for: .milliseconds(10))) != nil else { return false }
        }
    }

    func close() {
        _ = systemClose(descriptor)
    }
}
