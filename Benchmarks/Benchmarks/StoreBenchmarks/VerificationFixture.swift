import Foundation
import Synchronization
import TwofoldCore
import TwofoldOTP
import TwofoldPostgres
import TwofoldSQLite

/// A clock the benchmark moves by hand, one TOTP step per round.
final class BenchmarkClock: WallClock, Sendable {
    private let current = Mutex(Date(timeIntervalSince1970: 1_700_000_000))
    func now() -> Date { current.withLock { $0 } }
    func advance(by seconds: TimeInterval) { current.withLock { $0 = $0.addingTimeInterval(seconds) } }
}

/// Users enrolled in TOTP, with their devices, on one store; kept on disk between runs
/// (enrolling a million users takes minutes), keyed by store and user count.
final class VerificationFixture: Sendable {
    let services: TwofoldServices
    let store: any TwofoldStore
    let clock: BenchmarkClock
    let application: ApplicationID
    let users: [UserID]
    let devices: [TOTP]

    /// Where the clock's last time is kept, so a later run never reuses (replays) a step.
    let clockFile: URL

    init(services: TwofoldServices, store: any TwofoldStore, clock: BenchmarkClock, application: ApplicationID, users: [UserID], devices: [TOTP], clockFile: URL) {
        self.clockFile = clockFile
        self.services = services
        self.store = store
        self.clock = clock
        self.application = application
        self.users = users
        self.devices = devices
    }

    static let root = URL(fileURLWithPath: NSTemporaryDirectory()).appendingPathComponent("twofold-bench")

    /// Verifies `count` distinct random users concurrently (`concurrency` in flight) with valid
    /// codes at a fresh TOTP step; returns how many were allowed.
    func round(count: Int, concurrency: Int, random: inout some RandomNumberGenerator) async throws -> Int {
        clock.advance(by: 30)
        try String(clock.now().timeIntervalSince1970).write(to: clockFile, atomically: true, encoding: .utf8)
        let time = UInt64(clock.now().timeIntervalSince1970)
        var picked = Set<Int>()
        while picked.count < min(count, users.count) { picked.insert(Int.random(in: 0..<users.count, using: &random)) }
        let work = try picked.map { (users[$0], try devices[$0].code(at: time)) }
        let services = self.services
        let application = self.application
        return try await withThrowingTaskGroup(of: Bool.self) { group in
            var allowed = 0
            var next = 0
            while next < work.count, next < concurrency {
                let (user, code) = work[next]
                group.addTask { try await services.verification.verify(application, user, code: code, actor: "bench").isAllowed }
                next += 1
            }
            while let result = try await group.next() {
                if result { allowed += 1 }
                if next < work.count {
                    let (user, code) = work[next]
                    group.addTask { try await services.verification.verify(application, user, code: code, actor: "bench").isAllowed }
                    next += 1
                }
            }
            return allowed
        }
    }

    /// Opens (or first builds) a SQLite fixture of `userCount` users.
    static func sqlite(users userCount: Int, durability: SQLiteDurability = .full) async throws -> VerificationFixture {
        let directory = root.appendingPathComponent("sqlite-\(userCount)")
        let database = directory.appendingPathComponent("twofold.sqlite").path
        let fixture = try await load(directory: directory, userCount: userCount) { seeding in
            try SQLiteStore(path: database, durability: seeding ? .normal : durability)
        }
        try prewarm(database)
        return fixture
    }

    /// Reads the database file once, so that the kernel's page cache (which is SQLite's cache
    /// for a file this store maps) holds it when the measurement starts, as a deployment of a
    /// million active users would, and as run-store.sh reads the PostgreSQL fixtures into
    /// PostgreSQL's cache with `pg_prewarm`. Without it, a million users measured this VM's disk:
    /// 8,929 verifications/s on a fixture just rewritten, and 14,493/s in the same run's next
    /// million-user measurement (synchronous=normal, which with 1,000 users was no faster: 13,699).
    static func prewarm(_ path: String) throws {
        let handle = try FileHandle(forReadingFrom: URL(fileURLWithPath: path))
        defer { try? handle.close() }
        while let chunk = try handle.read(upToCount: 8 << 20), !chunk.isEmpty {}
    }

