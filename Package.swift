// swift-tools-version: 6.2
import PackageDescription

// Layers point inward: the CLI (and later the HTTP server, stores and providers)
// depend on the core libraries; TwofoldOTP and TwofoldQR depend on nothing of ours.
let package = Package(
    name: "Twofold",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "twofold", targets: ["TwofoldCLI"]),
        .library(name: "TwofoldOTP", targets: ["TwofoldOTP"]),
        .library(name: "TwofoldQR", targets: ["TwofoldQR"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-crypto.git", from: "4.5.2"),
        .package(url: "https://github.com/apple/swift-argument-parser.git", from: "1.8.2"),
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
        .target(
            name: "TwofoldTesting",
            path: "Sources/TwofoldTesting"
        ),
        .executableTarget(
            name: "TwofoldCLI",
            dependencies: [
                "TwofoldOTP",
                "TwofoldQR",
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
            name: "TwofoldQRTests",
            dependencies: ["TwofoldQR", "TwofoldTesting"],
            resources: [.copy("Fixtures")]
        ),
        .testTarget(
            name: "TwofoldCLITests",
            dependencies: ["TwofoldCLI", "TwofoldOTP", "TwofoldTesting"]
        ),
    ],
    swiftLanguageModes: [.v6]
)
