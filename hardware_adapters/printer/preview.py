"""Read an ESC/POS job back into text lines and QR contents.

For people and tests, not for printers: ``waterops hardware print-test`` shows what the
slip says without paper, and tests check the text a customer would read, not only the
bytes. It understands the commands :func:`render_slip` emits (python-escpos' INIT, text
style, alignment, feed, cut, GS ( k QR codes, GS v 0 raster images, FS & / FS .) and
raises :class:`PrinterError` on anything else, so a change in the renderer is noticed.
"""

from __future__ import annotations

from typing import Final

import msgspec

from hardware_adapters.errors import PrinterError

ESC: Final = 0x1B
GS: Final = 0x1D
FS: Final = 0x1C
LF: Final = 0x0A
#: fixed-length commands: prefix -> bytes after the prefix
_FIXED: Final[dict[bytes, int]] = {
    b"\x1b@": 0, b"\x1b!": 1, b"\x1bE": 1, b"\x1ba": 1, b"\x1bd": 1, b"\x1b-": 1,
    b"\x1bM": 1, b"\x1bG": 1, b"\x1b{": 1, b"\x1bt": 1, b"\x1d!": 1, b"\x1dB": 1,
    b"\x1c&": 0, b"\x1c.": 0, b"\x1b3": 1, b"\x1b2": 0,
}


class JobPreview(msgspec.Struct, frozen=True, kw_only=True):
    """Printed text lines (Chinese decoded from GB18030), QR contents, images, cuts."""

    lines: list[str]
    qr_codes: list[str]
    images: int = 0
    cuts: int = 0
    chinese_mode: bool = False


def _need(job: bytes, end: int) -> None:
    if end > len(job):
        raise PrinterError("print job ends inside a command")


def preview_job(job: bytes) -> JobPreview:
    """Decode ``job``; text is GB18030 (ASCII is its single-byte subset)."""
    lines: list[str] = []
    qr: list[str] = []
    text = bytearray()
    images = cuts = 0
    chinese = False
    i = 0
    while i < len(job):
        byte = job[i]
        if byte == LF:
            lines.append(text.decode("gb18030", errors="replace"))
            text.clear()
            i += 1
            continue
        if byte not in (ESC, GS, FS):
            text.append(byte)
            i += 1
            continue
        _need(job, i + 2)
        prefix = job[i : i + 2]
        if prefix in _FIXED:
            chinese = chinese or prefix == b"\x1c&"
            i += 2 + _FIXED[prefix]
        elif prefix in (b"\x1d(",):  # GS ( k / GS ( L: pL pH then that many bytes
            _need(job, i + 5)
            size = job[i + 3] | job[i + 4] << 8
            _need(job, i + 5 + size)
            body = job[i + 5 : i + 5 + size]
            if job[i + 2 : i + 3] == b"k" and body[:3] == b"1P0":
                qr.append(body[3:].decode("utf-8", errors="replace"))
            i += 5 + size
        elif prefix == b"\x1dv":  # GS v 0 m xL xH yL yH data
            _need(job, i + 8)
            width = job[i + 4] | job[i + 5] << 8
            height = job[i + 6] | job[i + 7] << 8
            _need(job, i + 8 + width * height)
            images += 1
            i += 8 + width * height
        elif prefix == b"\x1dV":  # GS V m [n]
            _need(job, i + 3)
            cuts += 1
            i += 3 if job[i + 2] in (0, 1, 48, 49) else 4
        else:
            raise PrinterError(f"unknown ESC/POS command {prefix.hex(' ')} at byte {i}")
    if text:
        lines.append(text.decode("gb18030", errors="replace"))
    return JobPreview(lines=lines, qr_codes=qr, images=images, cuts=cuts,
                      chinese_mode=chinese)
