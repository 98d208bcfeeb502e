import ArgumentParser
import Foundation
import TwofoldCore

/// `twofold tokens`: the application's pool of hardware OATH tokens.
struct TokensCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "tokens",
        abstract: "Import hardware OATH tokens and assign them to users.",
        subcommands: [TokensImportCommand.self, TokensListCommand.self, TokensAssignCommand.self, TokensUnassignCommand.self,
                      TokensDeleteCommand.self]
    )
}

struct TokensImportCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "import",
        abstract: "Import a vendor's token file into the pool: every token in it, or none.",
        discussion: """
            PSKC (RFC 6030) files may be plain, encrypted with a pre-shared key (the vendor sends it \
            separately: give it in hex with --psk-file) or with a password (--password-file); each file \
            holds the key or password and at most one trailing newline. A value \
            whose MAC does not hold refuses the whole file. CSV files hold one token per line: \
            serial, secret (hex, or Base32 with a base32: prefix), totp|hotp, digits, period or counter. \
            Nothing decrypted is printed.
            """
    )

    @Argument(help: "The token file.")
    var file: String

    @Option(help: "pskc or csv; by the file's extension (.csv is csv, anything else pskc) when left out.")
    var format: TokenFileFormat?

    @Option(help: ArgumentHelp("The pre-shared key in hex. It shows in the process list: prefer --psk-file.", valueName: "hex"))
    var psk: String?

    @Option(help: ArgumentHelp("A file holding the pre-shared key in hex (- for standard input).", valueName: "file"))
    var pskFile: String?

    @Option(help: ArgumentHelp("A file holding the password of a password-based PSKC file (- for standard input).", valueName: "file"))
    var passwordFile: String?

    @OptionGroup var application: ApplicationOption
    @OptionGroup var config: ConfigOptions
    @OptionGroup var output: OutputOptions

    func validate() throws {
        guard [psk != nil, pskFile != nil, passwordFile != nil].filter({ $0 }).count <= 1 else {
            throw ValidationError("give one of --psk, --psk-file and --password-file")
        }
    }

    func run() async throws {
        let format = self.format ?? (file.lowercased().hasSuffix(".csv") ? .csv : .pskc)
        let bytes = try Self.read(file, what: "token file")
        let secret: TokenFileSecret
        if psk != nil { OTPSecretInput.warnCommandLine("the pre-shared key", use: "--psk-file") }
        if let hex = try psk ?? pskFile.map({ try OTPSecretInput.read($0, option: "--psk-file") }) {
            secret = try .preSharedKey(hex: hex, field: psk == nil ? "--psk-file" : "--psk")
        } else if let passwordFile {
            secret = .password(try OTPSecretInput.read(passwordFile, option: "--password-file"))
        } else {
            secret = .none
        }
        let imported = try await config.withApplication(application.app) { services, app in
            try await services.hardwareTokens.importTokens(app.id, file: bytes, format: format, key: secret, actor: CLIActor.current)
        }
        try output.report(["tokens": imported.map(HardwareTokenJSON.init)], text: "imported \(imported.count) token\(imported.count == 1 ? "" : "s")")
    }

    /// The file's bytes, at most 16 MiB.
    static func read(_ path: String, what: String) throws -> [UInt8] {
        guard let handle = FileHandle(forReadingAtPath: path) else {
            throw CommandFailure("cannot read the \(what) \(Output.escaped(path))")
        }
        defer { try? handle.close() }
        let limit = 16 * 1024 * 1024
        guard let data = try handle.read(upToCount: limit + 1), data.count <= limit else {
            throw CommandFailure("the \(what) \(Output.escaped(path)) is empty or larger than 16 MiB")
        }
        return Array(data)
    }
}

extension TokenFileFormat: ExpressibleByArgument {}

struct TokensListCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "list", abstract: "List the pool's tokens (never a seed).")

    @Flag(help: "Only the tokens in the pool, not assigned to anyone.")
    var unassigned = false

    @OptionGroup var application: ApplicationOption
    @OptionGroup var config: ConfigOptions
    @OptionGroup var output: OutputOptions

    func run() async throws {
        let tokens = try await config.withApplication(application.app) { services, app in
            try await services.hardwareTokens.tokens(app.id, unassignedOnly: unassigned)
        }
        if output.json {
            try Output.json(["tokens": tokens.map(HardwareTokenJSON.init)])
        } else {
            Output.table(["SERIAL", "TYPE", "ALGORITHM", "DIGITS", "PERIOD/COUNTER", "MANUFACTURER", "USER", "ASSIGNED"], tokens.map {
                [Output.escaped($0.serial), $0.type.rawValue, $0.algorithm.rawValue, String($0.digits),
                 $0.type == .totp ? "\($0.period) s" : String($0.counter), $0.manufacturer.map(Output.escaped) ?? "-",
                 $0.userID.map { Output.escaped($0.rawValue) } ?? "-", Output.date($0.assignedAt)]
            }, empty: unassigned ? "no unassigned tokens" : "no tokens")
        }
    }
}

struct TokensAssignCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "assign", abstract: "Give a token to a user: it becomes an active TOTP or HOTP factor of theirs.")

    @Argument(help: "The token's serial.")
    var serial: String

    @Argument(help: "The user id.")
    var user: String

    @OptionGroup var application: ApplicationOption
    @OptionGroup var config: ConfigOptions
    @OptionGroup var output: OutputOptions

    func run() async throws {
        let userID = try parseUserID(user)
        let factor = try await config.withApplication(application.app) { services, app in
            try await services.hardwareTokens.assign(app.id, serial: serial, to: userID, actor: CLIActor.current)
        }
        try output.report(["factor": FactorJSON(factor)],
                          text: "assigned token \(Output.escaped(serial)) to \(Output.escaped(userID.rawValue)) as factor \(factor.id)")
    }
}

struct TokensUnassignCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "unassign", abstract: "Hand a token back to the pool, deleting the user's factor.")

    @Argument(help: "The token's serial.")
    var serial: String

    @OptionGroup var application: ApplicationOption
    @OptionGroup var confirmation: ConfirmationOption
    @OptionGroup var config: ConfigOptions
    @OptionGroup var output: OutputOptions

    func run() async throws {
        try confirmation.confirm("Hand token \(Output.escaped(serial)) back to the pool, deleting its user's factor?")
        try await config.withApplication(application.app) { services, app in
            try await services.hardwareTokens.unassign(app.id, serial: serial, actor: CLIActor.current)
        }
        try output.report(["unassigned": serial], text: "token \(Output.escaped(serial)) is back in the pool")
    }
}

struct TokensDeleteCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "delete", abstract: "Delete a token from the pool, and its factor when it is assigned.")

    @Argument(help: "The token's serial.")
    var serial: String

    @OptionGroup var application: ApplicationOption
    @OptionGroup var confirmation: ConfirmationOption
    @OptionGroup var config: ConfigOptions
    @OptionGroup var output: OutputOptions

    func run() async throws {
        try confirmation.confirm("Delete token \(Output.escaped(serial))?")
        try await config.withApplication(application.app) { services, app in
            try await services.hardwareTokens.delete(app.id, serial: serial, actor: CLIActor.current)
        }
        try output.report(["deleted": serial], text: "deleted token \(Output.escaped(serial))")
    }
}
