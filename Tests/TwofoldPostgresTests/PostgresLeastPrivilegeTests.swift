import Foundation
import Logging
import PostgresNIO
import Synchronization
import Testing
import TwofoldCore
import TwofoldOTP
@testable import TwofoldPostgres
import TwofoldTesting

/// provisioning/postgres/create-roles.sh's two roles, as a deployment uses them: the owner
/// migrates, the runtime role serves. Each test makes a database and both roles of its own
/// (their names unique to it) with the script, and drops them afterwards.
@Suite("PostgreSQL: least privilege (create-roles.sh)", .timeLimit(.minutes(3)))
struct PostgresLeastPrivilegeTests: PostgresFixtures {
    @Test("the runtime role stops with a message naming TWOFOLD_STORE while a migration is pending, and opens the schema the owner migrated")
    func startsOnlyOnAMigratedSchema() async throws {
        try await RolesDatabase.with { database in
            try await database.createRoles()
            let runtime = try await database.store(as: database.app)
            let beforeMigration = try await configurationError { try await runtime.migrate() }
            let every = PostgresMigration.all.map { String($0.version) }.joined(separator: ", ")
            #expect(beforeMigration.contains("needs migrations \(every), which role \(database.app) may not apply"), "\(beforeMigration)")
            #expect(beforeMigration.contains("run `twofold migrate` with TWOFOLD_STORE naming the role that owns the schema"),
                    "\(beforeMigration)")

            let owner = try await database.store(as: database.owner)
            #expect(try await owner.migrate() == PostgresMigration.all.map(\.version))
            // The script has not granted on the new tables yet: the runtime role may use none.
            let beforeGrants = try await configurationError { try await runtime.migrate() }
            #expect(beforeGrants.contains("role \(database.app) may not read the schema's version"), "\(beforeGrants)")
            #expect(beforeGrants.contains("create-roles.sh"), "\(beforeGrants)")

            try await database.createRoles()
            #expect(try await runtime.migrate() == [])
            #expect(try await runtime.migrate() == [])

            // A schema one version behind this build, as after an upgrade of the binary: the
            // runtime role may not apply migration 6.
            for statement in [
                "DROP FUNCTION twofold_purge_audit_shard(INT, BIGINT, BYTEA, BYTEA)",
                "DROP FUNCTION twofold_erase_audit_user(TEXT, TEXT)",
                "DELETE FROM schema_migrations WHERE version = 6",
            ] {
                #expect(try await database.sqlState(of: statement, as: database.owner) == nil, "\(statement)")
            }
            let pending = try await configurationError { try await runtime.migrate() }
            #expect(pending.contains("needs migration 6, which role \(database.app) may not apply"), "\(pending)")
            #expect(try await owner.migrate() == [6])
            #expect(try await runtime.migrate() == [])
        }
    }

    @Test("as the runtime role, enrollment, verification, challenges, push devices, keys, the audit purge and an erasure all work")
    func runtimeRoleServes() async throws {
        try await RolesDatabase.with { database in
            try await database.migrateAsOwner()
            let store = try await database.store(as: database.app)
            #expect(try await store.migrate() == [])

            let clock = FixedClock(start)
            let phone = RecordingProvider(name: "phone")
            let oldKey = MasterKey.generate()
            let services = try await TwofoldServices.start(
                store: store, keyring: try Keyring([oldKey]),
                challengePolicy: ChallengePolicy(publicURL: URL(string: "https://twofold.example.com")!),
                providers: DeliveryProviderSet(sms: [phone], voice: [], callbacks: []), clock: clock)
            let app = try await services.applications.ensureApplication(named: "shop", actor: "test").id
            let key = try await services.apiKeys.createAPIKey(app, scopes: [.verify], actor: "test")
            try await services.apiKeys.revokeAPIKey(id: key.record.id, actor: "test")

            // TOTP: enrolled, activated, a wrong code counted, a right one clearing it.
            let enrollment = try await services.enrollment.enroll(app, alice, EnrollmentRequest(type: .totp), actor: "test")
            let totp = try enrollment.uri.makeTOTP()
            func code() throws -> String { try totp.code(at: UInt64(clock.now().timeIntervalSince1970)) }
            _ = try await services.enrollment.activate(app, alice, enrollment.factor.id, code: try code(), actor: "test")
            clock.advance(by: 30)
            let wrong = try code() == "000000" ? "111111" : "000000"
            #expect(try await services.verification.verify(app, alice, code: wrong, actor: "test").isAllowed == false)
            #expect(try await services.administration.throttleState(app, alice)?.failures == 1)
            #expect(try await services.verification.verify(app, alice, code: try code(), actor: "test")
                        == .allow(.factor(enrollment.factor.id, .totp)))
            #expect(try await services.administration.throttleState(app, alice) == nil)
            #expect(try await services.verification.generateRecoveryCodes(app, alice, actor: "test").count > 0)

            // An SMS factor and a login challenge answered with its code.
            clock.advance(by: 3_600)
            let number = "+15551234567"
            let sms = try await services.challenges.enrollPhone(app, alice, type: .sms, phone: number, actor: "test")
            await services.challenges.drain()
            _ = try await services.enrollment.activate(app, alice, sms.factor.id, code: try #require(phone.lastCode(to: number)), actor: "test")
            clock.advance(by: 31)
            let challenge = try await services.challenges.create(app, alice, ChallengeRequest(type: .sms), actor: "test")
            await services.challenges.drain()
            #expect(try await services.verification.verify(app, alice, code: try #require(phone.lastCode(to: number)), actor: "test")
                        == .allow(.factor(sms.factor.id, .sms)))
            #expect(try await services.challenges.status(app, challenge.id).status == .approved)

            // A push device waiting for activation, then deleted with its factor; a device signature remembered and purged.
            let push = try await services.push.enroll(app, alice, label: "phone", actor: "test")
            #expect(try await store.pushDevice(id: push.deviceID) != nil)
            try await services.enrollment.deleteFactor(app, alice, push.factor.id, actor: "test")
            #expect(try await store.rememberDeviceSignature([1, 2, 3], expiresAt: clock.now()))
            clock.advance(by: 600)
            #expect(try await services.push.purgeSignatures() == 1)

            // The master key rotated: every wrapped key rewritten.
            let rotating = try await TwofoldServices.start(store: store, keyring: try Keyring([MasterKey.generate(), oldKey]), clock: clock)
            #expect(try await rotating.keyRotation.rotateKeys(actor: "test").rewrapped > 0)

            // The purge deletes the TOTP part's events (an hour older than the rest) through its function.
            #expect(try await services.audit.purgeAudit(olderThan: 1_800, actor: "test") > 0)
            // The erasure nulls the user on the events left, through its function.
            #expect(try await services.audit.auditEvents(AuditQuery(applicationID: app, userID: alice, limit: 100)).isEmpty == false)
            #expect(try await services.administration.erase(app, alice, actor: "test"))
            #expect(try await services.audit.auditEvents(AuditQuery(applicationID: app, userID: alice, limit: 100)).isEmpty)
            #expect(try await services.administration.storesAnything(app, alice) == false)
            _ = try await services.challenges.purgeExpired()

            let verification = try await services.audit.verifyAudit()
            #expect(verification.isIntact, "\(verification.problems)")
        }
    }

    @Test("the runtime role may not change or delete audit events but through the two functions, nor change the schema")
    func runtimeRoleIsRefused() async throws {
        try await RolesDatabase.with { database in
            try await database.migrateAsOwner()
            let store = try await database.store(as: database.app)
            try await store.appendAudit(audit("an event to protect"))
            _ = try await store.insertDataKeyIfAbsent(applicationID: app, userID: alice, key: WrappedKey(keyID: "mk_1", bytes: [1]))

            // What it needs works on the same kind of connection (so a refusal below is the grant's).
            for allowed in [
                "SELECT count(*) FROM audit_events",
                "INSERT INTO user_state (app_id, user_id, failures) VALUES ('a', 'b', 1)",
                "UPDATE user_state SET failures = 2",
                "DELETE FROM user_state",
                "SELECT version FROM schema_migrations",
                // Security keys (migration 8): registered, used or flagged, deleted with their factor, listed.
                // One statement, one connection: the rights are checked for each part whatever rows it meets.
                """
                WITH registered AS (
                    INSERT INTO security_keys (factor_id, app_id, user_id, credential_id, aaguid, transports, attestation_format,
                                               sign_count, created_at)
                    VALUES ('f', 'a', 'b', '\\x01', '\\x00', '{usb}', 'none', 0, 0) RETURNING 1
                ), used AS (
                    UPDATE security_keys SET sign_count = 1, flagged_at = 5 RETURNING 1
                ), deleted AS (
                    DELETE FROM security_keys RETURNING 1
                ), relying_party AS (
                    UPDATE applications SET rp_id = 'example.com', origins = '{https://example.com}' RETURNING 1
                )
                SELECT count(*) FROM security_keys
                """,
            ] {
                #expect(try await database.sqlState(of: allowed, as: database.app) == nil, "\(allowed)")
            }
            for refused in [
                "DELETE FROM audit_events",
                "UPDATE audit_events SET user_id = NULL",
                "TRUNCATE audit_events",
                "DELETE FROM audit_shards",
                "TRUNCATE data_keys",
                "CREATE TABLE intruder (id INT)",
                "CREATE TEMPORARY TABLE intruder (id INT)",
                "CREATE FUNCTION intruder() RETURNS INT LANGUAGE sql AS 'SELECT 1'",
                "DROP TABLE data_keys",
                "ALTER TABLE data_keys ADD COLUMN intruder INT",
                "DROP FUNCTION twofold_erase_audit_user(TEXT, TEXT)",
                "INSERT INTO schema_migrations (version, name, applied_at) VALUES (99, 'intruder', 0)",
                "DELETE FROM schema_migrations",
            ] {
                #expect(try await database.sqlState(of: refused, as: database.app) == PostgresStore.insufficientPrivilege, "\(refused)")
            }
            #expect(try await store.auditEvents(AuditQuery(limit: 10)).count == 1)
            #expect(try await store.wrappedDataKey(applicationID: app, userID: alice) != nil)

            // The two functions run as their owner, on a fixed path, and only the roles granted may call them.
            let functions = try await database.rows("""
                SELECT proname::TEXT, prosecdef, array_to_string(proconfig, ';'), has_function_privilege('public', oid, 'EXECUTE')
                FROM pg_proc WHERE proname IN ('twofold_purge_audit_shard', 'twofold_erase_audit_user') ORDER BY 1
                """, as: database.app) { try $0.decode((String, Bool, String, Bool).self) }
            #expect(functions.map(\.0) == ["twofold_erase_audit_user", "twofold_purge_audit_shard"])
            for (name, definer, settings, publicMayCall) in functions {
                #expect(definer, "\(name)")
                #expect(settings == "search_path=pg_catalog, public, pg_temp", "\(name)")
                #expect(!publicMayCall, "\(name)")
            }
        }
    }

    /// The message of the `configuration` error that `body` must throw.
    private func configurationError(_ body: () async throws -> [Int]) async throws -> String {
        do {
            let applied = try await body()
            Issue.record("migrate() applied \(applied) instead of failing")
            return ""
        } catch let error as TwofoldError {
            #expect(error.code == .configuration, "\(error)")
            return error.message
        }
    }

    private func audit(_ outcome: String) -> AuditAppend {
        AuditAppend(AuditDraft(time: start, applicationID: app, userID: alice, actor: "test", action: .verification, outcome: outcome),
                    chain: chain)
    }
}

