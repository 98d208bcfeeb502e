import ArgumentParser
import Foundation
import TwofoldCore
import TwofoldServer

/// `twofold keys`: master keys — generate, rotate, and see what each still wraps.
struct KeysCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "keys",
        abstract: "Generate master keys, rotate to a new one, and show key usage.",
        discussion: """
            To rotate: generate a new key file, put it FIRST in TWOFOLD_MASTER_KEY_FILE (keep the old \
            one after it) on every node and restart them, then run `twofold keys rotate`. When \
            `twofold keys status` shows the old key wraps nothing, remove it from the list.
            """,
        subcommands: [KeysGenerateCommand.self, KeysRotateCommand.self, KeysStatusCommand.self]
    )
}

struct KeysGenerateCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "generate", abstract: "Write a new random master key to FILE (mode 0600).")

    @Argument(help: "Where to write the key.")
    var file: String

    @Flag(help: "Overwrite an existing file.")
    var force = false

    @OptionGroup var output: OutputOptions

    func run() async throws {
        let key = MasterKey.generate()
        do {
            try PrivateFile.create(file, contents: key.fileContents, replacing: force)
        } catch let error as POSIXError where error.code == .EEXIST {
            throw CommandFailure("refusing to overwrite \(file) without --force: it exists, and a lost master key loses every secret it wraps")
        } catch let error as POSIXError {
            throw CommandFailure("cannot create \(file): \(String(cString: strerror(error.code.rawValue)))")
        }
        try output.report(["file": file, "key_id": key.id], text: "wrote master key \(key.id) to \(file)")
    }
}

struct KeysRotateCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "rotate",
        abstract: "Re-wrap every data key under the first key of TWOFOLD_MASTER_KEY_FILE; safe while servers run."
    )

    @OptionGroup var config: ConfigOptions
    @OptionGroup var output: OutputOptions

    func run() async throws {
        let report = try await config.openRuntime().use { try await $0.services.keyRotation.rotateKeys(actor: CLIActor.current) }
        if output.json {
            try Output.json(RotationJSON(keyId: report.sealingKeyID, rewrapped: report.rewrapped))
        } else if report.rewrapped == 0 {
            print("nothing to do: every key is already wrapped by \(report.sealingKeyID)")
        } else {
            print("re-wrapped \(Output.count(report.rewrapped, "key")) under \(report.sealingKeyID)")
        }
    }
}

struct RotationJSON: Encodable {
    let keyId: String
    let rewrapped: Int
}

struct KeysStatusCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "status", abstract: "How many keys each master key id still wraps.")

    @OptionGroup var config: ConfigOptions
    @OptionGroup var output: OutputOptions

    func run() async throws {
        let (usage, held) = try await config.openRuntime().use { runtime in
            (try await runtime.services.keyRotation.keyUsage(), runtime.services.keyRotation.keyIDs)
        }
        let ids = (held + usage.keys.filter { !held.contains($0) }.sorted())
        if output.json {
            try Output.json(["keys": ids.map { KeyRow(keyId: $0, wraps: usage[$0] ?? 0, held: held.contains($0), sealing: $0 == held.first) }])
        } else {
            Output.table(["KEY", "WRAPS", "HELD", "SEALS"], ids.map {
                [$0, String(usage[$0] ?? 0), held.contains($0) ? "yes" : "no", $0 == held.first ? "yes" : ""]
            })
        }
    }

    struct KeyRow: Encodable {
        let keyId: String
        let wraps: Int
        let held: Bool
        let sealing: Bool
    }
}
