
"""The public outage feed for the website's planned-outage disclosure (ZJ annex B, JN 11).

GeoJSON (a FeatureCollection, one Feature per outage, the area as geometry) and
iCalendar (one VEVENT per outage, so people can subscribe in their calendar apps).
Only public facts: kind, state, area names, cause, times, the number of affected
customers; never a customer's name or number. Drafts are not published.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Final

import icalendar

from notifications.model import NoticeTexts, Outage, OutageState
from notifications.templates import describe_area, format_local

PUBLIC_STATES: Final = frozenset({OutageState.ANNOUNCED, OutageState.STARTED,
                                  OutageState.DELAYED, OutageState.RESTORED,
                                  OutageState.CANCELLED})
KIND_ZH: Final = {"planned": "计划停水", "pressure_reduction": "计划降压",
                  "emergency": "应急停水", "customer_caused": "用户原因停水"}
STATE_ZH: Final = {"announced": "已公告", "started": "停水中", "delayed": "延迟恢复",
                   "restored": "已恢复", "cancelled": "已取消"}


def public(outages: Sequence[Outage]) -> list[Outage]:
    return [o for o in outages if o.state in PUBLIC_STATES]


def to_geojson(outages: Sequence[Outage], timezone: str = "Asia/Shanghai"
               ) -> dict[str, object]:
    features: list[dict[str, object]] = [_feature(o, timezone) for o in public(outages)]
    return {"type": "FeatureCollection", "features": features}


def _feature(o: Outage, timezone: str) -> dict[str, object]:
    return {
        "type": "Feature",
        "id": o.id,
        "geometry": o.area,
        "properties": {
            "id": o.id, "kind": str(o.kind), "kind_zh": KIND_ZH[str(o.kind)],
            "state": str(o.state), "state_zh": STATE_ZH[str(o.state)],
            "title": o.title, "cause": o.cause, "streets": o.streets,
            "compounds": o.compounds, "area_text": describe_area(o.streets, o.compounds),
            "affected_customers": o.customer_count,
            "start": o.start_at.isoformat(),
            "expected_restoration": o.expected_restoration_at.isoformat(),
            "start_local": format_local(o.start_at, timezone),
            "expected_restoration_local": format_local(o.expected_restoration_at, timezone),
            "restored_at": o.restored_at.isoformat() if o.restored_at else None,
            "version": o.version,
        },
    }


def to_ical(outages: Sequence[Outage], texts: NoticeTexts, now: datetime,
            domain: str = "waterops.example") -> bytes:
    cal = icalendar.Calendar()
    cal.add("prodid", f"-//{texts.utility_name}//waterops outages//ZH")
    cal.add("version", "2.0")
    cal.add("x-wr-calname", f"{texts.utility_name}停水公告")
    for o in public(outages):
        ev = icalendar.Event()
        ev.add("uid", f"{o.id}@{domain}")
        ev.add("dtstamp", now)
        ev.add("dtstart", o.start_at)
        ev.add("dtend", o.restored_at or o.expected_restoration_at)
        ev.add("summary", f"{KIND_ZH[str(o.kind)]}：{describe_area(o.streets, o.compounds)}")
        ev.add("location", "、".join([*o.streets, *o.compounds]))
        ev.add("description", f"原因：{o.cause}。状态：{STATE_ZH[str(o.state)]}。"
                              f"影响{o.customer_count}户。咨询电话{texts.hotline}。")
        ev.add("sequence", o.version)
        ev.add("status", "CANCELLED" if o.state is OutageState.CANCELLED else "CONFIRMED")
        cal.add_component(ev)
    return bytes(cal.to_ical())
