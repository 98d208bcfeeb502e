import ArgumentParser
import Crypto
import Foundation
import TwofoldCore
import TwofoldDelivery
import TwofoldServer

/// `twofold device`: a push authenticator for the terminal, speaking only the public device API.
struct DeviceCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "device",
        abstract: "A push authenticator for the terminal: activate it, then approve or deny sign-ins.",
        discussion: """
            The device's key and id live in the device file: --device-file, else \
            TWOFOLD_DEVICE_FILE, else ~/.config/twofold/device.json. Anyone who can read it can \
            approve sign-ins: it is created readable by its owner only.
            """,
        subcommands: [DeviceActivateCommand.self, DevicePendingCommand.self, DeviceApproveCommand.self,
                      DeviceDenyCommand.self, DeviceWatchCommand.self]
    )
}

struct DeviceActivateCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "activate",
        abstract: "Activate this device with the URI of a push factor's enrollment, and write the device file.",
        discussion: """
            Generates a P-256 key, sends its public half with the URI's one-time token, and \
            writes the server's URL, the device id and the private key to the device file (mode \
            0600). Exit status 1 when the server refuses (a used or expired token) or the device \
            file exists and --force is not given.
            """
    )

    @Argument(help: ArgumentHelp("The activation URI (twofold://activate?url=…&token=…).", valueName: "uri"))
    var uri: String?

    @Option(help: ArgumentHelp("Read the URI from a file, or - for standard input, rather than the command line.", valueName: "file"))
    var uriFile: String?

    @Flag(help: "Replace an existing device file: the device it held can no longer answer.")
    var force = false

    @OptionGroup var device: DeviceFileOption
    @OptionGroup var output: OutputOptions

    func validate() throws {
        switch (uri, uriFile) {
        case (nil, nil): throw ValidationError("give the activation URI, or --uri-file FILE")
        case (.some, .some): throw ValidationError("give the activation URI or --uri-file, not both")
        case (.some(let text), nil): _ = try DeviceFileOption.parse(text)
        case (nil, .some): break
        }
    }

    func run() async throws {
        let activation: DeviceActivationURI
        if let uriFile {
            activation = try DeviceFileOption.parse(try OTPSecretInput.read(uriFile, option: "--uri-file"))
        } else {
            OTPSecretInput.warnCommandLine("the activation URI", use: "--uri-file")
            activation = try DeviceFileOption.parse(uri ?? "")
        }
        let path = try device.path(creatingFolder: true)
        // The token works once: nothing may stop the device file from being written after the
        // server took it, so what can be checked is checked first.
        var info = stat()
        if lstat(path, &info) == 0 {
            if !force {
                throw CommandFailure("refusing to overwrite \(path) without --force: it holds a device already, and replacing it loses that device")
            }
            if info.st_mode & S_IFMT == S_IFDIR {
                throw ConfigurationFailure("the device file \(path) is a folder")
            }
        }
        let folder = (path as NSString).deletingLastPathComponent
        guard access(folder.isEmpty ? "." : folder, W_OK | X_OK) == 0 else {
            throw ConfigurationFailure("cannot write the device file in \(folder.isEmpty ? "." : folder): \(String(cString: strerror(errno)))")
        }
        if let warning = Self.transportWarning(activation.serverURL) { StandardError.write(warning) }

        let key = P256.Signing.PrivateKey()
        let deviceID = try await DeviceFileOption.mapFailures { try await DeviceClient.activate(uri: activation, key: key) }
        let contents = DeviceFileContents(serverURL: activation.serverURL, deviceID: deviceID, privateKey: key.pemRepresentation)
        do {
            try PrivateFile.create(path, bytes: Array(try Output.jsonLine(contents)), replacing: force)
        } catch {
            let reason = (error as? POSIXError).map { String(cString: strerror($0.code.rawValue)) } ?? String(describing: error)
            throw CommandFailure("the device was activated as \(deviceID), but \(path) cannot be written (\(reason)): remove the push factor and enroll it again")
        }
        try output.report(ActivationReport(deviceId: deviceID.rawValue, serverUrl: activation.serverURL, deviceFile: path),
                          text: "activated device \(deviceID) with \(Output.escaped(activation.serverURL)); wrote \(path)")
    }

    /// A warning for a server reached over plain HTTP on another machine: requests are signed,
    /// but what the device is shown (which application, from where) could be rewritten on the way.
    static func transportWarning(_ serverURL: String) -> String? {
        guard let components = URLComponents(string: serverURL), components.scheme?.lowercased() == "http",
              let host = components.host?.lowercased(),
              !(host == "localhost" || host.hasPrefix("127.") || host == "::1" || host == "[::1]") else { return nil }
        return "Warning: \(Output.escaped(serverURL)) is plain HTTP: anyone on the way can change what this device is shown about a sign-in; use https"
    }

    struct ActivationReport: Encodable {
        let deviceId: String
        let serverUrl: String
        let deviceFile: String
    }
}

