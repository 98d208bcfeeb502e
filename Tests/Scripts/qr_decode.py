"""Decodes QR code PNG files with zxing-cpp, for TwofoldQR's round-trip tests.

Reads a JSON list of {"path": "<png file>"} on stdin and prints a JSON list, in the same
order, of
    {"bytes": "<hex of the decoded payload>" | null, "version": int | null,
     "mask": int | null, "level": "L|M|Q|H" | null, "png": {...}}
"bytes" are the raw bytes of the data segments (zxing-cpp's Barcode.bytes), not text, so
binary payloads compare exactly. "png" is an independent structural check of the file:
chunk CRCs, the IHDR fields, and the IDAT stream inflated by Python's zlib, with the filter
byte of every scanline.
"""
import json
import struct
import sys
import zlib

import zxingcpp
from PIL import Image


def inspect_png(path):
    with open(path, "rb") as handle:
        data = handle.read()
    report = {"signature": data[:8] == b"\x89PNG\r\n\x1a\n", "chunks": [], "crc_ok": True}
    offset = 8
    idat = b""
    header = None
    while offset + 8 <= len(data):
        length, kind = struct.unpack(">I4s", data[offset:offset + 8])
        body = data[offset + 8:offset + 8 + length]
        (crc,) = struct.unpack(">I", data[offset + 8 + length:offset + 12 + length])
        if zlib.crc32(kind + body) & 0xFFFFFFFF != crc:
            report["crc_ok"] = False
        report["chunks"].append(kind.decode("latin-1"))
        if kind == b"IHDR":
            header = struct.unpack(">IIBBBBB", body)
        elif kind == b"IDAT":
            idat += body
        offset += 12 + length
    report["trailing_bytes"] = len(data) - offset
    if header:
        width, height, depth, colour, compression, filtering, interlace = header
        report.update(width=width, height=height, bit_depth=depth, colour_type=colour,
                      compression=compression, filter_method=filtering, interlace=interlace)
        try:
            raw = zlib.decompress(idat)
            stride = 1 + (width * depth + 7) // 8
            report["inflated_ok"] = len(raw) == stride * height
            report["filters"] = sorted(set(raw[row * stride] for row in range(height)))
        except zlib.error as error:
            report["inflated_ok"] = False
            report["zlib_error"] = str(error)
    return report


def decode(path):
    image = Image.open(path).convert("L")
    results = zxingcpp.read_barcodes(image, formats=zxingcpp.BarcodeFormat.QRCode, is_pure=True)
    if not results:
        results = zxingcpp.read_barcodes(image, formats=zxingcpp.BarcodeFormat.QRCode)
    answer = {"bytes": None, "version": None, "mask": None, "level": None}
    if results:
        found = results[0]
        extra = found.extra if isinstance(found.extra, dict) else {}
        answer.update(
            bytes=bytes(found.bytes).hex(),
            version=int(extra["Version"]) if "Version" in extra else None,
            mask=extra.get("DataMask"),
            level=extra.get("ECLevel"),
        )
    answer["png"] = inspect_png(path)
    return answer


def main():
    requests = json.load(sys.stdin)
    json.dump([decode(request["path"]) for request in requests], sys.stdout)


if __name__ == "__main__":
    main()
