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

struct AuditTailCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "tail",
        abstract: "Show the newest audit events, newest first, as GET /v1/audit lists them.",
        discussion: """
            With --json, one page in the API's shape: {"events": [...], "next": ...}; pass `next` \
            as --before for the page of older events. --follow shows the events oldest first and \
            then each new one as it is recorded, until interrupted (JSON Lines with --json).
            """
    )

    @Option(help: "Only events about this user (in --app, default: default).")
    var user: String?

    @Option(help: "Only this application's events (default: every application's, or default with --user).")
    var app: String?

    @Option(help: "How many events to show, 1 to 10000 (with --follow, before the new ones).")
    var limit: Int = 20

    @Option(help: ArgumentHelp("Only events older than this one: the `next` of a previous page.", valueName: "evt_…"))
    var before: String?

    @Flag(help: "Keep printing new events until interrupted.")
    var follow = false

    @OptionGroup var config: ConfigOptions
    @OptionGroup var output: OutputOptions

    static let header = ["TIME", "APPLICATION", "USER", "ACTION", "OUTCOME", "ACTOR"]

    func validate() throws {
        guard (1...10_000).contains(limit) else { throw ValidationError("--limit must be 1 to 10000") }
        if let before {
            guard before.hasPrefix("evt_"), before.utf8.count == 62 else {
                throw ValidationError("--before must be the `next` value of a previous page (evt_…)")
            }
            guard !follow else { throw ValidationError("--before pages back through older events; --follow shows new ones: give one of them") }
        }
    }

    func run() async throws {
        let userID = try user.map(parseUserID)
        try await config.openRuntime().use { runtime in
            let services = runtime.services
            let applications = try await services.applications.applications()
            let names = Dictionary(uniqueKeysWithValues: applications.map { ($0.id.rawValue, $0.name) })
            var applicationID: ApplicationID?
            if let name = app ?? (userID == nil ? nil : "default") {
                applicationID = try await services.applications.application(named: name).id
            }
            var beforeID: Int64?
            if let before {
                guard let id = services.audit.ids.id(before) else {
                    throw CommandFailure("--before \(Output.escaped(before)) is not the id of an event of this deployment: give the `next` of a previous page")
                }
                beforeID = id
            }
            let query = AuditQuery(applicationID: applicationID, userID: userID, beforeID: beforeID, limit: limit)
            let page = try await services.audit.auditEvents(query)
            guard follow else {
                if output.json {
                    try Output.json(AuditPageJSON(page, limit: limit, ids: services.audit.ids))
                } else {
                    Output.table(Self.header, page.map { Self.row($0, names: names) }, empty: "no events")
                }
                return
            }
            try await followEvents(after: page, query: query, services: services, names: names,
                                   userWidth: user?.count ?? 0, applicationWidth: applications.map(\.name.count).max() ?? 0)
        }
    }

    /// Prints `first` oldest first, then every new event as it is recorded, until interrupted.
    private func followEvents(after first: [AuditEvent], query: AuditQuery, services: TwofoldServices, names: [String: String],
                              userWidth: Int, applicationWidth: Int) async throws {
        var names = names
        // Room for what is still to come: a whole-second time, the longest action and outcome
        // Twofold writes ("recovery_codes.generated", "deny (invalid_code)"), user ids of a usual
        // length. A longer cell widens its column from then on.
        var table = Output.Table(header: Self.header, minimumWidths: [20, applicationWidth, max(userWidth, 24), 24, 19])
        var headerPrinted = false
        func show(_ events: some Sequence<AuditEvent>) throws {
            for event in events {
                if output.json {
                    try Output.json(AuditEventJSON(event, ids: services.audit.ids))
                    continue
                }
                if !headerPrinted {
                    table.printHeader()
                    headerPrinted = true
                }
                table.printRow(Self.row(event, names: names))
            }
            fflush(nil)
        }
        if !output.json {
            table.fit(first.map { Self.row($0, names: names) })
            if first.isEmpty { print("no events") }
        }
        try show(first.reversed())
        // By shard and sequence, not by id: an event may commit after one with a higher id.
        var cursor = AuditFollowCursor()
        cursor.mark(first)
        while !Task.isCancelled {
            try await Task.sleep(for: .seconds(1))
            var page = query
            page.limit = 1_000
            var unseen: [AuditEvent] = []
            while true {
                let events = try await services.audit.auditEvents(page)
                let fresh = events.filter(cursor.isFresh)
                unseen += fresh
                // Newest first: once a full page holds nothing new, older pages hold nothing new either.
                guard events.count == page.limit, !fresh.isEmpty, let oldest = events.last else { break }
                page.beforeID = oldest.id
            }
            let fresh = cursor.take(unseen)
            // An application created since: its name, rather than its id.
            if fresh.contains(where: { $0.applicationID.map { names[$0] == nil } ?? false }) {
                names = Dictionary(uniqueKeysWithValues: try await services.applications.applications().map { ($0.id.rawValue, $0.name) })
            }
            try show(fresh)
        }
    }

    /// TIME, APPLICATION (its name), USER (the id, or the pseudonym after erasure), ACTION,
    /// OUTCOME (with the reason), ACTOR.
    static func row(_ event: AuditEvent, names: [String: String]) -> [String] {
        [Output.date(event.time), event.applicationID.map { names[$0] ?? $0 } ?? "-", event.userID ?? event.userReference ?? "-",
         event.action, event.outcome + (event.reason.map { " (\($0))" } ?? ""), event.actor]
    }
}

