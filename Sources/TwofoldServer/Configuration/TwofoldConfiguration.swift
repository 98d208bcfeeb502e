import Foundation
import Logging
import TwofoldCore
import TwofoldDelivery
import TwofoldPostgres
import TwofoldSQLite

/// Every setting of a Twofold node, read from a configuration file and the environment.
///
/// The file (`--config FILE` or `TWOFOLD_CONFIG`) holds `KEY=value` lines with the same
/// `TWOFOLD_*` names as the environment, `#` comments and blank lines; a variable set in the
/// environment wins over the file. `twofold serve` and the admin commands read the same settings,
/// so both always open the same store with the same keys.
public struct TwofoldConfiguration: Sendable {
    /// Where the server listens.
    public struct ListenAddress: Sendable, Equatable, CustomStringConvertible {
        public var host: String
        public var port: Int

        public init(host: String, port: Int) {
            self.host = host
            self.port = port
        }

        public var description: String { host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)" }
    }

    /// The store a node opens.
    public enum StoreLocation: Sendable, Equatable, CustomStringConvertible {
        /// A SQLite database file.
        case sqlite(path: String)
        /// A PostgreSQL database, as a `postgres://` URL (which may hold a password).
        case postgres(url: String)

        /// The location without any password, safe to log.
        public var description: String {
            switch self {
            case .sqlite(let path): "sqlite:\(path)"
            case .postgres(let url): (try? PostgresURL(url).description) ?? "postgres://…"
            }
        }
    }

    /// A certificate chain and its private key, both PEM files.
    public struct TLSFiles: Sendable, Equatable {
        public var certificateChain: String
        public var privateKey: String

        public init(certificateChain: String, privateKey: String) {
            self.certificateChain = certificateChain
            self.privateKey = privateKey
        }
    }

    /// `development` forgives a missing master key (one is generated in the data folder);
    /// `production` refuses to start without one.
    public enum Deployment: String, Sendable, CaseIterable {
        case development
        case production
    }

    /// How log lines are written.
    public enum LogFormat: String, Sendable, CaseIterable {
        /// One human-readable line per event, UTC times, sorted `key=value` metadata (``LineLogHandler``).
        case text
        /// One JSON object per line, for log collectors.
        case json
    }

    public var listen: ListenAddress
    public var store: StoreLocation
    /// Master key files: the first seals, all open. Empty means the development key in
    /// ``dataDirectory`` (refused in production).
    public var masterKeyFiles: [String]
    public var tls: TLSFiles?
    public var logLevel: Logger.Level
    public var logFormat: LogFormat
    public var deployment: Deployment
    /// Where the development master key, the default SQLite database and the initial API key go.
    public var dataDirectory: String
    public var sqliteDurability: SQLiteDurability
    /// The most connections one node opens to PostgreSQL. Every node of a deployment opens up to
    /// this many, and PostgreSQL's `max_connections` (100 by default) is shared by all of them.
    public var postgresPoolSize: Int
    public var policy: VerificationPolicy
    /// How challenges are delivered.
    public var delivery: DeliveryConfiguration
    /// Idle timeout and connection cap of the listener.
    public var listener = ListenerConfiguration()
    /// The shortest retention `twofold audit purge --older-than` accepts (1h to 3650d): a slip
    /// such as `90m` (minutes) for `90d` would otherwise erase nearly the whole trail, the
    /// recent events an incident investigation needs most included.
    public var auditMinimumRetention: TimeInterval = TwofoldConfiguration.defaultAuditMinimumRetention
    /// The configuration file the settings were read from, if any.
    public internal(set) var configurationFile: String?
    /// Where each setting read by ``load(file:environment:)`` came from; a setting missing here
    /// has its default.
    public internal(set) var origins: [String: SettingOrigin] = [:]
    /// What is worth saying about the environment the settings came from, without refusing it:
    /// `TWOFOLD_*` variables that are not settings (a misspelt name is otherwise silently
    /// ignored). Log them once logging is set up.
    public internal(set) var warnings: [String] = []

