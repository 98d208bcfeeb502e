import Benchmark
import TwofoldQR

/// The enrolment URI every QR benchmark encodes: 122 bytes, a 160-bit secret in 32 base32
/// characters, an issuer and a percent-encoded e-mail label, the size an authenticator
/// enrolment usually is. At level M it needs version 7 (45 × 45 modules).
/// `Benchmarks/Reference/segno_bench.py` times segno on the same string.
let enrolmentURI =
    "otpauth://totp/Twofold:alice.smith%40example.com?secret=JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP&issuer=Twofold&digits=6&period=30"

let benchmarks: @Sendable () -> Void = {
    let configuration = Benchmark.Configuration(
        metrics: [.wallClock, .cpuTotal, .mallocCountTotal, .throughput],
        warmupIterations: 10,
        scalingFactor: .kilo,
        maxDuration: .seconds(2)
    )

    // Segmentation, Reed-Solomon, placement, and the penalty evaluation of all eight masks.
    Benchmark("QR matrix: otpauth URI 122 B, level M", configuration: configuration) { benchmark in
        for _ in benchmark.scaledIterations {
            blackHole(try QRCode(text: enrolmentURI))
        }
    }

    Benchmark("QR SVG: otpauth URI 122 B, level M, one path", configuration: configuration) { benchmark in
        let code = try QRCode(text: enrolmentURI)
        let renderer = QRSVGRenderer()
        benchmark.startMeasurement()
        for _ in benchmark.scaledIterations {
            blackHole(renderer.render(code))
        }
    }

    Benchmark("QR PNG: otpauth URI 122 B, level M, 8 px per module, 1 bit", configuration: configuration) { benchmark in
        let code = try QRCode(text: enrolmentURI)
        let renderer = QRPNGRenderer()
        benchmark.startMeasurement()
        for _ in benchmark.scaledIterations {
            blackHole(renderer.render(code))
        }
    }
}
