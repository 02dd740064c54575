"""A printable copy of a sealed notice: PDF (fpdf2) with a CJK font and the seal.

The notice is Chinese, so the PDF needs a font with CJK glyphs. fpdf2 embeds a subset of
a TrueType font (a whole font would be megabytes per notice). We look for one in the
configured path, then in the usual Debian locations (package ``fonts-wqy-microhei``, or
``fonts-noto-cjk`` / ``fonts-droid-fallback``); without one, ``NoPrinterFontError`` says
exactly what to install, and ``render_notice_text`` gives the plain text a receipt
printer can print instead; ``render_notice_escpos`` makes the ESC/POS job for the crew's
thermal printer (``hardware_adapters.printer``), which needs no font on the server.

The printout carries the document id, the content hash, the previous hash and the key
id, so a paper copy can be checked against the archive (``waterops notices verify``).
Its times are for people: the wall time of the profile's zone to the minute, the zone
noted once (after the first); the archive keeps the exact UTC stamps.
"""

from __future__ import annotations

import io
from datetime import datetime
from decimal import Decimal
from pathlib import Path
from typing import Final

from fpdf import FPDF

from core.time import for_people, zone_note
from hardware_adapters.printer.base import NoticeSlip, SlipPosition, SlipReading
from hardware_adapters.printer.escpos_printer import render_slip
from server.fieldwork.errors import NoPrinterFontError
from server.fieldwork.sealing import SealedFields

#: (path, index in a TrueType collection)
FONT_CANDIDATES: Final[tuple[tuple[str, int], ...]] = (
    ("/usr/share/fonts/truetype/wqy/wqy-microhei.ttc", 0),
    ("/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc", 0),
    ("/usr/share/fonts/truetype/droid/DroidSansFallbackFull.ttf", 0),
    ("/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc", 2),
)
INSTALL_HINT: Final = "apt-get install -y fonts-wqy-microhei"

TITLES: Final[dict[str, str]] = {
    "meter_replacement_notice": "换表通知单 Meter replacement notice",
    "meter_removal_slip": "撤表单 Meter removal slip",
    "meter_fitting_notice": "挂表单 Meter fitting notice",
}

#: field -> label printed on the notice, in print order
LABELS: Final[tuple[tuple[str, str], ...]] = (
    ("connection_number", "报装编号 Connection no."),
    ("account_no", "户号 Account no."),
    ("account_name", "户名 Account name"),
    ("address", "地址 Address"),
    ("meter_location", "表址 Meter location"),
    ("diameter_mm", "口径 Diameter (mm)"),
    ("old_meter_no", "旧表号 Old meter no."),
    ("final_reading", "抄表止度 Final reading (m³)"),
    ("new_meter_no", "新表号 New meter no."),
    ("initial_reading", "新表起度 Initial reading (m³)"),
    ("meter_no", "表号 Meter no."),
    ("illegal_use_found", "违章用水 Illegal use found"),
    ("pipe_cut", "已掐管 Inlet pipe cut"),
    ("locking_gate_fitted", "已装锁闭阀 Locking gate fitted"),
    ("periodic", "周期换表 Periodic replacement"),
    ("consent", "用户同意 Customer consent"),
    ("fault", "故障 Fault"),
    ("crew_id", "班组 Crew"),
    ("crew_members", "人员 Crew members"),
    ("performed_at", "时间 Time"),
    ("position", "位置 Position (lon, lat)"),
)


def find_cjk_font(configured: str | None = None) -> tuple[str, int] | None:
    """The font (file, face index) PDFs are drawn with, or None when there is none.

    A configured font is the operator's choice: only it is tried, so a wrong path is
    seen at once (no-cjk-font) instead of a notice silently drawn in another font.
    """
    candidates = [(configured, 0)] if configured else list(FONT_CANDIDATES)
    for path, index in candidates:
        if Path(path).is_file():
            return path, index
    return None


def require_cjk_font(configured: str | None = None) -> tuple[str, int]:
    """``find_cjk_font``, or no-cjk-font (409) naming what to install or configure."""
    font = find_cjk_font(configured)
    if font is None:
        where = f"the configured pdf_font {configured!r} is not a file" if configured else \
            f"no CJK font found; install one ({INSTALL_HINT}) or set pdf_font to a font file"
        raise NoPrinterFontError(where, install=INSTALL_HINT)
    return font


#: sealed fields and seal entries that hold an RFC 3339 time (UTC in the archive)
TIME_FIELDS: Final = frozenset({"performed_at", "sealed_at"})


def _value(value: object) -> str:
    if isinstance(value, bool):
        return "是 yes" if value else "否 no"
    if isinstance(value, list):
        return ", ".join(_value(v) for v in value)
    return "" if value is None else str(value)


class _Times:
    """Shows the printout's times in ``timezone``; the first one carries the zone note."""

    def __init__(self, timezone: str) -> None:
        self.tz = timezone
        self.noted = False

    def show(self, name: str, value: object) -> str:
        if name not in TIME_FIELDS or not isinstance(value, str):
            return _value(value)
        try:
            when = datetime.fromisoformat(value)
        except ValueError:
            return value  # not a time after all: printed as sealed
        if when.tzinfo is None:
            return value
        shown = for_people(when, self.tz)
        if not self.noted:
            self.noted = True
            shown += zone_note(self.tz, when)
        return shown


