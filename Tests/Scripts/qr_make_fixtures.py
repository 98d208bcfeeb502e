"""Writes TwofoldQR's known-answer matrices, Tests/TwofoldQRTests/Fixtures/*.txt, with segno.

Run once, from the repository root, when the set of cases changes:
    python3 Tests/Scripts/qr_make_fixtures.py

Each file is a header line
    data=<hex> level=<L|M|Q|H> version=<n> mask=<n> mode=<mode> selection=<fixed|auto>
followed by one line of '1' (dark) and '0' (light) per module row. With selection=auto the
mask was chosen by segno's penalty evaluation and the encoder must choose the same one.
The matrices come from qr_segno_matrix.py, i.e. segno with the standard's padding rule.
"""
import json
import pathlib
import random
import subprocess
import sys

ROOT = pathlib.Path(__file__).resolve().parents[2]
FIXTURES = ROOT / "Tests" / "TwofoldQRTests" / "Fixtures"
ALPHANUMERIC = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ $%*+-./:"
URI = (b"otpauth://totp/Twofold:alice.smith%40example.com?secret=JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"
       b"&issuer=Twofold&digits=6&period=30")

rng = random.Random(18004)


def digits(count):
    return "".join(rng.choice("0123456789") for _ in range(count)).encode()


def alphanumeric(count):
    return "".join(rng.choice(ALPHANUMERIC) for _ in range(count)).encode()


def binary(count):
    return bytes(rng.randrange(256) for _ in range(count))


# (data, level, version, mask, mode). A mask of None means automatic selection; those cases
# also leave the version to segno, which takes the smallest that fits.
CASES = [
    (b"01234567", "M", 1, 2, "numeric"),                 # the ISO/IEC 18004 Annex I example
    (b"HELLO WORLD", "Q", 1, None, "alphanumeric"),
    (b"Hello, world!", "L", 1, 0, "byte"),
    (b"AB", "H", 1, 7, "byte"),                          # bit stream ends on a codeword boundary
    (digits(41), "L", 1, 5, "numeric"),                  # exactly full: terminator cut to 0 bits
    (digits(60), "L", 2, 1, "numeric"),
    (alphanumeric(16), "H", 2, 3, "alphanumeric"),
    (binary(40), "Q", 5, 4, "byte"),
    (digits(100), "H", 5, None, "numeric"),
    (URI, "M", 7, None, "byte"),                   # the benchmark URI, 122 bytes
    (binary(100), "M", 7, 5, "byte"),                    # first version with version information
    (alphanumeric(150), "L", 7, 6, "alphanumeric"),
    (URI, "Q", 10, 2, "byte"),
    (digits(250), "H", 10, 0, "numeric"),
    (binary(500), "M", 20, 1, "byte"),
    (alphanumeric(900), "L", 17, None, "alphanumeric"),
    (binary(600), "H", 27, 3, "byte"),
    (digits(1800), "Q", 27, 7, "numeric"),
    (binary(2953), "L", 40, 4, "byte"),                  # the largest byte payload of all
    (alphanumeric(1800), "H", 40, 6, "alphanumeric"),
    (binary(2000), "M", 36, None, "byte"),
]


def main():
    cases = [
        {"data": data.hex(), "level": level, "version": version if mask is not None else None,
         "mask": mask, "mode": mode}
        for data, level, version, mask, mode in CASES
    ]
    script = pathlib.Path(__file__).with_name("qr_segno_matrix.py")
    result = subprocess.run([sys.executable, str(script)], input=json.dumps(cases).encode(),
                            capture_output=True, check=True)
    matrices = json.loads(result.stdout)
    FIXTURES.mkdir(parents=True, exist_ok=True)
    for old in FIXTURES.glob("*.txt"):
        old.unlink()
    for case, matrix in zip(cases, matrices):
        selection = "auto" if case["mask"] is None else "fixed"
        name = f"v{matrix['version']:02d}-{case['level']}-{case['mode']}-mask{matrix['mask']}-{selection}.txt"
        header = (f"data={case['data']} level={case['level']} version={matrix['version']} "
                  f"mask={matrix['mask']} mode={case['mode']} selection={selection}")
        (FIXTURES / name).write_text(header + "\n" + "\n".join(matrix["rows"]) + "\n")
    print(f"wrote {len(cases)} fixtures to {FIXTURES}")


if __name__ == "__main__":
    main()