struct DevicePendingCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "pending",
        abstract: "The sign-ins waiting for this device's answer."
    )

    @OptionGroup var device: DeviceFileOption
    @OptionGroup var output: OutputOptions

    func run() async throws {
        let challenges = try await device.withClient { try await $0.pending() }
        if output.json {
            try Output.json(PendingJSON(challenges: challenges))
            return
        }
        Output.table(["ID", "APP", "FROM", "BROWSER", "EXPIRES", "NUMBER"], challenges.map {
            [$0.id.rawValue, DeviceText.application($0), DeviceText.origin($0.context) ?? "-",
             $0.context.userAgent.map(Output.escaped) ?? "-", Output.date($0.expiresAt), $0.numberRequired ? "asked" : "-"]
        }, empty: "no sign-in is waiting")
    }

    /// The device API's shape: `{"challenges": [...]}`.
    struct PendingJSON: Encodable {
        let challenges: [DeviceClient.Challenge]
    }
}

struct DeviceApproveCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "approve",
        abstract: "Approve a sign-in.",
        discussion: """
            When the sign-in asks for a number, give the one its screen shows with --number; \
            without it nothing is sent (exit status 2). Exit status 1 when the server denies the \
            approval (a wrong number) or the sign-in no longer waits.
            """
    )

    @Argument(help: "The challenge id (chl_…).")
    var id: String

    @Option(help: "The number the sign-in screen shows.")
    var number: Int?

    @OptionGroup var device: DeviceFileOption
    @OptionGroup var output: OutputOptions

    func validate() throws {
        _ = try DeviceFileOption.challengeID(id)
        if let number, number < 0 {
            throw ValidationError("--number must not be negative: the sign-in screen shows a number of digits")
        }
    }

    func run() async throws {
        let challengeID = try DeviceFileOption.challengeID(id)
        let answer = try await device.withClient { client in
            let challenge = try await client.challenge(challengeID)
            guard challenge.status == "pending" else {
                let reason = challenge.reason.map { " (\(Output.escaped($0)))" } ?? ""
                throw CommandFailure("\(challengeID) is \(Output.escaped(challenge.status))\(reason) already: there is nothing to approve")
            }
            if challenge.numberRequired, number == nil {
                throw ValidationError("the sign-in to \(DeviceText.application(challenge)) asks for the number its screen shows: give it with --number")
            }
            let answer = try await client.answer(challengeID, decision: .approve, number: challenge.numberRequired ? number : nil)
            return answer
        }
        try DeviceText.report(answer, challengeID, approving: true, json: output.json)
    }
}

struct DeviceDenyCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "deny",
        abstract: "Deny a sign-in; with --fraud, report that it was not you.",
        discussion: "Exit status 1 when the sign-in no longer waits."
    )

    @Argument(help: "The challenge id (chl_…).")
    var id: String

    @Flag(help: "It was not you: the server refuses further push sign-ins to this device for a while.")
    var fraud = false

    @OptionGroup var device: DeviceFileOption
    @OptionGroup var output: OutputOptions

    func validate() throws {
        _ = try DeviceFileOption.challengeID(id)
    }

    func run() async throws {
        let challengeID = try DeviceFileOption.challengeID(id)
        let answer = try await device.withClient { try await $0.answer(challengeID, decision: .deny, fraud: fraud) }
        try DeviceText.report(answer, challengeID, approving: false, json: output.json)
    }
}