/// A database made by provisioning/postgres/create-roles.sh on the server
/// `TWOFOLD_TEST_POSTGRES_URL` names (whose role may CREATEDB and CREATEROLE, as
/// start-throwaway.sh sets it up), with its owner and runtime roles.
private final class RolesDatabase: Sendable {
    static let serverVariable = "TWOFOLD_TEST_POSTGRES_URL"
    static let server = ExternalTool(name: "PostgreSQL (\(serverVariable))", installHint: "provisioning/postgres/start-throwaway.sh") {
        !(ProcessInfo.processInfo.environment[serverVariable] ?? "").isEmpty
    }
    static let psql = ExternalTool.command("psql", installHint: "apt-get install postgresql-client")
    static let logger = Logger(label: "twofold.test.least-privilege")

    let server: PostgresURL
    let name: String
    let owner: String
    let app: String
    private let passwords: [String: String]
    private let stores = Mutex<[PostgresStore]>([])

    private init(server: PostgresURL) {
        self.server = server
        let suffix = String(UUID().uuidString.lowercased().replacingOccurrences(of: "-", with: "").prefix(16))
        name = "twofold_lp_\(suffix)"
        owner = "twofold_lp_\(suffix)_owner"
        app = "twofold_lp_\(suffix)_app"
        passwords = [owner: UUID().uuidString, app: UUID().uuidString]
    }

