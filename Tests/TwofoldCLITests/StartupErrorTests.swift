import Foundation
import Testing
import TwofoldTesting

/// What an operator meets when a start goes wrong: through the real binary, in a fresh folder
/// and environment, each refusal exits 2, names the setting to fix, and creates nothing.
@Suite("start-up errors name the setting to fix")
struct StartupErrorTests {
    static let openssl = ExternalTool.command("openssl", installHint: "apt-get install openssl")

    func freeListen() throws -> [String: String] {
        ["TWOFOLD_LISTEN": "127.0.0.1:\(try AdminHarness.freePort())"]
    }

    // MARK: - No store, no key: admin commands create neither

    @Test("an admin command with no configuration and no store exits 2 naming TWOFOLD_CONFIG, TWOFOLD_STORE and where it looked, creating nothing")
    func noStoreNoConfiguration() async throws {
        let sandbox = try Sandbox()
        for arguments in [["apps", "list"], ["users", "list"], ["apikey", "list"], ["keys", "status"], ["audit", "verify"]] {
            let result = try await sandbox.run(arguments)
            #expect(result.status == 2, "\(arguments)")
            #expect(result.standardError.contains("TWOFOLD_CONFIG"), "\(arguments)")
            #expect(result.standardError.contains("TWOFOLD_STORE"), "\(arguments)")
            #expect(result.standardError.contains(sandbox.path("data/twofold.sqlite")), "\(arguments): \(result.standardError)")
            #expect(!result.standardError.contains("Usage:"), "\(arguments)")
        }
        #expect(sandbox.contents().isEmpty)
    }

    @Test("the message says which setting named the missing store: the environment or the configuration file")
    func missingStoreOrigin() async throws {
        let sandbox = try Sandbox()
        let store = sandbox.path("elsewhere/twofold.sqlite")
        let fromEnvironment = try await sandbox.run(["apps", "list"], environment: ["TWOFOLD_STORE": "sqlite:" + store])
        #expect(fromEnvironment.status == 2)
        #expect(fromEnvironment.standardError.contains("\(store), as TWOFOLD_STORE in the environment says"))
        let file = sandbox.path("twofold.env")
        try "TWOFOLD_STORE=sqlite:\(store)\n".write(toFile: file, atomically: false, encoding: .utf8)
        let fromFile = try await sandbox.run(["apps", "list", "--config", file])
        #expect(fromFile.status == 2)
        #expect(fromFile.standardError.contains("as TWOFOLD_STORE in \(file) says"))
        #expect(sandbox.contents() == ["twofold.env"])
    }

    @Test("in development an admin command never generates a key: a store without its key file exits 2")
    func adminCommandNeedsTheKey() async throws {
        let sandbox = try Sandbox()
        try await sandbox.createStoreByServing()
        try FileManager.default.removeItem(atPath: sandbox.path("data/master.key"))
        let result = try await sandbox.run(["apps", "list"])
        #expect(result.status == 2)
        #expect(result.standardError.contains("TWOFOLD_MASTER_KEY_FILE"))
        #expect(result.standardError.contains("data/master.key"))
        #expect(!FileManager.default.fileExists(atPath: sandbox.path("data/master.key")))
    }

    @Test("serve in development refuses an existing store whose master key file is missing, before generating one")
    func serveRefusesAStoreWithoutItsKey() async throws {
        let sandbox = try Sandbox()
        try await sandbox.createStoreByServing()
        try FileManager.default.removeItem(atPath: sandbox.path("data/master.key"))
        let result = try await sandbox.run(["serve"], environment: try freeListen())
        #expect(result.status == 2)
        #expect(result.standardError.contains("data/master.key"))
        #expect(result.standardError.contains("refusing to generate a new key"))
        #expect(result.standardError.contains("TWOFOLD_MASTER_KEY_FILE"))
        #expect(!FileManager.default.fileExists(atPath: sandbox.path("data/master.key")))
    }

