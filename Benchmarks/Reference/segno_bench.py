"""Times segno on the URI that Benchmarks/QRBenchmarks encodes, as a reference point for
TwofoldQR's "QR matrix" benchmark.

    pip install segno
    python3 Benchmarks/Reference/segno_bench.py

Prints one line, "segno: <median> us/matrix": the median over repeated timeit runs of
segno.make at level M without boosting the error correction level (segno otherwise raises
the level when the data leaves room, which would time a different symbol).
"""
import statistics
import timeit

import segno

# Keep in step with enrolmentURI in Benchmarks/Benchmarks/QRBenchmarks/QRBenchmarks.swift.
URI = ("otpauth://totp/Twofold:alice.smith%40example.com?secret=JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"
       "&issuer=Twofold&digits=6&period=30")
REPEATS = 15
CALLS_PER_REPEAT = 100


def main():
    timer = timeit.Timer(lambda: segno.make(URI, error="m", boost_error=False))
    timer.timeit(number=10)
    runs = timer.repeat(repeat=REPEATS, number=CALLS_PER_REPEAT)
    median = statistics.median(runs) / CALLS_PER_REPEAT * 1e6
    print(f"segno: {median:.1f} us/matrix")


if __name__ == "__main__":
    main()