struct DeviceWatchCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "watch",
        abstract: "Wait for sign-ins and ask about each on the terminal.",
        discussion: """
            Polls the server, and for each new sign-in asks "Approve sign-in to APP from \
            ADDRESS? [y]es/[n]o/[f]raud", then the number if the sign-in asks for one. Answers \
            are read line by line from standard input, so they can be piped; on a terminal, \
            lines typed while nothing is asked are ignored. Stops at the end of standard input \
            (exit status 0), after using the answers it holds; exit status 1 when the server \
            refuses the device.
            """
    )

    @Option(help: ArgumentHelp("Seconds between polls.", valueName: "seconds"))
    var interval: Double = 2

    @OptionGroup var device: DeviceFileOption

    func validate() throws {
        guard interval.isFinite, (0.1...3600).contains(interval) else {
            throw ValidationError("--interval must be between 0.1 and 3600 seconds")
        }
    }

    func run() async throws {
        let client = try device.client()
        do {
            try await watch(client)
            try await client.shutdown()
        } catch {
            try? await client.shutdown()
            throw error
        }
    }

    private func watch(_ client: DeviceClient) async throws {
        var input = WatchInput.standardInput()
        var answered: Set<ChallengeID> = []
        var failing = false
        while true {
            let challenges: [DeviceClient.Challenge]
            do throws(DeviceClient.Failure) {
                challenges = try await client.pending()
                if failing { StandardError.write("the server answers again") }
                failing = false
            } catch where error.isTransient {
                if !failing { StandardError.write("Warning: \(Output.escaped(error.message)); trying again every \(DeviceText.seconds(interval)) s") }
                failing = true
                challenges = []
            } catch {
                throw DeviceFileOption.commandError(error)
            }
            for challenge in challenges where challenge.status == "pending" && !answered.contains(challenge.id) {
                guard let decision = await ask(challenge, &input) else { return }
                do throws(DeviceClient.Failure) {
                    let answer = try await client.answer(challenge.id, decision: decision.decision, number: decision.number,
                                                         fraud: decision.fraud)
                    answered.insert(challenge.id)
                    say(DeviceText.outcome(answer, challenge.id))
                } catch where error.code == .refused && [404, 409].contains(error.status) {
                    answered.insert(challenge.id)
                    say("\(challenge.id) no longer waits: \(Output.escaped(error.serverMessage ?? error.message))")
                } catch where error.isTransient {
                    // Asked again at the next poll, if it still waits.
                    StandardError.write("Warning: the answer was not delivered: \(Output.escaped(error.message))")
                } catch {
                    throw DeviceFileOption.commandError(error)
                }
            }
            guard await input.idle(for: .milliseconds(Int64(interval * 1000))) else { return }
        }
    }

    private struct Choice {
        var decision: DeviceClient.Decision
        var number: Int?
        var fraud: Bool
    }

    /// Asks about one sign-in; `nil` at the end of standard input.
    private func ask(_ challenge: DeviceClient.Challenge, _ input: inout WatchInput) async -> Choice? {
        let application = DeviceText.application(challenge)
        let origin = DeviceText.origin(challenge.context)
        var lines = ["sign-in \(challenge.id) to \(application)"]
        if let origin { lines.append("  from \(origin)") }
        if let agent = challenge.context.userAgent { lines.append("  browser \(Output.escaped(agent))") }
        lines.append("  expires \(Output.date(challenge.expiresAt))")
        say(lines.joined(separator: "\n"))
        var choice: Choice
        while true {
            prompt("Approve sign-in to \(application)\(origin.map { " from \($0)" } ?? "")? [y]es/[n]o/[f]raud ")
            guard let line = await input.nextLine() else { return nil }
            switch line.trimmingCharacters(in: .whitespaces).lowercased() {
            case "y", "yes": choice = Choice(decision: .approve, fraud: false)
            case "n", "no": choice = Choice(decision: .deny, fraud: false)
            case "f", "fraud": choice = Choice(decision: .deny, fraud: true)
            default:
                say("answer y, n or f")
                continue
            }
            break
        }
        guard choice.decision == .approve, challenge.numberRequired else { return choice }
        while true {
            prompt("Number shown on the sign-in screen: ")
            guard let line = await input.nextLine() else { return nil }
            let text = line.trimmingCharacters(in: .whitespaces)
            if let number = Int(text), number >= 0, text.utf8.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }) {
                choice.number = number
                return choice
            }
            say("type the digits the sign-in screen shows")
        }
    }

    private func say(_ text: String) {
        print(text)
        fflush(nil)
    }

    private func prompt(_ text: String) {
        print(text, terminator: "")
        fflush(nil)
    }
}