    @Test("serve still creates the store and the development key in a fresh folder")
    func serveCreates() async throws {
        let sandbox = try Sandbox()
        try await sandbox.createStoreByServing()
        #expect(Set(sandbox.contents()).isSuperset(of: ["data", "data/master.key", "data/twofold.sqlite", "data/initial-api-key"]))
        // …and the admin commands then use them.
        let listed = try await sandbox.run(["apps", "list"])
        #expect(listed.status == 0)
        #expect(listed.standardOutput.contains("default"))
    }

    // MARK: - The listen address, checked before anything is created

    @Test("a port in use exits 2 naming TWOFOLD_LISTEN, before anything is created")
    func portInUse() async throws {
        let sandbox = try Sandbox()
        let listener = try Listener()
        let result = try await sandbox.run(["serve"], environment: ["TWOFOLD_LISTEN": "127.0.0.1:\(listener.port)"])
        #expect(result.status == 2)
        #expect(result.standardError.contains("TWOFOLD_LISTEN=127.0.0.1:\(listener.port)"))
        #expect(result.standardError.contains("already in use"))
        #expect(sandbox.contents().isEmpty)
    }

    @Test("an unresolvable listen host exits 2 naming TWOFOLD_LISTEN, before anything is created")
    func unresolvableHost() async throws {
        let sandbox = try Sandbox()
        let result = try await sandbox.run(["serve"], environment: ["TWOFOLD_LISTEN": "no-such-host.invalid:8080"])
        #expect(result.status == 2)
        #expect(result.standardError.contains("TWOFOLD_LISTEN=no-such-host.invalid:8080"))
        #expect(result.standardError.contains("does not resolve"))
        #expect(!result.standardError.contains("SocketAddressError"))
        #expect(sandbox.contents().isEmpty)
    }

    // MARK: - Files

    @Test("an unusable TWOFOLD_DATA_DIR exits 2 naming it", arguments: ["a-file", "a-file/below"])
    func unusableDataDirectory(dataDirectory: String) async throws {
        let sandbox = try Sandbox()
        try "not a folder".write(toFile: sandbox.path("a-file"), atomically: false, encoding: .utf8)
        var environment = try freeListen()
        environment["TWOFOLD_DATA_DIR"] = dataDirectory
        let result = try await sandbox.run(["serve"], environment: environment)
        #expect(result.status == 2)
        #expect(result.standardError.contains("TWOFOLD_DATA_DIR=\(dataDirectory)"), "\(result.standardError)")
        #expect(sandbox.contents() == ["a-file"])
    }

    @Test("a TLS key that is not the certificate's exits 2 naming TWOFOLD_TLS_KEY; an unreadable certificate names TWOFOLD_TLS_CERT")
    func tlsFiles() async throws {
        try Self.openssl.require()
        let sandbox = try Sandbox()
        for name in ["a", "b"] {
            let made = try await ExternalProcess.run("openssl", [
                "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes", "-days", "1",
                "-subj", "/CN=localhost", "-keyout", sandbox.path("\(name).key"), "-out", sandbox.path("\(name).pem"),
            ])
            try #require(made.status == 0, "\(made.standardError)")
        }
        var environment = try freeListen()
        environment["TWOFOLD_TLS_CERT"] = sandbox.path("a.pem")
        environment["TWOFOLD_TLS_KEY"] = sandbox.path("b.key")
        let mismatched = try await sandbox.run(["serve"], environment: environment)
        #expect(mismatched.status == 2)
        #expect(mismatched.standardError.contains("TWOFOLD_TLS_KEY=\(sandbox.path("b.key")) is not the private key of the certificate"))

        environment["TWOFOLD_TLS_CERT"] = sandbox.path("missing.pem")
        let missing = try await sandbox.run(["serve"], environment: environment)
        #expect(missing.status == 2)
        #expect(missing.standardError.contains("TWOFOLD_TLS_CERT=\(sandbox.path("missing.pem")): cannot read the certificate chain"))

        environment["TWOFOLD_TLS_CERT"] = sandbox.path("b.key")
        let notACertificate = try await sandbox.run(["serve"], environment: environment)
        #expect(notACertificate.status == 2)
        #expect(notACertificate.standardError.contains("TWOFOLD_TLS_CERT=\(sandbox.path("b.key"))"))
        #expect(!sandbox.contents().contains("data"))
    }