    /// Runs `body`, then closes its stores and drops the database and both roles.
    static func with<Result: Sendable>(_ body: (RolesDatabase) async throws -> Result) async throws -> Result {
        try server.require()
        try psql.require()
        let database = RolesDatabase(server: try PostgresURL(ProcessInfo.processInfo.environment[serverVariable] ?? ""))
        let result: Result
        do {
            result = try await body(database)
        } catch {
            try await database.drop()
            throw error
        }
        try await database.drop()
        return result
    }

    /// The URL of this database for `role`.
    func url(as role: String) -> String {
        var url = server
        url.username = role
        url.password = passwords[role]
        url.database = name
        var components = URLComponents()
        components.scheme = "postgres"
        components.user = url.username
        components.password = url.password
        components.host = url.host
        components.port = url.port
        components.path = "/" + url.database
        components.queryItems = [URLQueryItem(name: "sslmode", value: url.sslMode.rawValue)]
        return components.string!
    }

    /// Runs provisioning/postgres/create-roles.sh as the server's role, and checks the two
    /// URLs it prints.
    func createRoles() async throws {
        let script = TestEnvironment.repositoryRoot.appendingPathComponent("provisioning/postgres/create-roles.sh").path
        var environment = [
            "PGHOST": server.host, "PGPORT": String(server.port), "PGUSER": server.username, "PGDATABASE": server.database,
            "PGCONNECT_TIMEOUT": "10", "TWOFOLD_OWNER_PASSWORD": passwords[owner]!, "TWOFOLD_APP_PASSWORD": passwords[app]!,
            "TWOFOLD_DB_HOST": "\(server.host):\(server.port)",
        ]
        environment["PGPASSWORD"] = server.password
        let result = try await ExternalProcess.run("bash", [script, name, owner, app], environment: environment)
        try #require(result.status == 0, "create-roles.sh failed: \(result.standardError)")
        let lines = result.standardOutput.split(separator: "\n").map(String.init)
        let host = "\(server.host):\(server.port)"
        #expect(lines == [
            "TWOFOLD_STORE=postgres://\(owner):\(passwords[owner]!)@\(host)/\(name)",
            "TWOFOLD_STORE=postgres://\(app):\(passwords[app]!)@\(host)/\(name)",
        ])
    }

    /// The script, the owner's migrations, and the script again, as a deployment does.
    func migrateAsOwner() async throws {
        try await createRoles()
        #expect(try await store(as: owner).migrate() == PostgresMigration.all.map(\.version))
        try await createRoles()
    }

    /// A store as `role`, its pool running, not migrated. Closed when the test ends.
    func store(as role: String) async throws -> PostgresStore {
        let store = try await PostgresStore.connect(url: url(as: role), maximumConnections: 4, logger: Self.logger)
        stores.withLock { $0.append(store) }
        return store
    }

    /// Runs `sql` as `role` on a connection of its own: nil when it succeeds, else its SQLSTATE.
    func sqlState(of sql: String, as role: String) async throws -> String? {
        do {
            _ = try await rows(PostgresQuery(unsafeSQL: sql), as: role) { _ in () }
            return nil
        } catch let error as PSQLError {
            guard let state = error.serverInfo?[.sqlState] else { throw error }
            return state
        }
    }

    /// The rows of `query`, run as `role` on a connection of its own.
    func rows<Row: Sendable>(_ query: PostgresQuery, as role: String, _ decode: (PostgresRow) throws -> Row) async throws -> [Row] {
        let connection = try await PostgresConnection.connect(configuration: try PostgresURL(url(as: role)).connectionConfiguration(),
                                                              id: 1, logger: Self.logger)
        do {
            var rows: [Row] = []
            for try await row in try await connection.query(query, logger: Self.logger) {
                rows.append(try decode(row))
            }
            try await connection.close()
            return rows
        } catch {
            try await connection.close()
            throw error
        }
    }

    private func drop() async throws {
        for store in stores.withLock({ $0 }) {
            try await store.close()
        }
        let connection = try await PostgresConnection.connect(configuration: server.connectionConfiguration(), id: 1, logger: Self.logger)
        do {
            // FORCE ends connections left over; a busy autovacuum worker may delay the drop (42501).
            var attempt = 0
            while true {
                attempt += 1
                do {
                    _ = try await connection.query(PostgresQuery(unsafeSQL: "DROP DATABASE IF EXISTS \(name) WITH (FORCE)"), logger: Self.logger)
                        .collect()
                    break
                } catch let error as PSQLError where error.serverInfo?[.sqlState] == PostgresStore.insufficientPrivilege && attempt < 20 {
                    try await Task.sleep(for: .milliseconds(250))
                }
            }
            for role in [app, owner] {
                _ = try await connection.query(PostgresQuery(unsafeSQL: "DROP ROLE IF EXISTS \(role)"), logger: Self.logger).collect()
            }
        } catch {
            try await connection.close()
            throw error
        }
        try await connection.close()
    }
}
