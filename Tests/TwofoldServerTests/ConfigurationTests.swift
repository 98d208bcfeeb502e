import Foundation
import Logging
import Testing
import TwofoldCore
import TwofoldSQLite
import TwofoldTesting
@testable import TwofoldServer
import TwofoldHTTP

@Suite("Configuration from a file and the environment")
final class ConfigurationTests {
    /// Where this test's configuration files go; removed when the test ends.
    let directory = FileManager.default.temporaryDirectory.appendingPathComponent("twofold-config-\(UUID().uuidString)")

    deinit {
        try? FileManager.default.removeItem(at: directory)
    }

    /// Writes `text` to a file of this test and returns its path.
    func file(_ text: String) throws -> String {
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let url = directory.appendingPathComponent("\(UUID().uuidString).env")
        try text.write(to: url, atomically: false, encoding: .utf8)
        return url.path
    }

    @Test("with nothing configured: SQLite in ./data, development, 127.0.0.1:8080, the default verification policy")
    func defaults() throws {
        let configuration = try TwofoldConfiguration.load(file: nil, environment: [:])
        #expect(configuration.listen == .init(host: "127.0.0.1", port: 8080))
        #expect(configuration.store == .sqlite(path: "./data/twofold.sqlite"))
        #expect(configuration.masterKeyFiles.isEmpty)
        #expect(configuration.developmentMasterKeyFile == "./data/master.key")
        #expect(configuration.initialAPIKeyFile == "./data/initial-api-key")
        #expect(configuration.tls == nil)
        #expect(configuration.logLevel == .info)
        #expect(configuration.logFormat == .text)
        #expect(configuration.deployment == .development)
        #expect(configuration.sqliteDurability == .full)
        #expect(configuration.postgresPoolSize == 8)
        #expect(configuration.policy == VerificationPolicy())
    }

    @Test("every setting is read from the file, comments and blank lines skipped")
    func everySetting() throws {
        let path = try file("""
            # Twofold
            TWOFOLD_LISTEN=0.0.0.0:9443

            TWOFOLD_STORE=postgres://twofold:secret@db.example:5433/twofold
            TWOFOLD_MASTER_KEY_FILE=/etc/twofold/new.key, /etc/twofold/old.key
            TWOFOLD_TLS_CERT=/etc/twofold/cert.pem
            TWOFOLD_TLS_KEY = /etc/twofold/key.pem
            TWOFOLD_LOG_LEVEL=debug
            TWOFOLD_LOG_FORMAT=json
            TWOFOLD_ENV=production
            TWOFOLD_DATA_DIR=/var/lib/twofold
            TWOFOLD_SQLITE_SYNCHRONOUS=normal
            TWOFOLD_POSTGRES_POOL_SIZE=3
            TWOFOLD_TOTP_WINDOW=2
            TWOFOLD_HOTP_LOOK_AHEAD=20
            TWOFOLD_HOTP_RESYNC_WINDOW=200
            TWOFOLD_PENDING_LIFETIME=15m
            TWOFOLD_LOCKOUT_FREE_FAILURES=3
            TWOFOLD_LOCKOUT_BASE_DELAY=1m
            TWOFOLD_LOCKOUT_MAX_DELAY=12h
            TWOFOLD_ISSUER="Acme Corp"
            """)
        let configuration = try TwofoldConfiguration.load(file: path, environment: [:])
        #expect(configuration.listen == .init(host: "0.0.0.0", port: 9443))
        #expect(configuration.store == .postgres(url: "postgres://twofold:secret@db.example:5433/twofold"))
        #expect("\(configuration.store)".contains("secret") == false)
        #expect(configuration.masterKeyFiles == ["/etc/twofold/new.key", "/etc/twofold/old.key"])
        #expect(configuration.tls == .init(certificateChain: "/etc/twofold/cert.pem", privateKey: "/etc/twofold/key.pem"))
        #expect(configuration.logLevel == .debug)
        #expect(configuration.logFormat == .json)
        #expect(configuration.deployment == .production)
        #expect(configuration.dataDirectory == "/var/lib/twofold")
        #expect(configuration.sqliteDurability == .normal)
        #expect(configuration.postgresPoolSize == 3)
        #expect(configuration.policy.totpWindow == 2)
        #expect(configuration.policy.hotpLookAhead == 20)
        #expect(configuration.policy.hotpResyncWindow == 200)
        #expect(configuration.policy.pendingLifetime == 900)
        #expect(configuration.policy.throttle == ThrottlePolicy(freeFailures: 3, baseDelay: 60, maximumDelay: 43_200))
        #expect(configuration.policy.defaultIssuer == "Acme Corp")
    }

