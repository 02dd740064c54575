
"""The printable outage notice for posting in stairwells and at compound gates (A4, Chinese).

Many residents never see an SMS (no phone on file, elderly, tenants), so utilities post a
paper notice at every affected building; the door-to-door tasks of the channel fallback
post this sheet. It carries what the rules ask of an outage notice: the area (compounds
and streets, and the four bounds when the outage came from an isolation plan), start and
expected restoration in Beijing time, the reason and the service hotline.
"""

from __future__ import annotations

from datetime import datetime
from typing import Final
from zoneinfo import ZoneInfo

from fpdf import FPDF

from core.time import zone_note
from geo.model import FourBounds
from notifications import Outage
from server.fieldwork.printing import require_cjk_font

KIND_TITLES: Final = {"planned": "计划停水通知", "emergency": "紧急停水通知",
                      "customer_caused": "停水通知"}


def _local(when: datetime, tz: ZoneInfo) -> str:
    t = when.astimezone(tz)
    return f"{t.year}年{t.month}月{t.day}日 {t.hour:02d}:{t.minute:02d}"


def posting_lines(outage: Outage, bounds: FourBounds | None, utility: str, hotline: str,
                  issued_at: datetime, timezone: str = "Asia/Shanghai"
                  ) -> list[tuple[str, str]]:
    """The notice as (style, text) lines; the PDF and tests read the same text.

    Times are the wall time of ``timezone`` (the profile's) to the minute; the one zone
    note is on the outage-time line.
    """
    tz = ZoneInfo(timezone)

    def _at(when: datetime) -> str:
        return _local(when, tz)

    kind = str(outage.kind)
    area = "、".join(outage.compounds) or "、".join(outage.streets) or outage.title
    lines = [("title", KIND_TITLES.get(kind, "停水通知")),
             ("body", "尊敬的用户："),
             ("body", f"因{outage.cause}，{utility}定于{_at(outage.start_at)}至"
                      f"{_at(outage.expected_restoration_at)}对以下区域暂停供水，"
                      "请提前做好储水准备。给您带来不便，敬请谅解。"),
             ("head", "停水区域"),
             ("body", area)]
    if outage.streets:
        lines.append(("body", "涉及道路：" + "、".join(outage.streets)))
    if bounds is not None and any((bounds.east, bounds.west, bounds.south, bounds.north)):
        lines += [("head", "四至范围"),
                  ("body", f"东至{bounds.east or '—'}，西至{bounds.west or '—'}，"
                           f"南至{bounds.south or '—'}，北至{bounds.north or '—'}")]
    lines += [("head", "停水时间"),
              ("body", f"{_at(outage.start_at)} 至 {_at(outage.expected_restoration_at)}"
                       + zone_note(tz, outage.start_at)),
              ("head", "停水原因"),
              ("body", outage.cause),
              ("head", "服务热线"),
              ("big", hotline),
              ("right", utility),
              ("right", _at(issued_at)[:-6]),
              ("small", f"编号 {outage.id}")]
    return lines


def render_posting_pdf(outage: Outage, bounds: FourBounds | None, utility: str, hotline: str,
                       issued_at: datetime, font_path: str | None = None,
                       timezone: str = "Asia/Shanghai") -> bytes:
    """An A4 portrait PDF of the posting notice (fpdf2 with an embedded CJK subset)."""
    font = require_cjk_font(font_path)
    pdf = FPDF(format="A4")
    pdf.set_creator("waterops")
    pdf.set_title(f"{KIND_TITLES.get(str(outage.kind), '停水通知')} {outage.id}")
    pdf.set_auto_page_break(auto=True, margin=15)
    pdf.set_margins(20, 20, 20)
    pdf.add_page()
    pdf.add_font("cjk", "", font[0], collection_font_number=font[1])
    sizes = {"title": 30, "head": 16, "body": 14, "big": 26, "right": 14, "small": 9}
    for style, text in posting_lines(outage, bounds, utility, hotline, issued_at, timezone):
        pdf.set_font("cjk", size=sizes[style])
        if style == "title":
            pdf.cell(0, 18, text, new_x="LMARGIN", new_y="NEXT", align="C")
            pdf.ln(4)
        elif style == "head":
            pdf.ln(2)
            pdf.cell(0, 9, f"【{text}】", new_x="LMARGIN", new_y="NEXT")
        elif style == "right":
            pdf.cell(0, 8, text, new_x="LMARGIN", new_y="NEXT", align="R")
        else:
            pdf.multi_cell(0, sizes[style] * 0.55, text, new_x="LMARGIN", new_y="NEXT")
    return bytes(pdf.output())