    /// The settings with nothing configured: SQLite in `./data`, a development key, 127.0.0.1:8080.
    public init(
        listen: ListenAddress = ListenAddress(host: "127.0.0.1", port: 8080),
        store: StoreLocation? = nil,
        masterKeyFiles: [String] = [],
        tls: TLSFiles? = nil,
        logLevel: Logger.Level = .info,
        logFormat: LogFormat = .text,
        deployment: Deployment = .development,
        dataDirectory: String = "./data",
        sqliteDurability: SQLiteDurability = .full,
        postgresPoolSize: Int = TwofoldConfiguration.defaultPostgresPoolSize,
        policy: VerificationPolicy = VerificationPolicy()
    ) {
        self.listen = listen
        self.store = store ?? .sqlite(path: Self.join(dataDirectory, "twofold.sqlite"))
        self.masterKeyFiles = masterKeyFiles
        self.tls = tls
        self.logLevel = logLevel
        self.logFormat = logFormat
        self.deployment = deployment
        self.dataDirectory = dataDirectory
        self.sqliteDurability = sqliteDurability
        self.postgresPoolSize = postgresPoolSize
        self.policy = policy
        delivery = DeliveryConfiguration(deployment: deployment)
    }

    /// The challenges' policy: limits, texts, countries and the callback base URL.
    public var challengePolicy: ChallengePolicy {
        delivery.challengePolicy(listen: listen, tls: tls != nil)
    }

    /// The push policy over the transports built from the settings.
    func pushPolicy(providers: [any PushProvider]) -> PushPolicy {
        var policy = PushPolicy()
        policy.providers = providers
        policy.webPushApplicationServerKey = providers.compactMap { ($0 as? WebPushProvider)?.applicationServerKey }.first
        if let window = delivery.pushAnswerWindow { policy.answerWindow = window }
        if let lifetime = delivery.pushActivationLifetime { policy.activationLifetime = lifetime }
        if let suspension = delivery.pushFraudSuspension { policy.fraudSuspension = suspension }
        return policy
    }

    /// Eight: attempts of many users run in batches on two connections at a time (group
    /// commit), which leaves six for everything else; more connections do not verify faster,
    /// and a small default leaves room for a dozen nodes under PostgreSQL's default
    /// `max_connections`.
    public static let defaultPostgresPoolSize = 8

    /// One day: a purge always keeps the last 24 hours.
    public static let defaultAuditMinimumRetention: TimeInterval = 86_400

    /// Where a setting came from.
    public enum SettingOrigin: Sendable, Equatable, CustomStringConvertible {
        /// Not set: the default.
        case defaultValue
        /// The process environment.
        case environment
        /// A line of a configuration file.
        case file(path: String)

        public var description: String {
            switch self {
            case .defaultValue: "the default"
            case .environment: "the environment"
            case .file(let path): path
            }
        }
    }

    /// Where `setting` (a `TWOFOLD_*` name) came from.
    public func origin(of setting: String) -> SettingOrigin {
        origins[setting] ?? .defaultValue
    }

    /// In production, a warning when the store is a PostgreSQL server on another machine reached
    /// without checking its certificate: an active attacker on the network could then read and
    /// change everything Twofold stores.
    public var storeTransportWarning: String? {
        guard deployment == .production, case .postgres(let text) = store,
              let url = try? PostgresURL(text), url.isUnverifiedAcrossNetwork else { return nil }
        return "TWOFOLD_STORE reaches PostgreSQL on \(url.host) with sslmode=\(url.sslMode.rawValue), which does not check the server's certificate: anyone on the network between them can read and change what Twofold stores; use sslmode=verify-full with sslrootcert"
    }

    /// The development master key's path: `<data dir>/master.key`.
    public var developmentMasterKeyFile: String { Self.join(dataDirectory, "master.key") }

    /// Where the first start writes the API key it creates: `<data dir>/initial-api-key`.
    public var initialAPIKeyFile: String { Self.join(dataDirectory, "initial-api-key") }