    @Test("a master key file readable by others is refused in production and warned about in development")
    func masterKeyReadableByOthers() async throws {
        let sandbox = try Sandbox()
        let key = sandbox.path("master.key")
        #expect(try await sandbox.run(["keys", "generate", key]).status == 0)
        try await sandbox.createStoreByServing(["TWOFOLD_MASTER_KEY_FILE": key])
        try FileManager.default.setAttributes([.posixPermissions: 0o644], ofItemAtPath: key)

        let production = ["TWOFOLD_ENV": "production", "TWOFOLD_MASTER_KEY_FILE": key]
        let refused = try await sandbox.run(["apps", "list"], environment: production)
        #expect(refused.status == 2)
        #expect(refused.standardError.contains("TWOFOLD_MASTER_KEY_FILE"))
        #expect(refused.standardError.contains("readable by other users (mode 0644)"))
        #expect(refused.standardError.contains("chmod 600 \(key)"))
        let served = try await sandbox.run(["serve"], environment: production.merging(try freeListen()) { $1 })
        #expect(served.status == 2)
        #expect(served.standardError.contains("readable by other users"))

        let warned = try await sandbox.run(["apps", "list"], environment: ["TWOFOLD_MASTER_KEY_FILE": key])
        #expect(warned.status == 0)
        #expect(warned.standardOutput.contains("default"))
        #expect(warned.errorLines.filter { $0.contains("readable by other users") }.count == 1)

        // Group permissions are left alone (systemd's credentials are 0440 under an ACL).
        try FileManager.default.setAttributes([.posixPermissions: 0o640], ofItemAtPath: key)
        let group = try await sandbox.run(["apps", "list"], environment: production)
        #expect(group.status == 0)
        #expect(group.standardError.isEmpty)
    }

    // MARK: - The environment

    @Test("an unknown TWOFOLD_* variable is warned about with the nearest setting's name")
    func unknownVariable() async throws {
        let sandbox = try Sandbox()
        try await sandbox.createStoreByServing()
        let result = try await sandbox.run(["apps", "list"], environment: ["TWOFOLD_LISTNE": "127.0.0.1:9090", "TWOFOLD_SOMETHING_ELSE": "x"])
        #expect(result.status == 0)
        #expect(result.standardError.contains("TWOFOLD_LISTNE is not a Twofold setting and is ignored: did you mean TWOFOLD_LISTEN?"))
        #expect(result.standardError.contains("TWOFOLD_SOMETHING_ELSE is not a Twofold setting"))
        // Before the server refuses to start, too.
        let served = try await sandbox.run(["serve"], environment: ["TWOFOLD_LISTEN": "no-such-host.invalid:1", "TWOFOLD_LOG_LEVLE": "debug"])
        #expect(served.status == 2)
        #expect(served.standardError.contains("did you mean TWOFOLD_LOG_LEVEL?"))
    }

    @Test("an invalid setting exits 2 naming it, without the command's usage")
    func invalidSetting() async throws {
        let sandbox = try Sandbox()
        for arguments in [["apps", "list"], ["serve"]] {
            let result = try await sandbox.run(arguments, environment: ["TWOFOLD_LISTEN": "localhost"])
            #expect(result.status == 2, "\(arguments)")
            #expect(result.standardError.contains("TWOFOLD_LISTEN=\"localhost\" is invalid"), "\(arguments)")
            #expect(!result.standardError.contains("Usage:"), "\(arguments)")
        }
        #expect(sandbox.contents().isEmpty)
    }
}

/// A TCP socket listening on 127.0.0.1, to hold a port.
final class Listener {
    let descriptor: Int32
    let port: Int

    init() throws {
        let (descriptor, port) = try LoopbackSocket.bound()
        guard listen(descriptor, 1) == 0 else {
            close(descriptor)
            throw HarnessError("cannot listen on 127.0.0.1")
        }
        self.descriptor = descriptor
        self.port = port
    }

    deinit {
        close(descriptor)
    }
}
