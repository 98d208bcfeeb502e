// swift-tools-version: 6.2
import Foundation
import PackageDescription

// SwiftPM names a path dependency after its folder, and a clone's folder can be called
// anything, so the root package's identity is read off the path.
let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
    .deletingLastPathComponent().deletingLastPathComponent()
let rootPackage = root.lastPathComponent.lowercased()

func twofold(_ product: String) -> Target.Dependency {
    .product(name: product, package: rootPackage)
}

/// One libFuzzer executable: its `LLVMFuzzerTestOneInput` is in Sources/<name>/.
func fuzzer(_ name: String, _ dependencies: [Target.Dependency]) -> Target {
    .executableTarget(name: name, dependencies: ["FuzzSupport"] + dependencies)
}

// The fuzz targets live in their own package so that `swift build` and CI's test build never
// compile them with the fuzzer's instrumentation. Build and run them with Tests/Fuzz/run.sh,
// which passes `-sanitize=fuzzer,address -parse-as-library` to every module.
let package = Package(
    name: "TwofoldFuzz",
    platforms: [.macOS(.v15)],
    dependencies: [
        .package(path: "../.."),
        .package(url: "https://github.com/apple/swift-crypto.git", from: "4.5.2"),
    ],
    targets: [
        .target(name: "CLibFuzzer"),
        .target(name: "FuzzSupport", dependencies: ["CLibFuzzer"]),
        fuzzer("otpauth-uri", [twofold("TwofoldOTP")]),
        fuzzer("base32", [twofold("TwofoldOTP")]),
        fuzzer("qr", [twofold("TwofoldQR")]),
        fuzzer("request-json", [twofold("TwofoldHTTP")]),
        fuzzer("configuration", [twofold("TwofoldServer"), twofold("TwofoldCore")]),
        fuzzer("callbacks", [
            twofold("TwofoldDelivery"), twofold("TwofoldCore"), .product(name: "Crypto", package: "swift-crypto"),
        ]),
        fuzzer("device-signature", [twofold("TwofoldCore"), .product(name: "Crypto", package: "swift-crypto")]),
        fuzzer("webpush", [twofold("TwofoldWebPush"), .product(name: "Crypto", package: "swift-crypto")]),
        fuzzer("pskc", [twofold("TwofoldTokenFiles"), twofold("TwofoldOTP")]),
        fuzzer("webauthn", [twofold("TwofoldWebAuthn")]),
    ],
    swiftLanguageModes: [.v6]
)
