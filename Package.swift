// swift-tools-version: 6.2
import PackageDescription

// Layers point inward: TwofoldOTP and TwofoldQR depend on nothing of ours; TwofoldCore on OTP;
// the stores and HTTP on Core; TwofoldServer (the composition root) on every adapter; the CLI on
// the server.
let package = Package(
    name: "Twofold",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "twofold", targets: ["TwofoldCLI"]),
        .library(name: "TwofoldOTP", targets: ["TwofoldOTP"]),
        .library(name: "TwofoldQR", targets: ["TwofoldQR"]),
        .library(name: "TwofoldCore", targets: ["TwofoldCore"]),
        .library(name: "TwofoldSQLite", targets: ["TwofoldSQLite"]),
        .library(name: "TwofoldPostgres", targets: ["TwofoldPostgres"]),
        .library(name: "TwofoldHTTP", targets: ["TwofoldHTTP"]),
        .library(name: "TwofoldWebPush", targets: ["TwofoldWebPush"]),
        .library(name: "TwofoldWebAuthn", targets: ["TwofoldWebAuthn"]),
        .library(name: "TwofoldTokenFiles", targets: ["TwofoldTokenFiles"]),
        .library(name: "TwofoldDelivery", targets: ["TwofoldDelivery"]),
        .library(name: "TwofoldServer", targets: ["TwofoldServer"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-crypto.git", from: "4.5.2"),
        .package(url: "https://github.com/apple/swift-certificates.git", from: "1.21.1"),
        .package(url: "https://github.com/apple/swift-asn1.git", from: "1.7.4"),
        .package(url: "https://github.com/apple/swift-argument-parser.git", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-log.git", from: "1.16.2"),
        .package(url: "https://github.com/groue/GRDB.swift.git", from: "7.10.0"),
        .package(url: "https://github.com/vapor/postgres-nio.git", from: "1.33.2"),
        .package(url: "https://github.com/hummingbird-project/hummingbird.git", from: "2.28.1"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle.git", from: "2.13.0"),
        .package(url: "https://github.com/apple/swift-metrics.git", from: "2.13.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus.git", from: "2.4.1"),
        .package(url: "https://github.com/swift-server/async-http-client.git", from: "1.37.0"),
    ],
    targets: [
        // SHA-1/SHA-256/SHA-512 block functions from the system's libcrypto: the only way
        // to reach SHA-NI speed with HMAC states precomputed (swift-crypto hides its digests'
        // internal state behind a class, so copying a keyed state would allocate).
        .systemLibrary(
            name: "CTwofoldLibCrypto",
            pkgConfig: "libcrypto",
            providers: [.apt(["libssl-dev"]), .brew(["openssl@3"])]
        ),
        .target(
            name: "TwofoldOTP",
            dependencies: ["CTwofoldLibCrypto"]
        ),
        .target(name: "TwofoldQR"),
        // Web Push message encryption (RFC 8291, aes128gcm of RFC 8188) and VAPID (RFC 8292):
        // pure functions on swift-crypto, no I/O.
        .target(
            name: "TwofoldWebPush",
            dependencies: [.product(name: "Crypto", package: "swift-crypto")]
        ),
        // WebAuthn (security keys, U2F keys through it): the CBOR subset, COSE keys, authenticator
        // data, client data, attestation and assertion checks. Pure functions, no I/O.
        .target(
            name: "TwofoldWebAuthn",
            dependencies: [
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "_CryptoExtras", package: "swift-crypto"),
                .product(name: "X509", package: "swift-certificates"),
                .product(name: "SwiftASN1", package: "swift-asn1"),
            ]
        ),
        // The files hardware OATH tokens ship with: PSKC (RFC 6030, plain, pre-shared-key and
        // password encrypted) and a simple CSV. Pure functions, no I/O.
        .target(
            name: "TwofoldTokenFiles",
            dependencies: [
                "TwofoldOTP",
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "_CryptoExtras", package: "swift-crypto"),
            ]
        ),
        // The domain: factors, verification, throttling, sealing, audit; store protocols.
        .target(
            name: "TwofoldCore",
            dependencies: [
                "TwofoldOTP",
                "TwofoldWebAuthn",
                "TwofoldTokenFiles",
                "CTwofoldLibCrypto",
                .product(name: "Crypto", package: "swift-crypto"),
            ]
        ),
        .target(
            name: "TwofoldSQLite",
            dependencies: [
                "TwofoldCore",
                .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "GRDBSQLite", package: "GRDB.swift"),
            ]
        ),
        .target(
            name: "TwofoldPostgres",
            dependencies: [
                "TwofoldCore",
                .product(name: "PostgresNIO", package: "postgres-nio"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        // The SMS and voice providers (Twilio, signed webhooks, console) and their callbacks'
        // signatures: the only module that makes outbound calls.
        .target(
            name: "TwofoldDelivery",
            dependencies: [
                "TwofoldCore", "TwofoldWebPush",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        // The HTTP API on Hummingbird 2: controllers and middleware over Core's services.
        .target(
            name: "TwofoldHTTP",
            dependencies: [
                "TwofoldCore", "TwofoldOTP", "TwofoldQR",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "Prometheus", package: "swift-prometheus"),
            ]
        ),
        // The composition root: configuration, the runtime (store choice, keys, services) and
        // buildApplication, used by `twofold serve`, the admin commands and the tests.
        .target(
            name: "TwofoldServer",
            dependencies: [
                "TwofoldCore", "TwofoldHTTP", "TwofoldSQLite", "TwofoldPostgres", "TwofoldDelivery",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdCore", package: "hummingbird"),
                .product(name: "HummingbirdTLS", package: "hummingbird"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        // Test support shared by every test target: outside tools, fixed clocks, the in-memory
        // store.
        .target(
            name: "TwofoldTesting",
            dependencies: [
                "TwofoldCore", "TwofoldOTP",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Crypto", package: "swift-crypto"),
            ]
        ),
        // A throwaway PostgreSQL database per test, for the test targets that need a server.
        .target(
            name: "TwofoldPostgresTesting",
            dependencies: [
                "TwofoldPostgres", "TwofoldTesting",
                .product(name: "PostgresNIO", package: "postgres-nio"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        .executableTarget(
            name: "TwofoldCLI",
            dependencies: [
                "TwofoldOTP",
                "TwofoldQR",
                "TwofoldCore",
                "TwofoldServer",
                "TwofoldDelivery",
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]
        ),
        .testTarget(
            name: "TwofoldOTPTests",
            dependencies: [
                "TwofoldOTP",
                "TwofoldTesting",
                .product(name: "Crypto", package: "swift-crypto"),
            ]
        ),
        .testTarget(
            name: "TwofoldWebPushTests",
            dependencies: [
                "TwofoldWebPush", "TwofoldTesting",
                .product(name: "Crypto", package: "swift-crypto"),
            ]
        ),
        .testTarget(
            name: "TwofoldWebAuthnTests",
            dependencies: ["TwofoldWebAuthn", "TwofoldTesting", .product(name: "Crypto", package: "swift-crypto")],
            resources: [.copy("Fixtures")]
        ),
        .testTarget(
            name: "TwofoldTokenFilesTests",
            dependencies: ["TwofoldTokenFiles", "TwofoldOTP", "TwofoldTesting"],
            resources: [.copy("Fixtures")]
        ),
        .testTarget(
            name: "TwofoldQRTests",
            dependencies: ["TwofoldQR", "TwofoldTesting"],
            resources: [.copy("Fixtures")]
        ),
        .testTarget(
            name: "TwofoldCoreTests",
            dependencies: ["TwofoldCore", "TwofoldOTP", "TwofoldTesting", .product(name: "Crypto", package: "swift-crypto")]
        ),
        .testTarget(
            name: "TwofoldSQLiteTests",
            dependencies: [
                "TwofoldSQLite", "TwofoldCore", "TwofoldOTP", "TwofoldTesting",
                .product(name: "GRDB", package: "GRDB.swift"),
            ]
        ),
        .testTarget(
            name: "TwofoldPostgresTests",
            dependencies: [
                "TwofoldPostgres", "TwofoldCore", "TwofoldOTP", "TwofoldTesting", "TwofoldPostgresTesting",
                .product(name: "PostgresNIO", package: "postgres-nio"),
            ]
        ),
        // One suite per store port, each test run against every store (in-memory, SQLite, PostgreSQL).
        .testTarget(
            name: "TwofoldStoreConformanceTests",
            dependencies: [
                "TwofoldCore", "TwofoldOTP", "TwofoldTesting", "TwofoldSQLite", "TwofoldPostgres", "TwofoldPostgresTesting",
            ]
        ),
        .testTarget(
            name: "TwofoldHTTPTests",
            dependencies: [
                "TwofoldHTTP", "TwofoldServer", "TwofoldCore", "TwofoldOTP", "TwofoldSQLite", "TwofoldTesting",
                .product(name: "HummingbirdTesting", package: "hummingbird"),
                .product(name: "Crypto", package: "swift-crypto"),
            ]
        ),
        .testTarget(
            name: "TwofoldDeliveryTests",
            dependencies: [
                "TwofoldDelivery", "TwofoldWebPush", "TwofoldCore", "TwofoldTesting",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "Crypto", package: "swift-crypto"),
            ]
        ),
        .testTarget(
            name: "TwofoldServerTests",
            dependencies: [
                "TwofoldServer", "TwofoldHTTP", "TwofoldCore", "TwofoldOTP", "TwofoldSQLite", "TwofoldTesting", "TwofoldDelivery",
                "TwofoldPostgresTesting",
                .product(name: "HummingbirdTesting", package: "hummingbird"),
                .product(name: "PostgresNIO", package: "postgres-nio"),
                .product(name: "Crypto", package: "swift-crypto"),
            ]
        ),
        .testTarget(
            name: "TwofoldCLITests",
            dependencies: ["TwofoldCLI", "TwofoldOTP", "TwofoldTesting"]
        ),
    ],
    swiftLanguageModes: [.v6]
)
