import Foundation
#if canImport(Glibc)
import Glibc
private let systemSend = Glibc.send
private let noSignal = Int32(MSG_NOSIGNAL)
#elseif canImport(Darwin)
import Darwin
private let systemSend = Darwin.send
private let noSignal: Int32 = 0
#endif

/// A TCP connection to 127.0.0.1, for a test that must know its request was sent before
/// something else happens (curl gives no such moment). Its waits look without blocking and
/// sleep as a task between looks, so that no thread of the shared pool is held.
final class RawHTTPConnection {
    private let descriptor: Int32

    /// - Throws: When nothing accepts connections on `port`.
    init(port: Int) throws {
        descriptor = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard descriptor >= 0 else { throw HarnessError("socket() failed") }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(descriptor, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard connected == 0 else {
            close(descriptor)
            throw HarnessError("cannot connect to 127.0.0.1:\(port): errno \(errno)")
        }
    }

    deinit {
        close(descriptor)
    }

    func send(_ text: String) throws {
        let bytes = Array(text.utf8)
        let sent = bytes.withUnsafeBytes { systemSend(descriptor, $0.baseAddress, $0.count, noSignal) }
        guard sent == bytes.count else { throw HarnessError("send() failed: errno \(errno)") }
    }

    /// Whether anything (bytes, or the end of the stream) arrives within `timeout` seconds,
    /// without reading it.
    func isReadable(within timeout: Double) async -> Bool {
        let deadline = ContinuousClock.now + .milliseconds(Int(timeout * 1000))
        while true {
            if readableNow() { return true }
            guard ContinuousClock.now < deadline, (try? await Task.sleep(for: .milliseconds(10))) != nil else { return false }
        }
    }

    /// Everything received until the server closed the connection, or `nil` when it did not
    /// close it within `timeout` seconds. A reset ends the answer where it came.
    func readUntilClosed(timeout: Double) async -> String? {
        let deadline = ContinuousClock.now + .milliseconds(Int(timeout * 1000))
        var received: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 65_536)
        while true {
            if readableNow() {
                let count = recv(descriptor, &buffer, buffer.count, 0)
                if count <= 0 { return String(decoding: received, as: UTF8.self) }
                received += buffer[..<count]
                continue
            }
            guard ContinuousClock.now < deadline, (try? await Task.sleep(for: .milliseconds(10))) != nil else { return nil }
        }
    }

    /// Whether a read would not block now.
    private func readableNow() -> Bool {
        var poller = pollfd(fd: descriptor, events: Int16(POLLIN), revents: 0)
        return poll(&poller, 1, 0) == 1
    }
}
