
"""Notice texts in Chinese, and how many SMS segments a text takes.

One text per notice (not per customer): every recipient of a notice reads the same
words, which is what the proof report has to show. Times are shown in the local zone
with the UTC offset written out, so a text read later or elsewhere is unambiguous.

SMS segments: a text with any character outside GSM 03.38 is sent as UCS-2, 70 UTF-16
units in one message, 67 per part when split (the rest carries the concatenation
header); GSM-7 texts take 160, or 153 per part. Chinese text is always UCS-2.
"""

from __future__ import annotations

import math
from datetime import datetime
from typing import Final

import msgspec

from core.time import for_people, zone_note
from notifications.model import NoticeKind, NoticeTexts, Outage, OutageKind

UCS2_SINGLE: Final = 70
UCS2_PART: Final = 67
GSM_SINGLE: Final = 160
GSM_PART: Final = 153
#: at most this many compounds are named; the rest are counted ("等 N 个小区")
MAX_COMPOUNDS: Final = 4
MAX_STREETS: Final = 3

_GSM_BASIC: Final = frozenset(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
_GSM_EXTENDED: Final = frozenset("^{}\\[~]|€\f")


class Segments(msgspec.Struct, frozen=True, kw_only=True):
    encoding: str  # "gsm7" | "ucs2"
    units: int  # septets (GSM-7) or UTF-16 code units (UCS-2)
    segments: int
    split: bool
    note: str


def count_segments(text: str) -> Segments:
    """The SMS parts ``text`` needs, and a note that says when it will be split."""
    if all(c in _GSM_BASIC or c in _GSM_EXTENDED for c in text):
        units = sum(2 if c in _GSM_EXTENDED else 1 for c in text)
        encoding, single, part = "gsm7", GSM_SINGLE, GSM_PART
    else:
        units = len(text.encode("utf-16-le")) // 2
        encoding, single, part = "ucs2", UCS2_SINGLE, UCS2_PART
    parts = 1 if units <= single else math.ceil(units / part)
    split = parts > 1
    note = (f"{units} {encoding} units: sent as {parts} concatenated parts of {part}"
            if split else f"{units} {encoding} units: fits one message of {single}")
    return Segments(encoding=encoding, units=units, segments=parts, split=split, note=note)


def sms_text(title: str, body: str, signature: str = "") -> str:
    """Exactly the text a handset shows for a notice sent by SMS, signature included.

    Customer notices carry the signature (``【utility】``) at the head of their body and
    are sent as the body alone; other notices (the level-1 alert) are sent as title and
    body. A signature missing at the head is put there, as Chinese gateways require one.
    Segments are counted on this text (``count_segments(sms_text(...))``), and the SMS
    plugin sends this text, so what is counted is what is paid for.
    """
    text = body if body.startswith("【") or not title else f"{title}\n{body}"
    head = f"【{signature}】" if signature else ""
    return text if not head or text.startswith(head) else head + text


def format_local(when: datetime, timezone: str = "Asia/Shanghai") -> str:
    """``2026-11-24 09:00``: the wall time in the profile's zone, to the minute. A text
    notes its zone once (``zone_note`` after its first time), never after every time."""
    return for_people(when, timezone)


def describe_area(streets: list[str], compounds: list[str]) -> str:
    """The outage area by street and residential-compound names (JN 10.3.1)."""
    parts = []
    if streets:
        shown = "、".join(streets[:MAX_STREETS])
        more = f"等{len(streets)}条道路" if len(streets) > MAX_STREETS else ""
        parts.append(f"{shown}{more}")
    if compounds:
        shown = "、".join(compounds[:MAX_COMPOUNDS])
        more = f"等{len(compounds)}个小区" if len(compounds) > MAX_COMPOUNDS else ""
        parts.append(f"{shown}{more}")
    return "沿线".join(parts) if len(parts) == 2 else (parts[0] if parts else "相关区域")


def render(kind: NoticeKind, outage: Outage, texts: NoticeTexts, *,
           timezone: str = "Asia/Shanghai", restored_at: datetime | None = None,
           new_restoration_at: datetime | None = None, reason: str = "") -> tuple[str, str]:
    """Title and body of a notice of ``kind`` about ``outage``."""
    sig = f"【{texts.utility_name}】"
    area = describe_area(outage.streets, outage.compounds)
    # the zone is noted once, after the first time of each text (all its times share it)
    note = zone_note(timezone, outage.start_at)
    start = format_local(outage.start_at, timezone)
    end = format_local(outage.expected_restoration_at, timezone)
    tail = f"咨询电话{texts.hotline}。"
    if kind is NoticeKind.ANNOUNCEMENT and outage.kind is OutageKind.PRESSURE_REDUCTION:
        return ("降压供水通知", f"{sig}降压供水通知：因{outage.cause}，{area}将于{start}{note}至"
                f"{end}降低水压供水，高层用户可能水压不足，请提前储水。{tail}")
    if kind is NoticeKind.ANNOUNCEMENT:
        what = "停水" if outage.kind is OutageKind.PLANNED else "暂停供水"
        return ("停水通知", f"{sig}停水通知：因{outage.cause}，{area}将于{start}{note}至{end}"
                f"{what}，请提前储水。{tail}")
    if kind is NoticeKind.OPERATIONS:
        return (f"用户原因停水报备 {outage.title or outage.id}",
                f"运营管理部：{area}因{outage.cause}（用户原因）将于{start}{note}对总表暂停"
                f"供水，预计{end}恢复，影响{outage.customer_count}户；停水公告已张贴、资料已"
                "留存（LC §19(四)）。")
    if kind is NoticeKind.EMERGENCY:
        return ("紧急停水通知", f"{sig}紧急停水通知：因{outage.cause}，{area}自{start}{note}起"
                f"停水，预计{end}恢复供水，抢修期间提供临时供水。{tail}")
    if kind is NoticeKind.DELAY:
        new = (f"推迟至{format_local(new_restoration_at, timezone)}" if new_restoration_at
               else "推迟，恢复时间另行通知")
        why = f"因{reason}，" if reason else ""
        note = zone_note(timezone, outage.expected_restoration_at)
        return ("恢复供水延迟通知", f"{sig}恢复供水延迟：{area}原定{end}{note}恢复供水，{why}将"
                f"{new}。敬请谅解。{tail}")
    if kind is NoticeKind.RESTORATION:
        restored = restored_at or outage.expected_restoration_at
        at, note = format_local(restored, timezone), zone_note(timezone, restored)
        return ("恢复供水通知", f"{sig}恢复供水通知：{area}已于{at}{note}恢复供水，"
                f"初期水质如有浑浊请放水片刻。{tail}")
    if kind is NoticeKind.CANCELLATION:
        why = f"（{reason}）" if reason else ""
        return ("取消停水通知", f"{sig}取消停水通知：原定{start}{note}起{area}的停水已取消{why}。"
                f"{tail}")
    # the alert's body carries its title too: an SMS (or a gateway that drops titles)
    # shows the body only, and the segments are counted on it
    title = f"一级告警：应急停水 {outage.title or outage.id}"
    return (title, f"{sig}{title}\n应急停水：{area}，影响{outage.customer_count}户，"
            f"原因：{outage.cause}；开始{start}{note}，预计恢复{end}。请按一级响应处置。")