    @Test("the environment wins over the file; TWOFOLD_CONFIG names the file")
    func environmentWins() throws {
        let path = try file("TWOFOLD_LISTEN=127.0.0.1:7000\nTWOFOLD_LOG_LEVEL=debug\n")
        let configuration = try TwofoldConfiguration.load(file: nil, environment: [
            "TWOFOLD_CONFIG": path,
            "TWOFOLD_LISTEN": "127.0.0.1:7001",
            "TWOFOLD_UNRELATED_TOOL_SETTING": "ignored in the environment",
        ])
        #expect(configuration.listen.port == 7001)
        #expect(configuration.logLevel == .debug)
    }

    @Test("the data folder moves the default store and keys")
    func dataDirectory() throws {
        let configuration = try TwofoldConfiguration.load(file: nil, environment: ["TWOFOLD_DATA_DIR": "/srv/twofold/"])
        #expect(configuration.store == .sqlite(path: "/srv/twofold/twofold.sqlite"))
        #expect(configuration.developmentMasterKeyFile == "/srv/twofold/master.key")
    }

    @Test("IPv6 listen addresses")
    func ipv6() throws {
        let configuration = try TwofoldConfiguration.load(file: nil, environment: ["TWOFOLD_LISTEN": "[::1]:8443"])
        #expect(configuration.listen == .init(host: "::1", port: 8443))
        #expect(configuration.listen.description == "[::1]:8443")
    }

