import Testing
import TwofoldServer

@Suite("PostgreSQL transport in production")
struct StoreTransportWarningTests {
    @Test("production warns about an unverified connection to another machine, and only then", arguments: [
        ("postgres://u:hunter2@db.internal/t?sslmode=require", TwofoldConfiguration.Deployment.production, true),
        ("postgres://u:hunter2@db.internal/t", .production, true),
        ("postgres://u:hunter2@db.internal/t?sslmode=disable", .production, true),
        ("postgres://u:hunter2@db.internal/t?sslmode=verify-full&sslrootcert=/etc/ca.pem", .production, false),
        ("postgres://u:hunter2@127.0.0.1/t?sslmode=require", .production, false),
        ("postgres://u:hunter2@db.internal/t?sslmode=require", .development, false),
    ])
    func warning(_ url: String, deployment: TwofoldConfiguration.Deployment, warns: Bool) {
        let configuration = TwofoldConfiguration(store: .postgres(url: url), deployment: deployment)
        let warning = configuration.storeTransportWarning
        #expect((warning != nil) == warns)
        if let warning {
            #expect(warning.contains("TWOFOLD_STORE") && warning.contains("verify-full"))
            #expect(!warning.contains("hunter2"))
        }
    }
}