struct AuditVerifyCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "verify",
        abstract: "Recompute every audit event's MAC; exit 1 and pinpoint any edited, inserted or deleted event.",
        discussion: """
            Each verification that finds the log intact keeps the shard heads it read in an anchor \
            file outside the database (audit-anchor.json in the data folder, or --anchor FILE). The \
            next verification compares the database with it: a database rolled back since (restored \
            from an older copy, a head put back) fails with kind rolled_back, even when the older \
            copy is complete and verifies on its own. Keep the file where whoever can write the \
            database cannot; a deleted anchor is not detected (the next verification starts anew).
            """
    )

    @Option(help: ArgumentHelp("The anchor file to compare with and update (default: audit-anchor.json in TWOFOLD_DATA_DIR).", valueName: "file"))
    var anchor: String?

    @OptionGroup var config: ConfigOptions
    @OptionGroup var output: OutputOptions

    struct Report: Encodable {
        let intact: Bool
        let eventsChecked: Int
        let shardsChecked: Int
        let problems: [Problem]
        /// The anchor compared with (`null` when there was none yet) and whether it was updated.
        let anchor: AnchorReport
    }

    struct AnchorReport: Encodable {
        let file: String
        let comparedWith: String?
        let updated: Bool

        enum CodingKeys: String, CodingKey {
            case file, updated
            case comparedWith = "compared_with"
        }

        func encode(to encoder: any Encoder) throws {
            var container = encoder.container(keyedBy: CodingKeys.self)
            try container.encode(file, forKey: .file)
            if let comparedWith { try container.encode(comparedWith, forKey: .comparedWith) } else { try container.encodeNil(forKey: .comparedWith) }
            try container.encode(updated, forKey: .updated)
        }
    }

    /// A place where the log does not verify; `event_id` is `null` for a shard's head.
    struct Problem: Encodable {
        let kind: String
        let shard: Int
        let sequence: Int64
        let eventId: Int64?
        let message: String

        enum CodingKeys: String, CodingKey {
            case kind, shard, sequence, message
            case eventId = "event_id"
        }

        func encode(to encoder: any Encoder) throws {
            var container = encoder.container(keyedBy: CodingKeys.self)
            try container.encode(kind, forKey: .kind)
            try container.encode(shard, forKey: .shard)
            try container.encode(sequence, forKey: .sequence)
            if let eventId { try container.encode(eventId, forKey: .eventId) } else { try container.encodeNil(forKey: .eventId) }
            try container.encode(message, forKey: .message)
        }
    }

    func run() async throws {
        let configuration = try config.loadConfiguration()
        let file = anchor ?? TwofoldConfiguration.join(configuration.dataDirectory, "audit-anchor.json")
        let stored = try Self.readAnchor(file)
        let (result, compared) = try await config.openRuntime(configuration).use { runtime in
            let audit = runtime.services.audit
            var compared: AuditAnchor?
            if let stored {
                do throws(TwofoldError) {
                    compared = try audit.anchor(parsing: stored)
                } catch {
                    throw CommandFailure("\(file): \(error.message); the log is not checked against it, and it is left as it is")
                }
            }
            return (try await audit.verifyAudit(against: compared), compared)
        }
        // Only an intact log moves the anchor on: after a problem, the next run still compares
        // with the last state known to be good.
        if result.isIntact {
            do {
                try PrivateFile.replaceAtomically(file, bytes: Array(result.anchor.text().utf8))
            } catch {
                throw CommandFailure("the audit log is intact, but the anchor could not be written to \(file): \(error)")
            }
        }
        let report = Report(intact: result.isIntact, eventsChecked: result.eventsChecked, shardsChecked: result.shardsChecked,
                            problems: result.problems.map { Problem(kind: $0.kind.rawValue, shard: $0.shard, sequence: $0.sequence, eventId: $0.eventID, message: $0.message) },
                            anchor: AnchorReport(file: file, comparedWith: compared.map { Timestamp.text($0.verifiedAt) }, updated: result.isIntact))
        if output.json {
            try Output.json(report)
        } else if result.isIntact {
            print("audit log intact: \(Output.count(result.eventsChecked, "event")) in \(Output.count(result.shardsChecked, "chain")) verified")
            if let compared {
                print("no rollback since the verification of \(Output.date(compared.verifiedAt)); anchor updated: \(Output.escaped(file))")
            } else {
                print("no anchor yet: rollbacks are detected from the next verification on; anchor written: \(Output.escaped(file))")
            }
        } else {
            for problem in result.problems { print("\(problem.kind.rawValue): \(problem.message)") }
        }
        if !result.isIntact {
            throw CommandFailure("the audit log does not verify: \(Output.count(result.problems.count, "problem"))")
        }
    }

    /// The anchor file's bytes, `nil` when there is none yet.
    static func readAnchor(_ file: String) throws -> Data? {
        guard FileManager.default.fileExists(atPath: file) else { return nil }
        do {
            return try Data(contentsOf: URL(fileURLWithPath: file))
        } catch {
            throw CommandFailure("cannot read the audit anchor \(file): \(error.localizedDescription)")
        }
    }
}