def _lines(fields: SealedFields, seal: dict[str, str], timezone: str
           ) -> tuple[list[tuple[str, str]], list[tuple[str, str]]]:
    times = _Times(timezone)
    body = [(label, times.show(name, fields[name])) for name, label in LABELS if name in fields]
    return body, [(k, times.show(k, v)) for k, v in seal.items()]


def render_notice_text(kind: str, fields: SealedFields, seal: dict[str, str],
                       timezone: str = "Asia/Shanghai") -> str:
    """The notice as plain text lines (for a receipt printer or a log)."""
    body, sealed = _lines(fields, seal, timezone)
    lines = [TITLES.get(kind, kind), ""]
    lines += [f"{label}: {value}" for label, value in body]
    lines += ["", *(f"{k}: {v}" for k, v in sealed)]
    return "\n".join(lines)


def render_notice_pdf(kind: str, fields: SealedFields, seal: dict[str, str],
                      signature_png: bytes | None, font: tuple[str, int],
                      timezone: str = "Asia/Shanghai") -> bytes:
    """An A5 PDF of the notice with the signature image and the seal block; times in
    ``timezone`` (the profile's) to the minute."""
    pdf = FPDF(format=(148, 210))  # A5 in mm
    pdf.set_creator("waterops")
    pdf.set_auto_page_break(auto=True, margin=12)
    pdf.add_page()
    pdf.add_font("cjk", "", font[0], collection_font_number=font[1])
    pdf.set_font("cjk", size=14)
    pdf.cell(0, 10, TITLES.get(kind, kind), new_x="LMARGIN", new_y="NEXT", align="C")
    pdf.set_font("cjk", size=9)
    body, sealed = _lines(fields, seal, timezone)
    for label, value in body:
        pdf.cell(52, 6, label)
        pdf.multi_cell(0, 6, value, new_x="LMARGIN", new_y="NEXT")
    pdf.ln(2)
    pdf.cell(0, 6, "客户签名 Customer signature:", new_x="LMARGIN", new_y="NEXT")
    if signature_png:
        pdf.image(io.BytesIO(signature_png), w=60)
    pdf.ln(2)
    pdf.set_font("cjk", size=6)
    for key, value in sealed:
        pdf.multi_cell(0, 3.5, f"{key}: {value}", new_x="LMARGIN", new_y="NEXT")
    return bytes(pdf.output())


def _reading(fields: SealedFields, name: str, meter: str, label: str) -> list[SlipReading]:
    value = fields.get(name)
    if not isinstance(value, int | float):
        return []
    return [SlipReading(meter=str(fields.get(meter) or ""), value_m3=Decimal(str(value)),
                        label=label)]


def to_slip(kind: str, fields: SealedFields, content_hash: str, sealed_at: datetime,
            verification_url: str, utility_name: str = "", hotline: str = "") -> NoticeSlip:
    """The receipt-printer face of a sealed notice, with the seal hash and a QR to verify."""
    meters = [str(fields[k]) for k in ("old_meter_no", "new_meter_no", "meter_no")
              if fields.get(k)]
    readings = (_reading(fields, "final_reading", "old_meter_no", "抄表止度")
                + _reading(fields, "initial_reading", "new_meter_no", "新表起度")
                if kind == "meter_replacement_notice"
                else _reading(fields, "initial_reading", "meter_no", "起度")
                if kind == "meter_fitting_notice"
                else _reading(fields, "final_reading", "meter_no", "抄表止度"))
    pos = fields.get("position")
    position = (SlipPosition(lon=float(pos[0]), lat=float(pos[1]), crs="WGS84")
                if isinstance(pos, list) and len(pos) == 2 else None)
    return NoticeSlip(title=TITLES.get(kind, kind).split(" ")[0],
                      verification_url=verification_url, seal_hash=content_hash,
                      issued_at=sealed_at, account_name=str(fields.get("account_name", "")),
                      address=str(fields.get("address", "")), meter_numbers=meters,
                      readings=readings, crew=str(fields.get("crew_id", "")), position=position,
                      utility_name=utility_name, hotline=hotline)


#: print widths a thermal printer has (58 mm: 32 columns, 80 mm: 48, wide heads 64+)
MIN_COLUMNS: Final = 16
MAX_COLUMNS: Final = 96


def render_notice_escpos(slip: NoticeSlip, columns: int = 32) -> bytes:
    """The ESC/POS job bytes for a 58 mm (32 columns) or 80 mm (48) thermal printer.

    ``columns`` is bounded: ten million columns once built a 20 MB job and held the server
    for seconds; below 16 the layout breaks.
    """
    if not MIN_COLUMNS <= columns <= MAX_COLUMNS:
        raise ValueError(f"columns must be {MIN_COLUMNS}-{MAX_COLUMNS}")
    return render_slip(slip, columns=columns)
