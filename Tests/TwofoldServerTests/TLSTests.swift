import Foundation
import Hummingbird
import HummingbirdTesting
import Logging
import Testing
import TwofoldCore
import TwofoldTesting
@testable import TwofoldServer
import TwofoldHTTP

@Suite("TLS")
struct TLSTests {
    static let openssl = ExternalTool.command("openssl", installHint: "apt-get install openssl")

    @Test("with a certificate and key configured, the server speaks HTTPS")
    func https() async throws {
        try Self.openssl.require()
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("twofold-tls-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let certificate = directory.appendingPathComponent("cert.pem").path
        let key = directory.appendingPathComponent("key.pem").path
        let made = try await ExternalProcess.run("openssl", [
            "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes", "-days", "1",
            "-subj", "/CN=localhost", "-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1",
            "-keyout", key, "-out", certificate,
        ])
        try #require(made.status == 0, "\(made.standardError)")

        let configuration = try TwofoldConfiguration.load(file: nil, environment: [
            "TWOFOLD_DATA_DIR": directory.path,
            "TWOFOLD_TLS_CERT": certificate,
            "TWOFOLD_TLS_KEY": key,
        ])
        var logger = Logger(label: "tls-test")
        logger.logLevel = .warning
        let runtime = try await TwofoldRuntime.open(configuration, logger: logger, creating: true)
        do {
            let application = try buildApplication(runtime: runtime, logger: logger)
            try await application.test(.ahc(.https)) { client in
                let response = try await client.execute(uri: "/healthz", method: .get)
                #expect(response.status == .ok)
                #expect(String(buffer: response.body) == #"{"status":"ok"}"#)
            }
        } catch {
            try? await runtime.close()
            throw error
        }
        try await runtime.close()
    }

    @Test("an unreadable certificate is a configuration error naming TWOFOLD_TLS_CERT")
    func badCertificate() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("twofold-tls-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: directory) }
        let configuration = try TwofoldConfiguration.load(file: nil, environment: [
            "TWOFOLD_DATA_DIR": directory.path,
            "TWOFOLD_TLS_CERT": "/nonexistent/cert.pem",
            "TWOFOLD_TLS_KEY": "/nonexistent/key.pem",
        ])
        let runtime = try await TwofoldRuntime.open(configuration, logger: Logger(label: "tls-test"), creating: true)
        let error = #expect(throws: TwofoldError.self) {
            _ = try buildApplication(runtime: runtime)
        }
        #expect(error?.message.contains("TWOFOLD_TLS_CERT") == true)
        try await runtime.close()
    }

    @Test("a key that is not the certificate's is refused before the server starts, naming TWOFOLD_TLS_KEY")
    func mismatchedKey() async throws {
        try Self.openssl.require()
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("twofold-tls-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        func pair(_ name: String) async throws -> (certificate: String, key: String) {
            let certificate = directory.appendingPathComponent("\(name).pem").path
            let key = directory.appendingPathComponent("\(name).key").path
            let made = try await ExternalProcess.run("openssl", [
                "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes", "-days", "1",
                "-subj", "/CN=localhost", "-keyout", key, "-out", certificate,
            ])
            try #require(made.status == 0, "\(made.standardError)")
            return (certificate, key)
        }
        let first = try await pair("first")
        let second = try await pair("second")
        var configuration = TwofoldConfiguration(dataDirectory: directory.appendingPathComponent("data").path)
        configuration.listen = .init(host: "127.0.0.1", port: 1)
        configuration.tls = .init(certificateChain: first.certificate, privateKey: second.key)
        let error = #expect(throws: TwofoldError.self) { _ = try TLSSetup.serverConfiguration(configuration.tls!) }
        #expect(error?.code == .configuration)
        #expect(error?.message.contains("TWOFOLD_TLS_KEY=\(second.key) is not the private key of the certificate") == true)
        configuration.tls = .init(certificateChain: first.certificate, privateKey: first.key)
        _ = try TLSSetup.serverConfiguration(configuration.tls!)

        configuration.tls = .init(certificateChain: first.key, privateKey: first.key)
        let notCertificate = #expect(throws: TwofoldError.self) { _ = try TLSSetup.serverConfiguration(configuration.tls!) }
        #expect(notCertificate?.message.contains("TWOFOLD_TLS_CERT=\(first.key)") == true)
    }
}