/// Standard input as `watch` reads it: lines, the end, and the ticks of its poll timer, in the
/// order they happen.
struct WatchInput {
    private enum Event: Sendable {
        case line(String)
        case end
        case tick(Int)
    }

    private let sink: AsyncStream<Event>.Continuation
    private var events: AsyncStream<Event>.Iterator
    /// Piped lines not used yet: answers for sign-ins still to come.
    private var queued: [String] = []
    private var ended = false
    private var generation = 0
    /// On a terminal, a line typed while nothing is asked is dropped: a stray `y` must not
    /// approve the next sign-in. Elsewhere, each answer is echoed after its question, so that
    /// the output reads as a transcript.
    let interactive: Bool

    private init(interactive: Bool) {
        let (stream, sink) = AsyncStream.makeStream(of: Event.self)
        self.sink = sink
        events = stream.makeAsyncIterator()
        self.interactive = interactive
    }

    /// Reads standard input line by line on a thread of its own (`readLine` blocks).
    static func standardInput() -> WatchInput {
        let input = WatchInput(interactive: isatty(STDIN_FILENO) != 0)
        let sink = input.sink
        let reader = Thread {
            while let line = readLine(strippingNewline: true) { sink.yield(.line(line)) }
            sink.yield(.end)
        }
        reader.start()
        return input
    }

    /// The next answer, or `nil` at the end of standard input.
    mutating func nextLine() async -> String? {
        let line = await next()
        if !interactive {
            print(line.map(Output.escaped) ?? "")
            fflush(nil)
        }
        return line
    }

    private mutating func next() async -> String? {
        if !queued.isEmpty { return queued.removeFirst() }
        while !ended, let event = await events.next() {
            switch event {
            case .line(let line): return line
            case .end: ended = true
            case .tick: continue
            }
        }
        return nil
    }

    /// Waits `duration` between polls.
    /// - Returns: `false` when standard input ended and every answer it held is used: time to stop.
    mutating func idle(for duration: Duration) async -> Bool {
        if ended && queued.isEmpty { return false }
        generation += 1
        let current = generation
        let sink = sink
        let timer = Task {
            try? await Task.sleep(for: duration)
            sink.yield(.tick(current))
        }
        defer { timer.cancel() }
        while let event = await events.next() {
            switch event {
            case .line(let line):
                if interactive {
                    print("nothing is waiting for an answer; ignored")
                    fflush(nil)
                } else {
                    queued.append(line)
                }
            case .end:
                ended = true
                if queued.isEmpty { return false }
            case .tick(let tick):
                if tick == current { return true }
            }
        }
        return false
    }
}

/// `--device-file PATH`, and reading and opening the device it names.
struct DeviceFileOption: ParsableArguments {
    @Option(help: ArgumentHelp("The device file (default: TWOFOLD_DEVICE_FILE, else ~/.config/twofold/device.json).", valueName: "path"))
    var deviceFile: String?

    /// The largest device file read: a key, an id and a URL take well under 1 KiB.
    static let maximumSize = 64 * 1024

