#!/usr/bin/env python3
"""Draws samples/testcard.png, the image the README's main job upscales.

A synthetic test card (gradients, a zone plate, edges at several angles, fine stripes, discs) so
the sample is ours to ship; it exercises what an upscaler must get right.
"""
import math
import struct
import zlib

W, H = 320, 240


def pixel(x, y):
    # Background: smooth two-way colour gradient.
    r, g, b = 0.15 + 0.6 * x / W, 0.2 + 0.5 * y / H, 0.7 - 0.4 * x / W
    # Zone plate (left): chirped rings alias badly under naive upscaling.
    dx, dy = x - 80, y - 90
    if dx * dx + dy * dy < 70 * 70:
        v = 0.5 + 0.5 * math.cos((dx * dx + dy * dy) / 55.0)
        r, g, b = v, v, v
    # Discs with hard anti-aliased edges (right).
    for cx, cy, rad, col in ((230, 70, 40, (0.9, 0.2, 0.15)), (270, 120, 28, (0.1, 0.6, 0.25)),
                             (200, 130, 22, (0.95, 0.85, 0.1))):
        d = math.hypot(x - cx, y - cy) - rad
        a = min(1.0, max(0.0, 0.5 - d))
        r, g, b = (r * (1 - a) + col[0] * a, g * (1 - a) + col[1] * a, b * (1 - a) + col[2] * a)
    # Fine stripes of decreasing period (bottom band).
    if 175 <= y < 200:
        period = 2 + (x // 40)
        v = 1.0 if (x // (period // 2 or 1)) % 2 == 0 else 0.05
        r, g, b = v, v, v
    # Slanted edges (bottom).
    if y >= 205:
        for k, angle in enumerate((5, 20, 45, 70)):
            x0 = 20 + 80 * k
            t = math.tan(math.radians(angle))
            d = (x - x0) - (y - 205) * t
            if 0 <= x - x0 < 60:
                a = min(1.0, max(0.0, 0.5 - d / math.sqrt(1 + t * t)))
                v = 0.1 + 0.8 * a
                r, g, b = v, v * 0.9, v * 0.8
    return tuple(int(round(255 * min(1.0, max(0.0, c)))) for c in (r, g, b))


def png(width, height, rows):
    def chunk(tag, data):
        return struct.pack(">I", len(data)) + tag + data + struct.pack(">I", zlib.crc32(tag + data))
    raw = b"".join(b"\x00" + bytes(row) for row in rows)
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(raw, 9)) +
            chunk(b"IEND", b""))


rows = [[c for x in range(W) for c in pixel(x, y)] for y in range(H)]
with open("samples/testcard.png", "wb") as f:
    f.write(png(W, H, rows))
