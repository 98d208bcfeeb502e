import ArgumentParser

/// `twofold migrate`: creates or upgrades the store's schema, and says which migrations it applied.
struct MigrateCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "migrate",
        abstract: "Run the store's migrations (the server also runs them when it starts).",
        discussion: """
            Prints the versions of the migrations it applied ("applied 1, 2, 3"), or "already up to date"; \
            with --json, {"applied": [1, 2, 3]} (an empty list when there was nothing to do).
            """
    )

    @OptionGroup var config: ConfigOptions
    @OptionGroup var output: OutputOptions

    func run() async throws {
        // With `serve`, the one command that may create the store (and the development key).
        let applied = try await config.openRuntime(creating: true).use { try await $0.migrate() }
        try output.report(["applied": applied], text: Self.describe(applied))
    }

    /// "applied 1, 2, 3", or "already up to date" when nothing was applied.
    static func describe(_ applied: [Int]) -> String {
        applied.isEmpty ? "already up to date" : "applied " + applied.map(String.init).joined(separator: ", ")
    }
}