    /// The device file's path.
    /// - Parameter creatingFolder: Create `~/.config/twofold` (mode 0700) when the path is the
    ///   default and it is missing.
    func path(creatingFolder: Bool = false) throws -> String {
        if let deviceFile {
            guard !deviceFile.isEmpty else { throw ValidationError("--device-file is empty") }
            return deviceFile
        }
        let environment = ProcessInfo.processInfo.environment
        if let path = environment["TWOFOLD_DEVICE_FILE"], !path.isEmpty { return path }
        guard let home = environment["HOME"], !home.isEmpty else {
            throw ConfigurationFailure("HOME is not set: name the device file with --device-file or TWOFOLD_DEVICE_FILE")
        }
        let folder = home + "/.config/twofold"
        if creatingFolder {
            for path in [home + "/.config", folder] where mkdir(path, 0o700) != 0 && errno != EEXIST {
                throw ConfigurationFailure("cannot create \(path): \(String(cString: strerror(errno)))")
            }
        }
        return folder + "/device.json"
    }

    /// Reads the device file.
    /// - Throws: ``ConfigurationFailure`` (exit 2) when it is missing or malformed.
    func load() throws -> DeviceFileContents {
        let path = try path()
        let descriptor = open(path, O_RDONLY | O_CLOEXEC)
        guard descriptor >= 0 else {
            if errno == ENOENT {
                throw ConfigurationFailure("no device file at \(path): activate this device first with `twofold device activate URI`")
            }
            throw ConfigurationFailure("cannot open the device file \(path): \(String(cString: strerror(errno)))")
        }
        defer { close(descriptor) }
        var info = stat()
        guard fstat(descriptor, &info) == 0, info.st_mode & S_IFMT == S_IFREG else {
            throw ConfigurationFailure("the device file \(path) is not a regular file")
        }
        let permissions = info.st_mode & 0o777
        if permissions & 0o044 != 0 {
            StandardError.write("Warning: the device file \(path) is readable by \(permissions & 0o004 != 0 ? "other users" : "its group") (mode 0\(String(permissions, radix: 8))): anyone who can read it can approve sign-ins; make it private with `chmod 600 \(path)`")
        }
        var bytes: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 8192)
        while bytes.count <= Self.maximumSize {
            let count = chunk.withUnsafeMutableBytes { read(descriptor, $0.baseAddress, $0.count) }
            if count < 0, errno == EINTR { continue }
            guard count >= 0 else {
                throw ConfigurationFailure("cannot read the device file \(path): \(String(cString: strerror(errno)))")
            }
            if count == 0 { break }
            bytes += chunk[..<count]
        }
        guard bytes.count <= Self.maximumSize else {
            throw ConfigurationFailure("the device file \(path) is larger than \(Self.maximumSize / 1024) KiB: it is not a device file")
        }
        do {
            return try JSONDecoder().decode(DeviceFileContents.self, from: Data(bytes))
        } catch {
            throw ConfigurationFailure("\(path) is not a Twofold device file (server_url, device_id and private_key in JSON)")
        }
    }

    /// A client for the device the file holds; the caller shuts it down.
    func client() throws -> DeviceClient {
        let contents = try load()
        let key: P256.Signing.PrivateKey
        do {
            key = try P256.Signing.PrivateKey(pemRepresentation: contents.privateKey)
        } catch {
            throw ConfigurationFailure("the device file \(try path()) does not hold a P-256 private key in PEM")
        }
        return DeviceClient(serverURL: contents.serverURL, deviceID: contents.deviceID, key: key)
    }

    /// Runs `body` with the device's client, shuts the client down, and reports failures as
    /// the CLI does.
    func withClient<T>(_ body: (DeviceClient) async throws -> T) async throws -> T {
        let client = try client()
        do {
            let result = try await body(client)
            try await client.shutdown()
            return result
        } catch {
            try? await client.shutdown()
            throw Self.commandError(error)
        }
    }

    /// Runs `body`, reporting failures as the CLI does.
    static func mapFailures<T>(_ body: () async throws -> T) async throws -> T {
        do {
            return try await body()
        } catch {
            throw commandError(error)
        }
    }

    /// A device failure as the CLI reports it: a malformed URI is usage (exit 2); a server that
    /// cannot be reached, refuses or answers strangely is a failed operation (exit 1).
    static func commandError(_ error: any Error) -> any Error {
        guard let failure = error as? DeviceClient.Failure else { return error }
        if failure.code == .invalidURI { return ValidationError(failure.message) }
        if failure.code == .refused, failure.status == 401 {
            return CommandFailure("\(Output.escaped(failure.message)) (the server does not accept this device: was it removed, or is this computer's clock wrong?)")
        }
        return CommandFailure(Output.escaped(failure.message))
    }

    /// Parses an activation URI; a malformed one is bad usage.
    static func parse(_ text: String) throws -> DeviceActivationURI {
        do {
            return try DeviceActivationURI(text)
        } catch {
            throw ValidationError(Output.escaped(error.message))
        }
    }

    /// Parses a challenge id argument; a malformed one is bad usage.
    static func challengeID(_ text: String) throws -> ChallengeID {
        guard let id = ChallengeID(rawValue: text) else {
            throw ValidationError("\"\(Output.escaped(text))\" is not a challenge id: chl_ and 26 characters a-z, 2-7")
        }
        return id
    }
}

