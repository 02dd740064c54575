"""Render a :class:`NoticeSlip` to ESC/POS with python-escpos and send it to a printer.

Chinese text. python-escpos encodes text through code pages (``MagicEncode``), which hold
no Chinese characters, so ``printer.text("停水")`` would print question marks. Chinese
thermal printers (the 58/80 mm Bluetooth kind crews carry) print GB18030/GBK double-byte
text natively in their *Chinese character mode*. So the slip is sent as raw bytes: FS &
(1C 26) selects Chinese mode once at the top, every line is GB18030-encoded (ASCII stays
single-byte, so mixed text works), and FS . (1C 2E) leaves the mode at the end. Formatting
(alignment, bold, double size, cut) and the QR code use python-escpos commands.

QR code. ``qr="native"`` sends GS ( k, the printer draws the code (crisp, small job);
``qr="image"`` rasterises it with the qrcode library for printers without GS ( k.

The job is rendered to bytes first (:func:`render_slip`, pure) and written in one go,
so the SHA-256 in :class:`PrintJob` is exactly what the printer received.
"""

# Chinese slips use full-width colons and parentheses on purpose.

from __future__ import annotations

import contextlib
import hashlib
import unicodedata
from collections.abc import Iterator
from types import TracebackType
from typing import Final
from zoneinfo import ZoneInfo

from escpos.constants import QR_ECLEVEL_M
from escpos.escpos import Escpos
from escpos.exceptions import Error as EscposLibraryError
from escpos.printer import Dummy

from hardware_adapters.errors import PrinterError
from hardware_adapters.printer.base import NoticeSlip, PrintJob

CHINESE_ON: Final = b"\x1c\x26"  # FS &
CHINESE_OFF: Final = b"\x1c\x2e"  # FS .
ENCODING: Final = "gb18030"
BEIJING: Final = ZoneInfo("Asia/Shanghai")


def display_width(text: str) -> int:
    """Columns a string takes: CJK wide/fullwidth characters take two."""
    return sum(2 if unicodedata.east_asian_width(c) in ("W", "F") else 1 for c in text)


def wrap(text: str, columns: int) -> Iterator[str]:
    """Split ``text`` into lines of at most ``columns`` display columns (no hyphenation)."""
    line, width = "", 0
    for char in text.replace("\r", ""):
        if char == "\n":
            yield line
            line, width = "", 0
            continue
        w = 2 if unicodedata.east_asian_width(char) in ("W", "F") else 1
        if width + w > columns:
            yield line
            line, width = "", 0
        line += char
        width += w
    yield line


def _line(printer: Escpos, text: str, columns: int) -> None:
    for part in wrap(text, columns):
        printer._raw(part.encode(ENCODING, errors="replace") + b"\n")


def _field(printer: Escpos, label: str, value: str, columns: int) -> None:
    if value:
        _line(printer, f"{label}：{value}", columns)


def render_slip(slip: NoticeSlip, *, columns: int = 32, qr: str = "native",
                cjk_mode: bool = True) -> bytes:
    """The complete ESC/POS job for ``slip`` on a printer ``columns`` ASCII columns wide
    (32 for 58 mm paper, 48 for 80 mm)."""
    if qr not in ("native", "image"):
        raise PrinterError(f"qr must be 'native' or 'image', got {qr!r}")
    if columns < 16:
        raise PrinterError("a slip needs at least 16 columns")
    p = Dummy()
    try:
        p.hw("INIT")
        if cjk_mode:
            p._raw(CHINESE_ON)
        p.set(align="center", bold=True, double_height=True, double_width=True)
        _line(p, slip.title, columns // 2)
        p.set(align="center", bold=False, normal_textsize=True)
        if slip.utility_name:
            _line(p, slip.utility_name, columns)
        p.set(align="left")
        _line(p, "-" * columns, columns)
        _field(p, "户名", slip.account_name, columns)
        _field(p, "地址", slip.address, columns)
        _field(p, "表号", "、".join(slip.meter_numbers), columns)
        for reading in slip.readings:
            which = f"（表{reading.meter[-6:]}）" if len(slip.readings) > 1 else ""
            _line(p, f"{reading.label}{which}：{reading.value_m3} 立方米", columns)
        for paragraph in slip.body:
            _line(p, paragraph, columns)
        _line(p, "-" * columns, columns)
        _field(p, "班组", slip.crew, columns)
        issued = slip.issued_at.astimezone(BEIJING).strftime("%Y-%m-%d %H:%M:%S")
        _field(p, "时间", f"{issued}(北京)", columns)
        if slip.position is not None:
            pos = slip.position
            _field(p, "位置", f"{pos.lon:.6f},{pos.lat:.6f}", columns)
            _field(p, "坐标系", pos.crs, columns)
        if slip.seal_hash:
            _line(p, "封存摘要：", columns)
            _line(p, slip.seal_hash, columns)
        p.set(align="center")
        if slip.verification_url:
            if qr == "native":
                p._raw(b"\n")
                p.qr(slip.verification_url, native=True, size=6, ec=QR_ECLEVEL_M)
            else:
                p.qr(slip.verification_url, native=False, size=6, ec=QR_ECLEVEL_M,
                     center=False)
            _line(p, "扫码核验", columns)
            _line(p, slip.verification_url, columns)
        if slip.hotline:
            _line(p, f"服务热线：{slip.hotline}", columns)
        if cjk_mode:
            p._raw(CHINESE_OFF)
        p.cut()
    except (EscposLibraryError, ValueError) as exc:
        raise PrinterError(f"cannot render the slip: {exc}") from None
    job: bytes = p.output
    return job


class EscposNoticePrinter:
    """Sends rendered slips to a python-escpos device (File, Serial, Network or Dummy)."""

    def __init__(self, device: Escpos, *, url: str, columns: int = 32, qr: str = "native",
                 cjk_mode: bool = True) -> None:
        self.url = url
        self.device = device
        self.columns = columns
        self.qr = qr
        self.cjk_mode = cjk_mode
        self.last_job = b""  # the bytes of the last slip sent, for previews and audits

    def print_slip(self, slip: NoticeSlip) -> PrintJob:
        job = render_slip(slip, columns=self.columns, qr=self.qr, cjk_mode=self.cjk_mode)
        self.last_job = job
        try:
            self.device._raw(job)
        except (OSError, EscposLibraryError, AssertionError) as exc:
            raise PrinterError(f"printer {self.url} did not take the job: {exc}") from None
        return PrintJob(device=self.url, size_bytes=len(job),
                        sha256=hashlib.sha256(job).hexdigest())

    def close(self) -> None:
        with contextlib.suppress(OSError, EscposLibraryError):
            self.device.close()

    def __enter__(self) -> EscposNoticePrinter:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.close()