    /// Found by the configuration fuzzer (Tests/Fuzz): a listen host no URL can hold was
    /// accepted, and the challenge policy then trapped making the callback URL from it.
    @Test("a listen host that cannot be written in a URL is refused when read, and nothing traps", arguments: [
        "0.0.0\u{FFFD}0:9000", "exa^mple:8080", "twofold/api:8080", "twofold?:8080",
    ])
    func listenHostOutsideURLs(listen: String) throws {
        let error = try #require(throws: TwofoldError.self) {
            try TwofoldConfiguration.load(file: nil, environment: ["TWOFOLD_LISTEN": listen])
        }
        #expect(error.code == .configuration)
        #expect(error.message.contains("TWOFOLD_LISTEN"), "\(error.message)")
    }

    @Test("the fuzzer's input: an empty file and a listen address with a byte that is not UTF-8")
    func fuzzedListenAddress() throws {
        let path = try file("")
        let environment = [
            "TWOFOLD_LISTEN": "0.0.0\u{FFFD}0:9000", "TWOF_HOTP_RESOW": String(repeating: "\0", count: 36) + "200",
            "TWOFOLD_PENDING_LIFETIM1": "15m", "TWOFOLD_AUDIT_MIN_RETENTIONETENTION": "7d",
        ]
        #expect(throws: TwofoldError.self) { try TwofoldConfiguration.load(file: path, environment: environment) }
        // Addresses a URL holds still load, and make the callback base.
        for (listen, url) in [("[::]:9000", "http://127.0.0.1:9000"), ("[fe80::1%eth0]:8080", "http://[fe80::1%25eth0]:8080")] {
            let configuration = try TwofoldConfiguration.load(file: path, environment: ["TWOFOLD_LISTEN": listen])
            #expect(configuration.challengePolicy.publicURL.absoluteString == url)
        }
    }

    /// Each bad value, and a word its message must contain (the variable, or the file's line).
    static let badValues: [(variable: String, value: String, mentions: String)] = [
        ("TWOFOLD_LISTEN", "8080", "TWOFOLD_LISTEN"),
        ("TWOFOLD_LISTEN", "localhost:0", "TWOFOLD_LISTEN"),
        ("TWOFOLD_LISTEN", "localhost:70000", "host:port"),
        ("TWOFOLD_LISTEN", ":8080", "TWOFOLD_LISTEN"),
        ("TWOFOLD_STORE", "mysql://db/twofold", "sqlite:PATH or postgres://"),
        ("TWOFOLD_STORE", "sqlite:", "TWOFOLD_STORE"),
        ("TWOFOLD_STORE", "postgres://:pw@/", "TWOFOLD_STORE"),
        ("TWOFOLD_MASTER_KEY_FILE", " , ", "TWOFOLD_MASTER_KEY_FILE"),
        ("TWOFOLD_TLS_CERT", "/cert.pem", "TWOFOLD_TLS_KEY"),
        ("TWOFOLD_TLS_KEY", "/key.pem", "TWOFOLD_TLS_CERT"),
        ("TWOFOLD_LOG_LEVEL", "loud", "TWOFOLD_LOG_LEVEL"),
        ("TWOFOLD_LOG_FORMAT", "xml", "text or json"),
        ("TWOFOLD_ENV", "staging", "development or production"),
        ("TWOFOLD_SQLITE_SYNCHRONOUS", "off", "full or normal"),
        ("TWOFOLD_POSTGRES_POOL_SIZE", "1", "from 2 to 100"),
        ("TWOFOLD_POSTGRES_POOL_SIZE", "many", "TWOFOLD_POSTGRES_POOL_SIZE"),
        ("TWOFOLD_TOTP_WINDOW", "11", "TWOFOLD_TOTP_WINDOW"),
        ("TWOFOLD_TOTP_WINDOW", "one", "whole number"),
        ("TWOFOLD_HOTP_LOOK_AHEAD", "101", "TWOFOLD_HOTP_LOOK_AHEAD"),
        ("TWOFOLD_HOTP_RESYNC_WINDOW", "5", "look-ahead"),
        ("TWOFOLD_PENDING_LIFETIME", "10", "TWOFOLD_PENDING_LIFETIME"),
        ("TWOFOLD_PENDING_LIFETIME", "2d", "out of range"),
        ("TWOFOLD_LOCKOUT_FREE_FAILURES", "-1", "TWOFOLD_LOCKOUT_FREE_FAILURES"),
        ("TWOFOLD_LOCKOUT_BASE_DELAY", "soon", "TWOFOLD_LOCKOUT_BASE_DELAY"),
        ("TWOFOLD_LOCKOUT_MAX_DELAY", "10s", "TWOFOLD_LOCKOUT_BASE_DELAY"),
        ("TWOFOLD_LOCKOUT_MAX_DELAY", "31d", "TWOFOLD_LOCKOUT_MAX_DELAY"),
        ("TWOFOLD_ISSUER", "Acme:Corp", "TWOFOLD_ISSUER"),
    ]

    @Test("every bad value is a configuration error naming the variable and the expected form",
          arguments: badValues.indices)
    func badValue(index: Int) throws {
        let (variable, value, mentions) = Self.badValues[index]
        let error = try #require(throws: TwofoldError.self) {
            try TwofoldConfiguration.load(file: nil, environment: [variable: value])
        }
        #expect(error.code == .configuration)
        #expect(error.message.contains(mentions), "\(error.message)")
        #expect(!error.message.contains("pw@"))
    }

    @Test("production refuses to start without a master key file")
    func productionNeedsKey() throws {
        let error = try #require(throws: TwofoldError.self) {
            try TwofoldConfiguration.load(file: nil, environment: ["TWOFOLD_ENV": "production"])
        }
        #expect(error.code == .configuration)
        #expect(error.message.contains("TWOFOLD_MASTER_KEY_FILE"))
        #expect(throws: Never.self) {
            try TwofoldConfiguration.load(file: nil, environment: ["TWOFOLD_ENV": "production", "TWOFOLD_MASTER_KEY_FILE": "/k"])
        }
    }

    @Test("a PostgreSQL URL's password never appears in a message")
    func passwordNotRepeated() throws {
        let error = try #require(throws: TwofoldError.self) {
            try TwofoldConfiguration.load(file: nil, environment: ["TWOFOLD_STORE": "postgres://u:hunter2@h:99999/db"])
        }
        #expect(!error.message.contains("hunter2"))
        let other = try #require(throws: TwofoldError.self) {
            try TwofoldConfiguration.load(file: nil, environment: ["TWOFOLD_STORE": "mongodb://u:hunter2@h/db"])
        }
        #expect(!other.message.contains("hunter2"))
    }

    @Test("file errors: an unknown setting (a typo), a line without =, a setting given twice, a missing file")
    func fileErrors() throws {
        let typo = try file("TWOFOLD_LISTEN=127.0.0.1:8080\nTWOFOLD_LISTNE=127.0.0.1:9090\n")
        let unknown = try #require(throws: TwofoldError.self) { try TwofoldConfiguration.load(file: typo, environment: [:]) }
        #expect(unknown.message.contains(":2:"))
        #expect(unknown.message.contains("TWOFOLD_LISTNE"))

        let noEquals = try file("# ok\nTWOFOLD_LISTEN\n")
        let malformed = try #require(throws: TwofoldError.self) { try TwofoldConfiguration.load(file: noEquals, environment: [:]) }
        #expect(malformed.message.contains(":2:"))
        #expect(malformed.message.contains("KEY=value"))

        let twice = try file("TWOFOLD_ENV=development\nTWOFOLD_ENV=production\n")
        let duplicate = try #require(throws: TwofoldError.self) { try TwofoldConfiguration.load(file: twice, environment: [:]) }
        #expect(duplicate.message.contains("line 1"))

        let itself = try file("TWOFOLD_CONFIG=/elsewhere\n")
        let nested = try #require(throws: TwofoldError.self) { try TwofoldConfiguration.load(file: itself, environment: [:]) }
        #expect(nested.message.contains("TWOFOLD_CONFIG"))

        let missing = try #require(throws: TwofoldError.self) {
            try TwofoldConfiguration.load(file: "/nonexistent/twofold.env", environment: [:])
        }
        #expect(missing.code == .configuration)
        #expect(missing.message.contains("/nonexistent/twofold.env"))

        // A bad value in the file is reported like one in the environment.
        let badValue = try file("TWOFOLD_LOG_FORMAT=yaml\n")
        let value = try #require(throws: TwofoldError.self) { try TwofoldConfiguration.load(file: badValue, environment: [:]) }
        #expect(value.message.contains("TWOFOLD_LOG_FORMAT"))
    }

    @Test("the example file in provisioning/ parses, and names every setting with its default")
    func exampleFile() throws {
        let path = TestEnvironment.repositoryRoot.appendingPathComponent("provisioning/twofold.env.example").path
        let configuration = try TwofoldConfiguration.load(file: path, environment: [:])
        let defaults = TwofoldConfiguration()
        #expect(configuration.listen == defaults.listen)
        #expect(configuration.store == defaults.store)
        #expect(configuration.policy == defaults.policy)
        #expect(configuration.deployment == defaults.deployment)
        #expect(configuration.logLevel == defaults.logLevel)
        #expect(configuration.postgresPoolSize == defaults.postgresPoolSize)
        let text = try String(contentsOfFile: path, encoding: .utf8)
        for setting in TwofoldConfiguration.settings {
            #expect(text.contains(setting.name + "="), "\(setting.name) is not in the example file")
        }
    }

    @Test("durations: 90d, 12h, 30m, 45s and combinations")
    func durations() throws {
        #expect(try DurationText.parse("90d") == 90 * 86_400)
        #expect(try DurationText.parse("12h") == 43_200)
        #expect(try DurationText.parse("30m") == 1_800)
        #expect(try DurationText.parse("45s") == 45)
        #expect(try DurationText.parse("1h30m") == 5_400)
        for bad in ["", "10", "m", "1x", "30m1h", "1.5h", "-1m", "1 h", "99999999999999999999d"] {
            #expect(throws: TwofoldError.self, "\(bad)") { try DurationText.parse(bad) }
        }
        #expect(DurationText.format(600) == "10m")
        #expect(DurationText.format(86_400) == "1d")
        #expect(DurationText.format(45) == "45s")
    }

    @Test("an unknown TWOFOLD_* variable in the environment is a warning naming the nearest setting; other tools' variables are not")
    func unknownVariables() throws {
        let configuration = try TwofoldConfiguration.load(file: nil, environment: [
            "TWOFOLD_LISTNE": "127.0.0.1:9090",
            "TWOFOLD_MASTER_KEY_FILES": "/k",
            "TWOFOLD_LOG_LEVLE": "debug",
            "TWOFOLD_COMPLETELY_DIFFERENT": "x",
            "TWOFOLD_TEST_POSTGRES_URL": "postgres://test",
            "TWOFOLD_BIN": ".build/debug/twofold",
            "TWOFOLD_CONFIG": "",
            "OTHER_LISTNE": "x",
        ])
        #expect(configuration.listen == TwofoldConfiguration().listen)
        #expect(configuration.warnings == [
            "TWOFOLD_COMPLETELY_DIFFERENT is not a Twofold setting and is ignored (`twofold serve --help` lists the settings)",
            "TWOFOLD_LISTNE is not a Twofold setting and is ignored: did you mean TWOFOLD_LISTEN?",
            "TWOFOLD_LOG_LEVLE is not a Twofold setting and is ignored: did you mean TWOFOLD_LOG_LEVEL?",
            "TWOFOLD_MASTER_KEY_FILES is not a Twofold setting and is ignored: did you mean TWOFOLD_MASTER_KEY_FILE?",
        ])
        #expect(try TwofoldConfiguration.load(file: nil, environment: ["TWOFOLD_LISTEN": "127.0.0.1:1"]).warnings.isEmpty)
    }

    @Test("each setting remembers where it came from: the environment, the file, or its default")
    func origins() throws {
        let path = try file("TWOFOLD_STORE=sqlite:/srv/twofold.sqlite\nTWOFOLD_LISTEN=127.0.0.1:7000\n")
        let configuration = try TwofoldConfiguration.load(file: path, environment: ["TWOFOLD_LISTEN": "127.0.0.1:7001"])
        #expect(configuration.configurationFile == path)
        #expect(configuration.origin(of: "TWOFOLD_STORE") == .file(path: path))
        #expect(configuration.origin(of: "TWOFOLD_LISTEN") == .environment)
        #expect(configuration.origin(of: "TWOFOLD_DATA_DIR") == .defaultValue)
        let none = try TwofoldConfiguration.load(file: nil, environment: [:])
        #expect(none.configurationFile == nil)
        #expect(none.origin(of: "TWOFOLD_STORE") == .defaultValue)
    }

    @Test("TWOFOLD_AUDIT_MIN_RETENTION: 1d by default, a duration from 1h to 3650d, from the file or the environment, in the example file")
    func auditMinimumRetention() throws {
        #expect(try TwofoldConfiguration.load(file: nil, environment: [:]).auditMinimumRetention == 86_400)
        #expect(TwofoldConfiguration().auditMinimumRetention == 86_400)
        for (text, seconds) in [("1h", 3_600.0), ("36h", 129_600), ("90d", 7_776_000), ("3650d", 315_360_000)] {
            let configuration = try TwofoldConfiguration.load(file: nil, environment: ["TWOFOLD_AUDIT_MIN_RETENTION": text])
            #expect(configuration.auditMinimumRetention == seconds, "\(text)")
        }
        let path = try file("TWOFOLD_AUDIT_MIN_RETENTION=7d\n")
        let fromFile = try TwofoldConfiguration.load(file: path, environment: [:])
        #expect(fromFile.auditMinimumRetention == 7 * 86_400)
        #expect(fromFile.origin(of: "TWOFOLD_AUDIT_MIN_RETENTION") == .file(path: path))
        for (text, mentions) in [("59m", "out of range"), ("3651d", "out of range"), ("0s", "out of range"), ("forever", "not a duration"), ("90", "not a duration")] {
            let error = try #require(throws: TwofoldError.self) {
                try TwofoldConfiguration.load(file: nil, environment: ["TWOFOLD_AUDIT_MIN_RETENTION": text])
            }
            #expect(error.code == .configuration)
            #expect(error.message.contains("TWOFOLD_AUDIT_MIN_RETENTION"), "\(error.message)")
            #expect(error.message.contains(mentions), "\(error.message)")
        }
        #expect(TwofoldConfiguration.settings.contains { $0.name == "TWOFOLD_AUDIT_MIN_RETENTION" && $0.defaultValue == "1d" })
        let example = TestEnvironment.repositoryRoot.appendingPathComponent("provisioning/twofold.env.example").path
        #expect(try String(contentsOfFile: example, encoding: .utf8).contains("\nTWOFOLD_AUDIT_MIN_RETENTION=1d\n"))
        let readme = TestEnvironment.repositoryRoot.appendingPathComponent("README.md").path
        #expect(try String(contentsOfFile: readme, encoding: .utf8).contains("| `TWOFOLD_AUDIT_MIN_RETENTION` | `1d` |"))
    }

    @Test("the log format asked for is read even when another setting is refused")
    func requestedLogFormat() throws {
        let environment = ["TWOFOLD_LOG_FORMAT": "JSON", "TWOFOLD_LISTEN": "nowhere"]
        #expect(throws: TwofoldError.self) { try TwofoldConfiguration.load(file: nil, environment: environment) }
        #expect(TwofoldConfiguration.requestedLogFormat(file: nil, environment: environment) == .json)
        let path = try file("TWOFOLD_LOG_FORMAT=json\nTWOFOLD_LISTEN=nowhere\n")
        #expect(TwofoldConfiguration.requestedLogFormat(file: path, environment: [:]) == .json)
        #expect(TwofoldConfiguration.requestedLogFormat(file: nil, environment: [:]) == .text)
        #expect(TwofoldConfiguration.requestedLogFormat(file: nil, environment: ["TWOFOLD_LOG_FORMAT": "yaml"]) == .text)
    }
}
