import ArgumentParser
import Foundation
import TwofoldCore
import TwofoldServer

/// `twofold audit`: read, verify and purge the tamper-evident audit log.
struct AuditCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "audit",
        abstract: "Show, verify and purge the audit log.",
        subcommands: [AuditTailCommand.self, AuditVerifyCommand.self, AuditPurgeCommand.self]
    )
}

struct AuditEventJSON: Encodable {
    let id: Int64
    let time: Date
    let application: String?
    let userId: String?
    let userRef: String?
    let actor: String
    let action: String
    let outcome: String
    let reason: String?
    let factorId: String?
    let details: String

    init(_ event: AuditEvent, applications: [String: String]) {
        id = event.id
        time = event.time
        application = event.applicationID.map { applications[$0] ?? $0 }
        userId = event.userID
        userRef = event.userReference
        actor = event.actor
        action = event.action
        outcome = event.outcome
        reason = event.reason
        factorId = event.factorID
        details = event.details
    }

    var row: [String] {
        [Output.date(time), application ?? "-", userId ?? userRef ?? "-", action, outcome + (reason.map { " (\($0))" } ?? ""), actor]
    }
}

struct AuditTailCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "tail",
        abstract: "Show the newest audit events; --follow keeps printing new ones (JSON Lines with --json)."
    )

    @Option(help: "Only events about this user (in --app).")
    var user: String?

    @Option(help: "Application for --user.")
    var app: String = "default"

    @Option(help: "How many events to show first.")
    var limit: Int = 20

    @Flag(help: "Keep printing new events until interrupted.")
    var follow = false

    @OptionGroup var config: ConfigOptions
    @OptionGroup var output: OutputOptions

    func validate() throws {
        guard (1...10_000).contains(limit) else { throw ValidationError("--limit must be 1 to 10000") }
    }

    func run() async throws {
        let userID = try user.map(parseUserID)
        let runtime = try await config.openRuntime()
        try await runtime.use { runtime in
            let names = Dictionary(uniqueKeysWithValues: try await runtime.services.applications.applications().map { ($0.id.rawValue, $0.name) })
            let appID = userID == nil ? nil : try await runtime.services.applications.application(named: app).id
            let query = AuditQuery(applicationID: appID, userID: userID, limit: limit)
            let first = try await runtime.services.audit.auditEvents(query).reversed().map { AuditEventJSON($0, applications: names) }
            let header = ["TIME", "APPLICATION", "USER", "ACTION", "OUTCOME", "ACTOR"]
            if output.json {
                if follow {
                    for event in first { try Output.json(event, pretty: false) }
                } else {
                    try Output.json(["events": first])
                }
            } else {
                Output.table(header, first.map(\.row))
            }
            guard follow else { return }
            var lastID = first.last?.id ?? 0
            while !Task.isCancelled {
                try await Task.sleep(for: .seconds(1))
                var page = AuditQuery(applicationID: appID, userID: userID, limit: 1_000)
                var fresh: [AuditEvent] = []
                while true {
                    let events = try await runtime.services.audit.auditEvents(page).filter { $0.id > lastID }
                    fresh += events
                    guard events.count == page.limit, let oldest = events.last else { break }
                    page.beforeID = oldest.id
                }
                for event in fresh.sorted(by: { $0.id < $1.id }) {
                    let json = AuditEventJSON(event, applications: names)
                    if output.json { try Output.json(json, pretty: false) } else { print(json.row.joined(separator: "  ")) }
                    lastID = max(lastID, event.id)
                }
                fflush(nil)
            }
        }
    }
}

struct AuditVerifyCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "verify",
        abstract: "Recompute every audit event's MAC; exit 1 and pinpoint any edited, inserted or deleted event."
    )

    @OptionGroup var config: ConfigOptions
    @OptionGroup var output: OutputOptions

    struct Report: Encodable {
        let intact: Bool
        let eventsChecked: Int
        let shardsChecked: Int
        let problems: [Problem]
    }

    struct Problem: Encodable {
        let kind: String
        let shard: Int
        let sequence: Int64
        let eventId: Int64?
        let message: String
    }

    func run() async throws {
        let result = try await config.openRuntime().use { try await $0.services.audit.verifyAudit() }
        let report = Report(intact: result.isIntact, eventsChecked: result.eventsChecked, shardsChecked: result.shardsChecked,
                            problems: result.problems.map { Problem(kind: $0.kind.rawValue, shard: $0.shard, sequence: $0.sequence, eventId: $0.eventID, message: $0.message) })
        if output.json {
            try Output.json(report)
        } else if result.isIntact {
            print("audit log intact: \(result.eventsChecked) events in \(result.shardsChecked) chains verified")
        } else {
            for problem in result.problems { print("\(problem.kind.rawValue): \(problem.message)") }
        }
        if !result.isIntact {
            throw CommandFailure("the audit log does not verify: \(result.problems.count) problem(s)")
        }
    }
}

struct AuditPurgeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "purge",
        abstract: "Delete audit events older than a duration (e.g. 90d), keeping the chains verifiable."
    )

    @Option(name: .customLong("older-than"), help: ArgumentHelp("Age like 90d, 12h, 30m, 45s.", valueName: "duration"))
    var olderThan: String

    @OptionGroup var config: ConfigOptions
    @OptionGroup var output: OutputOptions

    func validate() throws {
        do {
            _ = try DurationText.parse(olderThan)
        } catch {
            throw ValidationError("--older-than: \(error.message)")
        }
    }

    func run() async throws {
        let age = try DurationText.parse(olderThan)
        let deleted = try await config.openRuntime().use { try await $0.services.audit.purgeAudit(olderThan: age, actor: CLIActor.current) }
        try output.report(["deleted": deleted], text: "deleted \(deleted) audit event(s) older than \(olderThan)")
    }
}

/// `twofold migrate`: creates or upgrades the store's schema.
struct MigrateCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "migrate",
        abstract: "Run the store's migrations (the server also runs them when it starts)."
    )

    @OptionGroup var config: ConfigOptions
    @OptionGroup var output: OutputOptions

    func run() async throws {
        try await config.openRuntime().use { try await $0.migrate() }
        try output.report(["migrated": true], text: "the store is up to date")
    }
}