    /// Opens (or first builds) a PostgreSQL fixture in the database named by `url`.
    static func postgres(url: String, users userCount: Int) async throws -> VerificationFixture {
        let directory = root.appendingPathComponent("postgres-\(userCount)")
        return try await load(directory: directory, userCount: userCount) { _ in
            // As `twofold serve` runs it: the whole pool open from the start (no idle timers).
            try await PostgresStore.connect(url: url, maximumConnections: 40, keepsConnectionsOpen: true)
        }
    }

    private static func load(directory: URL, userCount: Int, open: (_ seeding: Bool) async throws -> any TwofoldStore) async throws -> VerificationFixture {
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let keyFile = directory.appendingPathComponent("master.key")
        let secretsFile = directory.appendingPathComponent("secrets.bin")
        let clock = BenchmarkClock()
        if !FileManager.default.fileExists(atPath: secretsFile.path) {
            let key = MasterKey.generate()
            try key.fileContents.write(to: keyFile, atomically: true, encoding: .utf8)
            let store = try await open(true)
            _ = try await store.migrate()
            let services = try await TwofoldServices.start(store: store, keyring: try Keyring([key]), clock: clock)
            let app = try await services.applications.ensureApplication(named: "bench", actor: "bench")
            let secrets = try await enroll(userCount, services: services, application: app.id, clock: clock)
            try await store.close()
            try Data(secrets.flatMap(\.bytes)).write(to: secretsFile)
        }
        let key = try MasterKey(fileContents: String(contentsOf: keyFile, encoding: .utf8))
        let bytes = Array(try Data(contentsOf: secretsFile))
        let store = try await open(false)
        _ = try await store.migrate()
        let services = try await TwofoldServices.start(store: store, keyring: try Keyring([key]), clock: clock)
        let app = try await services.applications.application(named: "bench")
        // Start well after the seeding steps and any earlier run's, so no code is a replay.
        let clockFile = directory.appendingPathComponent("clock")
        if let text = try? String(contentsOf: clockFile, encoding: .utf8), let last = Double(text) {
            clock.advance(by: last - clock.now().timeIntervalSince1970)
        }
        clock.advance(by: 86_400)
        var users: [UserID] = []
        var devices: [TOTP] = []
        for index in 0..<userCount {
            users.append(try UserID("user\(index)"))
            devices.append(try TOTP(secret: try OTPSecret(bytes: Array(bytes[index * 20..<(index + 1) * 20]))))
        }
        return VerificationFixture(services: services, store: store, clock: clock, application: app.id, users: users, devices: devices, clockFile: clockFile)
    }

    private static func enroll(_ count: Int, services: TwofoldServices, application: ApplicationID, clock: BenchmarkClock) async throws -> [OTPSecret] {
        var secrets = [OTPSecret?](repeating: nil, count: count)
        let batch = 64
        var start = 0
        while start < count {
            let end = min(start + batch, count)
            let enrolled = try await withThrowingTaskGroup(of: (Int, OTPSecret).self) { group in
                for index in start..<end {
                    group.addTask {
                        let user = try UserID("user\(index)")
                        let enrollment = try await services.enrollment.enroll(application, user, EnrollmentRequest(type: .totp), actor: "bench")
                        let code = try enrollment.uri.makeTOTP().code(at: UInt64(clock.now().timeIntervalSince1970))
                        _ = try await services.enrollment.activate(application, user, enrollment.factor.id, code: code, actor: "bench")
                        return (index, enrollment.secret)
                    }
                }
                return try await group.reduce(into: []) { $0.append($1) }
            }
            for (index, secret) in enrolled { secrets[index] = secret }
            start = end
            if start % 50_000 == 0 { FileHandle.standardError.write(Data("enrolled \(start) of \(count)\n".utf8)) }
        }
        return secrets.map { $0! }
    }
}
