import Foundation
import Testing
import TwofoldCore
import TwofoldOTP
@testable import TwofoldSQLite
import TwofoldTesting

/// What the SQLite files hold once the services have written to them.
@Suite("SQLite at rest")
struct SQLiteAtRestTests {
    @Test("the SQLite file never contains a secret in clear, raw or Base32")
    func noSecretInFile() async throws {
        try await TemporaryStores.with { stores in
            let store = try stores.open()
            _ = try await store.migrate()
            let services = try await TwofoldServices.start(store: store, keyring: try Keyring([MasterKey.generate()]),
                                                           clock: FixedClock(Fixtures.start))
            let app = try await services.applications.ensureApplication(named: "default", actor: "test").id
            var secrets: [OTPSecret] = []
            for index in 0..<20 {
                let request = EnrollmentRequest(type: index.isMultiple(of: 2) ? .totp : .hotp, algorithm: OTPAlgorithm.allCases[index % 3])
                secrets.append(try await services.enrollment.enroll(app, Fixtures.user(index), request, actor: "test").secret)
            }
            // Recovery codes need an active factor: activate user 0's TOTP factor.
            let first = try #require(try await services.enrollment.factors(app, Fixtures.user(0)).first)
            let uri = try await services.enrollment.pendingEnrollmentURI(app, Fixtures.user(0), first.id)
            _ = try await services.enrollment.activate(app, Fixtures.user(0), first.id,
                                                       code: try uri.makeTOTP().code(at: UInt64(Fixtures.start.timeIntervalSince1970)), actor: "test")
            let codes = try await services.verification.generateRecoveryCodes(app, Fixtures.user(0), actor: "test")
            var files = Data()
            for suffix in ["", "-wal", "-shm"] {
                if let data = FileManager.default.contents(atPath: stores.path() + suffix) { files.append(data) }
            }
            #expect(files.count > 4_096)
            for secret in secrets {
                #expect(files.range(of: Data(secret.bytes)) == nil)
                #expect(files.range(of: Data(secret.base32.utf8)) == nil)
                #expect(files.range(of: Data(secret.base32.lowercased().utf8)) == nil)
            }
            for code in codes {
                #expect(files.range(of: Data(code.utf8)) == nil)
                #expect(files.range(of: Data(code.replacingOccurrences(of: "-", with: "").utf8)) == nil)
            }
        }
    }
}