    /// `name` inside `directory`, with one slash between.
    public static func join(_ directory: String, _ name: String) -> String {
        directory.hasSuffix("/") ? directory + name : directory + "/" + name
    }
}

// MARK: - Loading

extension TwofoldConfiguration {
    /// Every setting's name, what it takes and its default, in the order the README lists them.
    public static let settings: [(name: String, form: String, defaultValue: String)] = [
        ("TWOFOLD_LISTEN", "host:port", "127.0.0.1:8080"),
        ("TWOFOLD_STORE", "sqlite:PATH or postgres://USER:PASSWORD@HOST:PORT/DATABASE", "sqlite:<data dir>/twofold.sqlite"),
        ("TWOFOLD_MASTER_KEY_FILE", "comma-separated key files; the first seals", "<data dir>/master.key in development"),
        ("TWOFOLD_TLS_CERT", "PEM certificate chain file (with TWOFOLD_TLS_KEY)", "none: plain HTTP"),
        ("TWOFOLD_TLS_KEY", "PEM private key file (with TWOFOLD_TLS_CERT)", "none: plain HTTP"),
        ("TWOFOLD_LOG_LEVEL", "trace, debug, info, notice, warning, error or critical", "info"),
        ("TWOFOLD_LOG_FORMAT", "text or json", "text"),
        ("TWOFOLD_ENV", "development or production", "development"),
        ("TWOFOLD_DATA_DIR", "a folder", "./data"),
        ("TWOFOLD_SQLITE_SYNCHRONOUS", "full or normal", "full"),
        ("TWOFOLD_POSTGRES_POOL_SIZE", "connections per node, 2 to 100", "\(defaultPostgresPoolSize)"),
        ("TWOFOLD_TOTP_WINDOW", "steps either side, 0 to 10", "1"),
        ("TWOFOLD_HOTP_LOOK_AHEAD", "counters, 0 to 100", "10"),
        ("TWOFOLD_HOTP_RESYNC_WINDOW", "counters, look-ahead to 1000", "100"),
        ("TWOFOLD_PENDING_LIFETIME", "duration, 30s to 1d", "10m"),
        ("TWOFOLD_LOCKOUT_FREE_FAILURES", "failures, 0 to 100", "5"),
        ("TWOFOLD_LOCKOUT_BASE_DELAY", "duration, at least 1s", "30s"),
        ("TWOFOLD_LOCKOUT_MAX_DELAY", "duration, base delay to 30d", "24h"),
        ("TWOFOLD_ISSUER", "text, no colon", "Twofold"),
        ("TWOFOLD_AUDIT_MIN_RETENTION", "duration, 1h to 3650d", "1d"),
    ] + ListenerConfiguration.settings + DeliveryConfiguration.settings

    /// Reads the settings from a configuration file and the environment; the environment wins.
    ///
    /// - Parameters:
    ///   - file: The configuration file, or `nil` for the one `TWOFOLD_CONFIG` names, if any.
    ///   - environment: The process environment. `TWOFOLD_*` variables it holds that Twofold does
    ///     not know are ignored (other tools share the prefix); in the file they are an error.
    /// - Throws: `configuration`, naming the variable (or the file and line) and the expected form.
    public static func load(file: String?, environment: [String: String]) throws(TwofoldError) -> TwofoldConfiguration {
        var values: [String: String] = [:]
        var origins: [String: SettingOrigin] = [:]
        let path = configurationFile(file: file, environment: environment)
        if let path {
            values = try readFile(path)
            for name in values.keys { origins[name] = .file(path: path) }
        }
        for (name, _, _) in settings {
            if let value = environment[name], !value.isEmpty {
                values[name] = value
                origins[name] = .environment
            }
        }
        var configuration = try TwofoldConfiguration(values: values)
        configuration.configurationFile = path
        configuration.origins = origins
        configuration.warnings = unknownVariableWarnings(environment)
        return configuration
    }

    /// The file `--config` (`file`) or else `TWOFOLD_CONFIG` names, if any.
    static func configurationFile(file: String?, environment: [String: String]) -> String? {
        file ?? environment["TWOFOLD_CONFIG"].flatMap { $0.isEmpty ? nil : $0 }
    }