/// What the device file holds: where the server is, which device this is, and its key.
struct DeviceFileContents: Codable {
    var serverURL: String
    var deviceID: DeviceID
    /// The P-256 private key in PEM (PKCS #8).
    var privateKey: String

    enum CodingKeys: String, CodingKey {
        case serverURL = "server_url"
        case deviceID = "device_id"
        case privateKey = "private_key"
    }
}

/// How `twofold device` shows what the server sent: escaped, every piece of it.
enum DeviceText {
    /// The application, and the name the login gave itself when it differs.
    static func application(_ challenge: DeviceClient.Challenge) -> String {
        guard let own = challenge.context.appName, !own.isEmpty, own != challenge.appName else {
            return Output.escaped(challenge.appName)
        }
        return "\(Output.escaped(challenge.appName)) (\(Output.escaped(own)))"
    }

    /// `203.0.113.7 (Berlin, DE)`, the address or the place alone, or `nil` when neither is known.
    static func origin(_ context: ChallengeContext) -> String? {
        switch (context.ip.map(Output.escaped), context.location.map(Output.escaped)) {
        case (let ip?, let location?): "\(ip) (\(location))"
        case (let ip?, nil): ip
        case (nil, let location?): location
        case (nil, nil): nil
        }
    }

    /// `approved chl_…`, `denied chl_… (wrong number)`, …
    static func outcome(_ answer: DeviceClient.Answer, _ id: ChallengeID) -> String {
        let status = Output.escaped(answer.status)
        switch answer.reason {
        case nil: return "\(status) \(id)"
        case "fraud"?: return "\(status) \(id) and reported it as fraud: the server refuses push sign-ins to this device for a while"
        case "wrong_number"?: return "\(status) \(id): the number was wrong"
        case let reason?: return "\(status) \(id) (\(Output.escaped(reason)))"
        }
    }

    /// Prints an answer; an approval the server turned into a denial is a failure (exit 1).
    static func report(_ answer: DeviceClient.Answer, _ id: ChallengeID, approving: Bool, json: Bool) throws {
        let refused = approving && answer.status != "approved"
        if json {
            try Output.json(AnswerJSON(challengeId: id.rawValue, status: answer.status, reason: answer.reason))
        } else if !refused {
            print(outcome(answer, id))
        }
        if refused { throw CommandFailure(outcome(answer, id)) }
    }

    static func seconds(_ value: Double) -> String {
        value == value.rounded() ? String(Int(value)) : String(value)
    }

    struct AnswerJSON: Encodable {
        let challengeId: String
        let status: String
        let reason: String?

        func encode(to encoder: any Encoder) throws {
            var container = encoder.container(keyedBy: CodingKeys.self)
            try container.encode(challengeId, forKey: .challengeId)
            try container.encode(status, forKey: .status)
            try container.encode(reason, forKey: .reason)
        }

        enum CodingKeys: String, CodingKey {
            case challengeId, status, reason
        }
    }
}

extension DeviceClient.Failure {
    /// Worth polling again: no answer, or a server that is overloaded or failing.
    var isTransient: Bool {
        code == .unreachable || (code == .refused && (status.map { $0 >= 500 || $0 == 429 } ?? false))
    }
}
