"""Draws the dashboard's app icons (Vigil's "◉" mark) as PNGs into `public/icons/`: a round "any"
icon on transparency and a full-bleed "maskable" one whose mark stays inside the central 80 % safe
zone, at 192 and 512 px. Standard library only (zlib + struct); run `python3 frontend/make_icons.py`
after changing the mark, and commit the PNGs."""

from __future__ import annotations

import math
import struct
import zlib
from pathlib import Path

BLUE = (29, 95, 196)
WHITE = (255, 255, 255)
OUT = Path(__file__).resolve().parent / "public" / "icons"


def _coverage(distance: float, radius: float) -> float:
    """How much of a pixel at `distance` from the centre lies inside `radius` (1-pixel soft edge)."""
    return max(0.0, min(1.0, radius - distance + 0.5))


def _pixel(x: int, y: int, size: int, maskable: bool) -> tuple[int, int, int, int]:
    c = (size - 1) / 2
    d = math.hypot(x - c, y - c)
    disc = 1.0 if maskable else _coverage(d, size * 0.47)  # maskable: the background is the disc
    scale = size * (0.8 if maskable else 1.0)  # the mark fits the safe zone of a maskable icon
    ring = _coverage(d, scale * 0.30) - _coverage(d, scale * 0.22)
    dot = _coverage(d, scale * 0.13)
    white = min(1.0, ring + dot)
    rgb = tuple(round(b * (1 - white) + w * white) for b, w in zip(BLUE, WHITE, strict=True))
    return (*rgb, round(255 * disc))  # type: ignore[return-value]


def png(size: int, maskable: bool) -> bytes:
    rows = b"".join(
        b"\x00" + b"".join(bytes(_pixel(x, y, size, maskable)) for x in range(size)) for y in range(size)
    )

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    header = struct.pack(">IIBBBBB", size, size, 8, 6, 0, 0, 0)  # 8-bit RGBA
    body = chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(rows, 9)) + chunk(b"IEND", b"")
    return b"\x89PNG\r\n\x1a\n" + body


if __name__ == "__main__":
    OUT.mkdir(parents=True, exist_ok=True)
    for size in (192, 512):
        (OUT / f"icon-{size}.png").write_bytes(png(size, maskable=False))
        (OUT / f"maskable-{size}.png").write_bytes(png(size, maskable=True))