    /// Parses a configuration file's `KEY=value` lines.
    static func readFile(_ path: String) throws(TwofoldError) -> [String: String] {
        let text: String
        do {
            text = try String(contentsOfFile: path, encoding: .utf8)
        } catch {
            throw TwofoldError(.configuration, "cannot read the configuration file \(path): \(error.localizedDescription)")
        }
        return try parseFile(text, path: path)
    }

    static func parseFile(_ text: String, path: String) throws(TwofoldError) -> [String: String] {
        let known = Set(settings.map(\.name))
        var values: [String: String] = [:]
        var lineOf: [String: Int] = [:]
        for (index, rawLine) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let number = index + 1
            let line = rawLine.trimmingCharacters(in: .whitespacesAndNewlines)
            if line.isEmpty || line.hasPrefix("#") { continue }
            guard let equals = line.firstIndex(of: "=") else {
                throw TwofoldError(.configuration, "\(path):\(number): expected KEY=value, such as TWOFOLD_LISTEN=127.0.0.1:8080")
            }
            var key = line[..<equals].trimmingCharacters(in: .whitespaces)
            if key.hasPrefix("export ") { key = String(key.dropFirst(7)).trimmingCharacters(in: .whitespaces) }
            guard known.contains(key) else {
                let hint = key == "TWOFOLD_CONFIG" ? "TWOFOLD_CONFIG names the file and cannot be set in it" : "known settings are \(settings.map(\.name).joined(separator: ", "))"
                throw TwofoldError(.configuration, "\(path):\(number): unknown setting \"\(key)\": \(hint)")
            }
            if let first = lineOf[key] {
                throw TwofoldError(.configuration, "\(path):\(number): \(key) is already set on line \(first)")
            }
            var value = line[line.index(after: equals)...].trimmingCharacters(in: .whitespaces)
            if value.count >= 2, let quote = value.first, quote == "\"" || quote == "'", value.last == quote {
                value = String(value.dropFirst().dropLast())
            }
            values[key] = value
            lineOf[key] = number
        }
        return values
    }

    /// Builds the configuration from merged `TWOFOLD_*` values.
    init(values: [String: String]) throws(TwofoldError) {
        func value(_ name: String) -> String? {
            guard let value = values[name]?.trimmingCharacters(in: .whitespaces), !value.isEmpty else { return nil }
            return value
        }
        func choice<T: RawRepresentable & CaseIterable>(_ name: String, _ type: T.Type) throws(TwofoldError) -> T? where T.RawValue == String {
            guard let text = value(name) else { return nil }
            guard let result = T(rawValue: text.lowercased()) else {
                throw TwofoldError(.configuration, "\(name)=\"\(text)\" is invalid: use \(T.allCases.map(\.rawValue).joined(separator: " or "))")
            }
            return result
        }
        func integer(_ name: String, _ range: ClosedRange<Int>) throws(TwofoldError) -> Int? {
            guard let text = value(name) else { return nil }
            guard let number = Int(text), range.contains(number) else {
                throw TwofoldError(.configuration, "\(name)=\"\(text)\" is invalid: use a whole number from \(range.lowerBound) to \(range.upperBound)")
            }
            return number
        }
        func duration(_ name: String, _ range: ClosedRange<TimeInterval>) throws(TwofoldError) -> TimeInterval? {
            guard let text = value(name) else { return nil }
            let seconds: TimeInterval
            do {
                seconds = try DurationText.parse(text)
            } catch {
                throw TwofoldError(.configuration, "\(name): \(error.message)")
            }
            guard range.contains(seconds) else {
                throw TwofoldError(.configuration, "\(name)=\"\(text)\" is out of range: use \(DurationText.format(range.lowerBound)) to \(DurationText.format(range.upperBound))")
            }
            return seconds
        }

        let dataDirectory = value("TWOFOLD_DATA_DIR") ?? "./data"
        self.init(dataDirectory: dataDirectory)

        if let text = value("TWOFOLD_LISTEN") { listen = try Self.parseListen(text) }
        if let text = value("TWOFOLD_STORE") { store = try Self.parseStore(text) }
        if let text = value("TWOFOLD_MASTER_KEY_FILE") {
            masterKeyFiles = text.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }
            guard !masterKeyFiles.isEmpty, masterKeyFiles.allSatisfy({ !$0.isEmpty }) else {
                throw TwofoldError(.configuration, "TWOFOLD_MASTER_KEY_FILE=\"\(text)\" is invalid: use one or more key file paths separated by commas, the sealing key first")
            }
        }
        switch (value("TWOFOLD_TLS_CERT"), value("TWOFOLD_TLS_KEY")) {
        case (let certificate?, let key?): tls = TLSFiles(certificateChain: certificate, privateKey: key)
        case (nil, nil): tls = nil
        case (_?, nil): throw TwofoldError(.configuration, "TWOFOLD_TLS_CERT is set but TWOFOLD_TLS_KEY is not: set both (PEM files) or neither")
        case (nil, _?): throw TwofoldError(.configuration, "TWOFOLD_TLS_KEY is set but TWOFOLD_TLS_CERT is not: set both (PEM files) or neither")
        }
        if let text = value("TWOFOLD_LOG_LEVEL") {
            guard let level = Logger.Level(rawValue: text.lowercased()) else {
                throw TwofoldError(.configuration, "TWOFOLD_LOG_LEVEL=\"\(text)\" is invalid: use \(Logger.Level.allCases.map(\.rawValue).joined(separator: ", "))")
            }
            logLevel = level
        }
        if let format = try choice("TWOFOLD_LOG_FORMAT", LogFormat.self) { logFormat = format }
        if let deployment = try choice("TWOFOLD_ENV", Deployment.self) { self.deployment = deployment }
        if let text = value("TWOFOLD_SQLITE_SYNCHRONOUS") {
            guard let durability = SQLiteDurability(rawValue: text.lowercased()) else {
                throw TwofoldError(.configuration, "TWOFOLD_SQLITE_SYNCHRONOUS=\"\(text)\" is invalid: use full or normal")
            }
            sqliteDurability = durability
        }

        if let size = try integer("TWOFOLD_POSTGRES_POOL_SIZE", 2...100) { postgresPoolSize = size }

        if let window = try integer("TWOFOLD_TOTP_WINDOW", 0...10) { policy.totpWindow = window }
        if let lookAhead = try integer("TWOFOLD_HOTP_LOOK_AHEAD", 0...100) { policy.hotpLookAhead = UInt64(lookAhead) }
        if let resync = try integer("TWOFOLD_HOTP_RESYNC_WINDOW", 0...1_000) {
            guard UInt64(resync) >= policy.hotpLookAhead else {
                throw TwofoldError(.configuration, "TWOFOLD_HOTP_RESYNC_WINDOW=\(resync) is smaller than the look-ahead (\(policy.hotpLookAhead)): use at least that, up to 1000")
            }
            policy.hotpResyncWindow = UInt64(resync)
        } else if policy.hotpResyncWindow < policy.hotpLookAhead {
            policy.hotpResyncWindow = policy.hotpLookAhead
        }
        if let lifetime = try duration("TWOFOLD_PENDING_LIFETIME", 30...86_400) { policy.pendingLifetime = lifetime }
        if let free = try integer("TWOFOLD_LOCKOUT_FREE_FAILURES", 0...100) { policy.throttle.freeFailures = free }
        if let base = try duration("TWOFOLD_LOCKOUT_BASE_DELAY", 1...(30 * 86_400)) { policy.throttle.baseDelay = base }
        if let maximum = try duration("TWOFOLD_LOCKOUT_MAX_DELAY", 1...(30 * 86_400)) { policy.throttle.maximumDelay = maximum }
        guard policy.throttle.maximumDelay >= policy.throttle.baseDelay else {
            throw TwofoldError(.configuration, "TWOFOLD_LOCKOUT_MAX_DELAY (\(DurationText.format(policy.throttle.maximumDelay))) is shorter than TWOFOLD_LOCKOUT_BASE_DELAY (\(DurationText.format(policy.throttle.baseDelay))): the longest lock must be at least the first")
        }
        if let issuer = value("TWOFOLD_ISSUER") {
            guard !issuer.contains(":"), issuer.count <= 64 else {
                throw TwofoldError(.configuration, "TWOFOLD_ISSUER=\"\(issuer)\" is invalid: use up to 64 characters without a colon (the colon separates issuer and account in authenticator apps)")
            }
            policy.defaultIssuer = issuer
        }
        if let retention = try duration("TWOFOLD_AUDIT_MIN_RETENTION", 3_600...(3_650 * 86_400)) { auditMinimumRetention = retention }
        do {
            try policy.validate()
        } catch {
            throw TwofoldError(.configuration, "the verification policy is invalid: \(error.message)")
        }
        listener = try ListenerConfiguration(duration: duration, integer: integer)
        delivery = try DeliveryConfiguration(values: value, deployment: deployment, duration: duration, integer: integer)
        if deployment == .production, masterKeyFiles.isEmpty {
            throw TwofoldError(.configuration, "TWOFOLD_MASTER_KEY_FILE is required when TWOFOLD_ENV=production: make a key with `twofold keys generate FILE` and name its file")
        }
    }

    /// `host:port`, `[v6 address]:port`.
    static func parseListen(_ text: String) throws(TwofoldError) -> ListenAddress {
        let invalid = TwofoldError(.configuration, "TWOFOLD_LISTEN=\"\(text)\" is invalid: use host:port, such as 127.0.0.1:8080, 0.0.0.0:8443 or [::1]:8080, with a port from 1 to 65535")
        let host: Substring
        let portText: Substring
        if text.hasPrefix("[") {
            guard let close = text.firstIndex(of: "]"), text[text.index(after: close)...].hasPrefix(":") else { throw invalid }
            host = text[text.index(after: text.startIndex)..<close]
            portText = text[text.index(close, offsetBy: 2)...]
        } else {
            guard let colon = text.lastIndex(of: ":") else { throw invalid }
            host = text[..<colon]
            portText = text[text.index(after: colon)...]
            guard !host.contains(":") else { throw invalid }
        }
        guard !host.isEmpty, !host.contains(where: \.isWhitespace), let port = Int(portText), (1...65_535).contains(port) else {
            throw invalid
        }
        // The address is also written into a URL, the callback base when TWOFOLD_PUBLIC_URL is
        // not set (DeliveryConfiguration.challengePolicy): the host must be one a URL holds,
        // with nothing (`/`, `?`, `#`) that would end the authority before the port.
        let url = URL(string: "http://\(host.contains(":") ? "[\(host)]" : String(host)):\(port)")
        guard url?.port == port else { throw invalid }
        return ListenAddress(host: String(host), port: port)
    }

    /// `sqlite:PATH` or `postgres://…`.
    static func parseStore(_ text: String) throws(TwofoldError) -> StoreLocation {
        if text.hasPrefix("sqlite:") {
            let path = String(text.dropFirst("sqlite:".count))
            guard !path.isEmpty else {
                throw TwofoldError(.configuration, "TWOFOLD_STORE=\"sqlite:\" names no file: use sqlite:PATH, such as sqlite:./data/twofold.sqlite")
            }
            return .sqlite(path: path)
        }
        if text.hasPrefix("postgres://") || text.hasPrefix("postgresql://") {
            do {
                _ = try PostgresURL(text)
            } catch {
                // The URL may hold a password: never repeat it.
                throw TwofoldError(.configuration, "TWOFOLD_STORE: \(error.message)")
            }
            return .postgres(url: text)
        }
        let shown = text.contains("@") ? "…" : text
        throw TwofoldError(.configuration, "TWOFOLD_STORE=\"\(shown)\" is invalid: use sqlite:PATH or postgres://USER:PASSWORD@HOST:PORT/DATABASE")
    }
}
