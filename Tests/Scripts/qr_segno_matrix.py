"""Reference QR matrices from segno, for TwofoldQR's comparison tests.

Reads a JSON list of cases on stdin, each
    {"data": "<hex bytes>", "level": "L|M|Q|H", "version": 1-40 | null,
     "mask": 0-7 | null, "mode": "numeric|alphanumeric|byte" | null}
and prints a JSON list of
    {"version": int, "level": "L|M|Q|H", "mask": int, "rows": ["0101...", ...]}
in the same order. Error correction is never boosted and Micro QR is never used.

segno 1.6 pads a bit stream that already ends on a codeword boundary with a whole extra
zero codeword before the pad codewords (segno issue #148, still open). ISO/IEC 18004:2015
section 7.4.10 adds padding bits only "if the bit stream length is such that it does not
end at a codeword boundary", so that one function is replaced by the standard's rule here.
Everything else is segno's own code.
"""
import json
import sys

import segno
from segno import encoder


def _standard_padding_bits(buff, version, length):
    if version not in (segno.consts.VERSION_M1, segno.consts.VERSION_M3):
        buff.extend([0] * (-length % 8))


encoder.write_padding_bits = _standard_padding_bits


def make(case):
    qr = segno.make(
        bytes.fromhex(case["data"]),
        error=case["level"].lower(),
        version=case.get("version"),
        mask=case.get("mask"),
        mode=case.get("mode"),
        micro=False,
        boost_error=False,
    )
    return {
        "version": qr.version,
        "level": qr.error,
        "mask": qr.mask,
        "rows": ["".join("1" if module else "0" for module in row) for row in qr.matrix],
    }


def main():
    cases = json.load(sys.stdin)
    json.dump([make(case) for case in cases], sys.stdout)


if __name__ == "__main__":
    main()
