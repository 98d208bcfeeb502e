import Benchmark
import TwofoldOTP

/// OTP hot paths. Each iteration runs 1,000 operations (scalingFactor .kilo), so the
/// reported times are per code or per verification.
let benchmarks: @Sendable () -> Void = {
    Benchmark.defaultConfiguration = .init(
        metrics: [.wallClock, .mallocCountTotal, .throughput],
        timeUnits: .nanoseconds,
        scalingFactor: .kilo,
        maxDuration: .seconds(3),
        maxIterations: 100_000
    )

    // RFC 4226's test key, as the C and Python references use.
    let secret = try! OTPSecret(bytes: Array("12345678901234567890".utf8))

    for (algorithm, name) in [(OTPAlgorithm.sha1, "SHA-1"), (.sha256, "SHA-256"), (.sha512, "SHA-512")] {
        Benchmark("HOTP \(name) code") { benchmark in
            let hotp = try HOTP(secret: secret, algorithm: algorithm)
            var counter: UInt64 = 0
            benchmark.startMeasurement()
            for _ in benchmark.scaledIterations {
                blackHole(hotp.code(counter: counter))
                counter &+= 1
            }
        }
    }

    // Worst case for a valid-looking code: it matches nothing, so all three steps
    // of the ±1 window are computed (a match costs the same: no early exit).
    Benchmark("TOTP SHA-1 verify, window ±1") { benchmark in
        let totp = try TOTP(secret: secret)
        var time: UInt64 = 1_700_000_000
        benchmark.startMeasurement()
        for _ in benchmark.scaledIterations {
            blackHole(try totp.verify("000000", at: time, window: 1))
            time &+= 30
        }
    }

    Benchmark("TOTP keyed state setup (per secret)") { benchmark in
        for _ in benchmark.scaledIterations {
            blackHole(try TOTP(secret: secret))
        }
    }
}
