#!/usr/bin/env python3
"""Check that a PNG screenshot is not blank, with the standard library only.

    png_check.py FILE [--min-colours N] [--max-share F]

Decodes the PNG (8-bit RGB or RGBA, not interlaced: what Chromium's
--screenshot writes) with zlib, undoes the scanline filters, and counts the
distinct colours and the share of the most common one. Prints them as one
JSON line; exits 1 when there are fewer than N distinct colours (default 16)
or the most common colour covers more than F of the pixels (default 0.98):
a blank or single-colour page. Used by tests/it/html.rs.
"""

import argparse
import json
import struct
import sys
import zlib
from collections import Counter


def decode(data):
    """(width, height, channels, rows of raw pixel bytes)."""
    if data[:8] != b"\x89PNG\r\n\x1a\n":
        raise ValueError("not a PNG")
    pos, idat, header = 8, [], None
    while pos < len(data):
        length, kind = struct.unpack(">I4s", data[pos:pos + 8])
        body = data[pos + 8:pos + 8 + length]
        pos += 12 + length
        if kind == b"IHDR":
            header = struct.unpack(">IIBBBBB", body)
        elif kind == b"IDAT":
            idat.append(body)
        elif kind == b"IEND":
            break
    if header is None:
        raise ValueError("no IHDR chunk")
    width, height, depth, colour, _, _, interlace = header
    channels = {2: 3, 6: 4}.get(colour)
    if depth != 8 or channels is None or interlace:
        raise ValueError(f"unsupported PNG: depth {depth}, colour type {colour}, interlace {interlace}")
    raw = zlib.decompress(b"".join(idat))
    stride = width * channels
    rows, prev = [], bytearray(stride)
    for y in range(height):
        start = y * (stride + 1)
        kind, line = raw[start], bytearray(raw[start + 1:start + 1 + stride])
        if kind == 1:  # Sub
            for i in range(channels, stride):
                line[i] = (line[i] + line[i - channels]) & 0xFF
        elif kind == 2:  # Up
            line = bytearray((a + b) & 0xFF for a, b in zip(line, prev))
        elif kind == 3:  # Average
            for i in range(stride):
                left = line[i - channels] if i >= channels else 0
                line[i] = (line[i] + ((left + prev[i]) >> 1)) & 0xFF
        elif kind == 4:  # Paeth
            for i in range(stride):
                a = line[i - channels] if i >= channels else 0
                b = prev[i]
                c = prev[i - channels] if i >= channels else 0
                p = a + b - c
                pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                pred = a if pa <= pb and pa <= pc else (b if pb <= pc else c)
                line[i] = (line[i] + pred) & 0xFF
        elif kind != 0:
            raise ValueError(f"row {y}: unknown filter {kind}")
        rows.append(bytes(line))
        prev = line
    return width, height, channels, rows


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("file")
    ap.add_argument("--min-colours", type=int, default=16)
    ap.add_argument("--max-share", type=float, default=0.98)
    a = ap.parse_args()
    with open(a.file, "rb") as f:
        width, height, channels, rows = decode(f.read())
    colours = Counter()
    for row in rows:
        colours.update(row[i:i + 3] for i in range(0, len(row), channels))
    top = colours.most_common(1)[0][1] / (width * height)
    print(json.dumps({"width": width, "height": height, "colours": len(colours), "top_share": round(top, 4)}))
    problems = []
    if len(colours) < a.min_colours:
        problems.append(f"{len(colours)} distinct colours, fewer than {a.min_colours}")
    if top > a.max_share:
        problems.append(f"one colour covers {top:.1%} of the pixels, more than {a.max_share:.0%}")
    if problems:
        print(f"{a.file}: looks blank: " + "; ".join(problems), file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