struct AuditPurgeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "purge",
        abstract: "Delete audit events older than a duration (e.g. 90d), keeping the chains verifiable.",
        discussion: """
            An age below TWOFOLD_AUDIT_MIN_RETENTION (default 1d) is refused (exit status 2), so \
            that a slip such as 90m for 90d cannot erase the recent events. Asks for confirmation \
            on a terminal; without one, refuses unless --yes.
            """
    )

    @Option(name: .customLong("older-than"), help: ArgumentHelp("Age like 90d, 12h, 30m, 45s; at least TWOFOLD_AUDIT_MIN_RETENTION (default 1d).", valueName: "duration"))
    var olderThan: String

    @OptionGroup var confirmation: ConfirmationOption
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
        let configuration = try config.loadConfiguration()
        try Self.checkRetention(age, olderThan: olderThan, configuration: configuration)
        try confirmation.confirm("Delete every audit event older than \(olderThan) (recorded before \(Output.date(Date().addingTimeInterval(-age))))? This cannot be undone.")
        let deleted = try await config.openRuntime(configuration).use {
            try await $0.services.audit.purgeAudit(olderThan: age, actor: CLIActor.current)
        }
        try output.report(["deleted": deleted], text: "deleted \(Output.count(deleted, "audit event")) older than \(olderThan)")
    }

    /// Refuses an age below the configured minimum retention, naming the setting and where its
    /// value came from, before anything is asked or opened.
    static func checkRetention(_ age: TimeInterval, olderThan: String, configuration: TwofoldConfiguration) throws {
        let minimum = configuration.auditMinimumRetention
        guard age < minimum else { return }
        let setting = "TWOFOLD_AUDIT_MIN_RETENTION"
        throw ValidationError(
            "--older-than \(olderThan) is below the minimum retention of \(DurationText.format(minimum)) "
                + "(\(setting), from \(configuration.origin(of: setting))): give at least \(DurationText.format(minimum)), "
                + "or lower \(setting) (1h at the least) where the server's settings are")
    }
}
