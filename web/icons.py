"""Draws the app icons (a spade on a felt-green chip) as real PNGs: ``python -m web.icons`` rewrites static/icons/."""

from __future__ import annotations

import struct
import zlib
from pathlib import Path

import numpy as np
import numpy.typing as npt

ICONS = Path(__file__).parent / "static" / "icons"
BACKGROUND = (11, 15, 20)
CHIP = (22, 101, 52)
RING = (236, 240, 241)
SPADE = (245, 247, 250)

Mask = npt.NDArray[np.bool_]


def _png(pixels: npt.NDArray[np.uint8]) -> bytes:
    """Encode an RGB array as a PNG (no image library needed: zlib and a CRC per chunk)."""
    height, width, _ = pixels.shape
    raw = b"".join(b"\x00" + pixels[row].tobytes() for row in range(height))

    def chunk(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body) & 0xFFFFFFFF)

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(raw, 9)) + chunk(b"IEND", b"")


def _spade(x: npt.NDArray[np.float64], y: npt.NDArray[np.float64]) -> Mask:
    """A spade in unit coordinates: an upside-down heart curve plus a flared stem."""
    hx, hy = x / 0.6, -(y - 0.12) / 0.6
    heart = (hx**2 + hy**2 - 1) ** 3 - hx**2 * hy**3 <= 0
    stem = (y < -0.3) & (y > -0.9) & (np.abs(x) < 0.06 + (-0.3 - y) * 0.5)
    return heart | stem


def draw(size: int, glyph_scale: float, supersample: int = 4) -> npt.NDArray[np.uint8]:
    """The icon at ``size`` px; ``glyph_scale`` is the chip's radius as a fraction of half the size."""
    n = size * supersample
    coords = (np.arange(n) + 0.5) / n * 2 - 1
    x, y = np.meshgrid(coords, -coords)
    r = np.hypot(x, y) / glyph_scale
    angle = np.arctan2(y, x)
    notches = (r > 0.8) & (r <= 1.0) & ((np.floor(angle / (np.pi / 8)) % 2) == 0)
    layers: list[tuple[Mask, tuple[int, int, int]]] = [
        (r <= 1.0, CHIP),
        (notches, RING),
        ((r > 0.7) & (r <= 0.74), RING),
        (_spade(x / (0.58 * glyph_scale), y / (0.58 * glyph_scale) + 0.05), SPADE),
    ]
    image = np.empty((n, n, 3), dtype=np.float64)
    image[:] = BACKGROUND
    for mask, colour in layers:
        image[mask] = colour
    small = image.reshape(size, supersample, size, supersample, 3).mean(axis=(1, 3))
    pixels: npt.NDArray[np.uint8] = np.clip(np.rint(small), 0, 255).astype(np.uint8)
    return pixels


def main() -> None:
    ICONS.mkdir(parents=True, exist_ok=True)
    # "any" icons fill the square; the maskable one keeps the chip inside the 80 % safe circle.
    (ICONS / "icon-192.png").write_bytes(_png(draw(192, 0.96)))
    (ICONS / "icon-512.png").write_bytes(_png(draw(512, 0.96)))
    (ICONS / "maskable-512.png").write_bytes(_png(draw(512, 0.72)))


if __name__ == "__main__":
    main()
