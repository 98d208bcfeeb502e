import Foundation
import PostgresNIO
import TwofoldCore

/// A PostgreSQL connection URL, as libpq writes it:
/// `postgres://USER:PASSWORD@HOST:PORT/DATABASE?sslmode=MODE`.
///
/// User name, password and database may be percent-encoded. The port defaults to 5432 and the
/// database to the user name, as in libpq. Query parameters:
/// - `sslmode`: `disable`, `prefer` (the default, as in libpq), `require`, `verify-ca` or
///   `verify-full`. As in libpq, `prefer` and `require` encrypt without checking the server's
///   certificate, which stops eavesdroppers but not an active attacker; across any network
///   that is not the machine's own, use `verify-full`.
/// - `sslrootcert`: the PEM file of the certificate authorities to trust, required for
///   `verify-ca` and `verify-full` as libpq requires its root certificate: without it every
///   public authority would be trusted to vouch for the database server.
public struct PostgresURL: Sendable, Equatable, CustomStringConvertible {
    /// How the connection uses TLS, with libpq's names.
    public enum SSLMode: String, Sendable, CaseIterable {
        case disable
        case prefer
        case require
        case verifyCA = "verify-ca"
        case verifyFull = "verify-full"
    }

    public var host: String
    public var port: Int
    public var username: String
    public var password: String?
    public var database: String
    public var sslMode: SSLMode
    public var sslRootCertificatePath: String?

    /// Parses a URL.
    /// - Throws: `configuration`, naming what is wrong; the message never contains the password.
    public init(_ text: String) throws(TwofoldError) {
        func invalid(_ reason: String) -> TwofoldError {
            TwofoldError(.configuration, "the PostgreSQL URL \(Self.redacted(text)) is invalid: \(reason)")
        }
        guard let components = URLComponents(string: text) else {
            throw invalid("expected postgres://USER:PASSWORD@HOST:PORT/DATABASE")
        }
        guard let scheme = components.scheme?.lowercased(), scheme == "postgres" || scheme == "postgresql" else {
            throw invalid("the scheme must be postgres:// or postgresql://")
        }
        guard var host = components.host, !host.isEmpty else {
            throw invalid("it names no host")
        }
        if host.hasPrefix("["), host.hasSuffix("]") {
            host = String(host.dropFirst().dropLast())
        }
        guard let username = components.user, !username.isEmpty else {
            throw invalid("it names no user (postgres://USER@HOST/DATABASE)")
        }
        let port = components.port ?? 5432
        guard (1...65_535).contains(port) else {
            throw invalid("port \(port) is out of range")
        }
        var database = components.path
        if database.hasPrefix("/") { database.removeFirst() }
        guard !database.contains("/") else {
            throw invalid("the path must be a single database name")
        }
        var sslMode = SSLMode.prefer
        var rootCertificate: String?
        for item in components.queryItems ?? [] {
            switch item.name {
            case "sslmode":
                guard let value = item.value, let mode = SSLMode(rawValue: value) else {
                    throw invalid("sslmode \"\(item.value ?? "")\" is not one of \(SSLMode.allCases.map(\.rawValue).joined(separator: ", "))")
                }
                sslMode = mode
            case "sslrootcert":
                guard let value = item.value, !value.isEmpty else { throw invalid("sslrootcert needs a file path") }
                rootCertificate = value
            default:
                throw invalid("unknown parameter \"\(item.name)\"; supported are sslmode and sslrootcert")
            }
        }
        if sslMode == .verifyCA || sslMode == .verifyFull, rootCertificate == nil {
            throw invalid("sslmode=\(sslMode.rawValue) needs sslrootcert=FILE, the certificate authority that signed the database server's certificate")
        }
        self.host = host
        self.port = port
        self.username = username
        self.password = components.password
        self.database = database.isEmpty ? username : database
        self.sslMode = sslMode
        self.sslRootCertificatePath = rootCertificate
    }

    /// Whether TLS, if used, is not checked against a certificate authority (`prefer`,
    /// `require`) while the server is not on this machine: an active attacker on the network
    /// could then read and change everything. Worth a warning in production.
    public var isUnverifiedAcrossNetwork: Bool {
        guard sslMode != .verifyCA, sslMode != .verifyFull else { return false }
        return !(host == "localhost" || host == "::1" || host.hasPrefix("127.") || host.hasPrefix("/"))
    }

    /// The URL with the password replaced by `…`, for logs and messages.
    public var description: String {
        let hostPart = host.contains(":") ? "[\(host)]" : host
        return "postgres://\(username)\(password == nil ? "" : ":…")@\(hostPart):\(port)/\(database)?sslmode=\(sslMode.rawValue)"
    }

    /// The configuration of a connection pool for this URL.
    func clientConfiguration() -> PostgresClient.Configuration {
        let tls: PostgresClient.Configuration.TLS
        switch (sslMode, tlsConfiguration()) {
        case (.disable, _), (_, nil): tls = .disable
        case (.prefer, let configuration?): tls = .prefer(configuration)
        case (_, let configuration?): tls = .require(configuration)
        }
        return PostgresClient.Configuration(host: host, port: port, username: username, password: password, database: database, tls: tls)
    }

    /// The configuration of a single connection for this URL.
    /// - Throws: `configuration` when the TLS settings cannot be loaded (an unreadable `sslrootcert`).
    func connectionConfiguration() throws(TwofoldError) -> PostgresConnection.Configuration {
        let tls: PostgresConnection.Configuration.TLS
        if let configuration = tlsConfiguration() {
            let context: NIOSSLContext
            do {
                context = try NIOSSLContext(configuration: configuration)
            } catch {
                throw TwofoldError(.configuration, "the TLS settings of \(self) cannot be used: \(error)")
            }
            tls = sslMode == .prefer ? .prefer(context) : .require(context)
        } else {
            tls = .disable
        }
        return PostgresConnection.Configuration(host: host, port: port, username: username, password: password, database: database, tls: tls)
    }

    /// The TLS settings of `sslMode`, or `nil` for `disable`.
    private func tlsConfiguration() -> TLSConfiguration? {
        var configuration = TLSConfiguration.makeClientConfiguration()
        if let sslRootCertificatePath {
            configuration.trustRoots = .file(sslRootCertificatePath)
        }
        switch sslMode {
        case .disable:
            return nil
        case .prefer, .require:
            configuration.certificateVerification = .none
        case .verifyCA:
            configuration.certificateVerification = .noHostnameVerification
        case .verifyFull:
            configuration.certificateVerification = .fullVerification
        }
        return configuration
    }

    /// `text` with anything between `://user:` and `@` hidden, for error messages about a URL
    /// that did not parse.
    static func redacted(_ text: String) -> String {
        guard let schemeEnd = text.range(of: "://"),
              let at = text[schemeEnd.upperBound...].lastIndex(of: "@") else {
            return text.contains("@") ? "(hidden: it may contain a password)" : "\"\(text)\""
        }
        let credentials = text[schemeEnd.upperBound..<at]
        guard let colon = credentials.firstIndex(of: ":") else { return "\"\(text)\"" }
        return "\"\(text[..<colon]):…\(text[at...])\""
    }
}
