import Testing
import TwofoldCore
import TwofoldPostgres

@Suite("PostgreSQL URLs and TLS")
struct PostgresURLTests {
    @Test("verify-ca and verify-full need sslrootcert, as libpq needs its root certificate",
          arguments: ["verify-ca", "verify-full"])
    func verifyingModesNeedARootCertificate(_ mode: String) throws {
        let error = #expect(throws: TwofoldError.self) {
            try PostgresURL("postgres://u:hunter2@db.internal/twofold?sslmode=\(mode)")
        }
        #expect(error?.code == .configuration)
        #expect(error?.message.contains("sslrootcert") == true)
        #expect(error?.message.contains("hunter2") == false)
        let url = try PostgresURL("postgres://u:hunter2@db.internal/twofold?sslmode=\(mode)&sslrootcert=/etc/twofold/db-ca.pem")
        #expect(url.sslRootCertificatePath == "/etc/twofold/db-ca.pem")
        #expect(!url.isUnverifiedAcrossNetwork)
    }

    @Test("encrypting without verifying is flagged only across a network", arguments: [
        ("postgres://u@db.internal/t?sslmode=require", true),
        ("postgres://u@db.internal/t", true),
        ("postgres://u@10.0.0.5/t?sslmode=prefer", true),
        ("postgres://u@db.internal/t?sslmode=disable", true),
        ("postgres://u@127.0.0.1/t?sslmode=require", false),
        ("postgres://u@localhost/t", false),
        ("postgres://u@[::1]/t?sslmode=disable", false),
    ])
    func unverifiedAcrossNetwork(_ text: String, expected: Bool) throws {
        #expect(try PostgresURL(text).isUnverifiedAcrossNetwork == expected)
    }
}
