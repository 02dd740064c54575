"""Water-quality complaint clusters and the level-1 emergency report (JN 12).

Ten or more complaints about the same water-quality problem in one area within 24 h must
be reported at once. "One area" is the same residential compound, or within the profile's
radius; count, window and radius are profile thresholds.

The 24 h are counted on the complaints' *received* times, whatever order they are entered
in: a complaint keyed in late with an earlier time can complete a window that lies
before the newest complaint, so every 24 h window containing the new complaint is
checked (``densest_window``). Compound names are compared by ``area_key`` (Unicode NFKC,
so full-width and half-width forms agree, whitespace collapsed, case folded), because
the same compound arrives typed differently from the hotline, the counter and WeChat.
``raised_at`` is when the report was raised (the server's clock), not a complaint's time.

A cluster raises exactly one report. It stays live while complaints of its kind keep
arriving in its area within the window; complaints then join it silently. After a quiet
window it expires, and a new cluster in that area raises a new report. The report is
recorded first and sent after the transaction commits, so a failed send is retried by
the reminder scan instead of being lost.
"""

from __future__ import annotations

import io
import logging
import math
import re
import unicodedata
import uuid
from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta
from typing import Final, Protocol

import apprise

from core.rows import integer, number, opt_text, opt_time
from server.clock import to_local
from server.paging import after, check_limit, cut_page
from server.policy.model import Thresholds
from server.tickets.model import Alert, AlertList
from server.tickets.store import Row, TicketStore
from server.timefmt import from_db, to_db

_SPACES: Final = re.compile(r"\s+")
#: a space next to a non-ASCII character (Chinese names) carries no meaning
_CJK_SPACE: Final = re.compile(r"(?<=[^\x00-\x7f]) | (?=[^\x00-\x7f])")
#: what /health and the alert list say when nobody would receive a level-1 report
NO_RECIPIENTS: Final = "no recipients for level-1 alerts (set alert_group_url)"

EARTH_RADIUS_M: Final = 6_371_008.8
KIND_TITLES: Final = {
    "quality_discoloured": "水发黄/浑浊", "quality_odour": "水有异味", "quality_taste": "口感异常",
    "quality_particles": "水中杂质", "quality_other": "其他水质问题",
}


class AlertSender(Protocol):
    """Delivers one message to the level-1 alert group; True when the channel took it."""

    def send(self, title: str, body: str) -> bool: ...


class AppriseAlertSender:
    """Sends through apprise to one URL (``Settings.alert_group_url``, e.g. ``wecombot://``).

    apprise answers only a bool, so the warnings it logs during the call are captured and
    kept in ``last_error`` for the alert record.
    """

    def __init__(self, url: str) -> None:
        self.url = url
        self.last_error: str | None = None

    def send(self, title: str, body: str) -> bool:
        self.last_error = None
        notifier = apprise.Apprise()
        if not notifier.add(self.url):
            self.last_error = "the alert group URL is not a valid apprise URL"
            return False
        with apprise.LogCapture(level=logging.WARNING) as logs:  # type: ignore[no-untyped-call]
            ok = bool(notifier.notify(body=body, title=title))
        if not ok:
            captured = logs.getvalue().strip() if isinstance(logs, io.StringIO) else ""
            self.last_error = captured[-500:] or "apprise reported a failed delivery"
        return ok


class UnconfiguredAlertSender:
    """No alert group configured: every report stays recorded as unsent (and visible)."""

    last_error: str | None = "no alert group URL is configured"

    def send(self, title: str, body: str) -> bool:  # noqa: ARG002 - the Protocol's shape
        return False


def distance_m(lon1: float, lat1: float, lon2: float, lat2: float) -> float:
    """Great-circle distance in metres (haversine on the mean Earth radius)."""
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * EARTH_RADIUS_M * math.asin(min(1.0, math.sqrt(a)))


def bbox_around(lon: float, lat: float, radius_m: float) -> tuple[float, float, float, float]:
    """A lon/lat box that contains the circle of ``radius_m`` (for an index pre-filter)."""
    dlat = math.degrees(radius_m / EARTH_RADIUS_M)
    dlon = dlat / max(math.cos(math.radians(lat)), 1e-6)
    return lon - dlon, lat - dlat, lon + dlon, lat + dlat


def area_key(compound: str) -> str:
    """The form compound names are grouped by: NFKC (full-width "３号院" is "3号院", the
    ideographic space a space), whitespace runs collapsed, spaces beside Chinese
    characters dropped ("阳光 小区" is "阳光小区"), ends stripped, case folded."""
    text = _SPACES.sub(" ", unicodedata.normalize("NFKC", compound)).strip()
    return _CJK_SPACE.sub("", text).casefold()


def same_area(a: Mapping[str, object], b: Mapping[str, object], radius_m: float) -> bool:
    """Same non-empty compound (by ``area_key``), or both located and within ``radius_m``."""
    key_a, key_b = area_key(str(a["compound"] or "")), area_key(str(b["compound"] or ""))
    if key_a and key_a == key_b:
        return True
    if None in (a["lon"], a["lat"], b["lon"], b["lat"]):
        return False
    return distance_m(number(a, "lon"), number(a, "lat"),
                      number(b, "lon"), number(b, "lat")) <= radius_m


def densest_window(members: Sequence[Row], at: datetime, window: timedelta,
                   count: int) -> list[Row] | None:
    """The fullest ``window``-long span of received times that contains ``at`` and holds at
    least ``count`` complaints, or None. Linear after sorting (two pointers)."""
    rows = sorted(members, key=lambda m: (str(m["received_at"]), str(m["id"])))
    times = [from_db(str(m["received_at"])) for m in rows]
    best: list[Row] | None = None
    end = 0
    for begin, first in enumerate(times):
        if first > at:
            break
        end = max(end, begin)
        while end < len(times) and times[end] <= first + window:
            end += 1
        if first + window >= at and end - begin >= count and (
                best is None or end - begin > len(best)):
            best = rows[begin:end]
    return best


def _local(text: str) -> str:
    return to_local(from_db(text)).strftime("%Y-%m-%d %H:%M")


class QualityWatch:
    def __init__(self, store: TicketStore, thresholds: Thresholds, sender: AlertSender,
                 configured: bool = True) -> None:
        self.store = store
        self.thresholds = thresholds
        self.sender = sender
        #: False when no alert group is configured: reports are kept, nobody receives them
        self.configured = configured

    def observe(self, complaint: Row, now: datetime) -> str | None:
        """Place a new water-quality complaint; returns the id of a report it raised.

        Call inside the transaction that stored the complaint; then ``deliver`` the
        returned alert after commit. ``now`` is when the report is raised.
        """
        th = self.thresholds
        at = from_db(str(complaint["received_at"]))
        window = timedelta(hours=th.quality_cluster_window_hours)
        kind = str(complaint["kind"])
        for cluster in self.store.live_clusters(kind, at - window):
            if (from_db(str(cluster["first_at"])) - window <= at
                    and same_area(cluster, complaint, th.quality_cluster_radius_m)):
                self.store.join_cluster(str(cluster["id"]), str(complaint["id"]), at)
                return None
        located = complaint["lon"] is not None and complaint["lat"] is not None
        bbox = (bbox_around(number(complaint, "lon"), number(complaint, "lat"),
                            th.quality_cluster_radius_m) if located else None)
        candidates = self.store.quality_candidates(kind, at - window, at + window, bbox,
                                                   area_key(str(complaint["compound"])))
        members = [c for c in candidates if same_area(c, complaint, th.quality_cluster_radius_m)]
        group = densest_window(members, at, window, th.quality_cluster_count)
        if group is None:
            return None
        return self._raise(complaint, group, now)

    def alerts(self, limit: int = 100, cursor: str | None = None) -> AlertList:
        """Every recorded report, newest first, also when no alert group receives them;
        one page (``server.paging``)."""
        rows, next_cursor = cut_page(
            self.store.alerts(check_limit(limit, 500) + 1, after(cursor, 2)), limit,
            lambda a: (str(a["raised_at"]), str(a["id"])))
        items = [Alert(
            id=str(a["id"]), source=str(a["source"]), source_id=str(a["source_id"]),
            title=str(a["title"]), body=str(a["body"]), raised_at=from_db(str(a["raised_at"])),
            sent_at=opt_time(a, "sent_at"),
            attempts=integer(a, "attempts"),
            last_error=opt_text(a, "last_error"),
            raised_at_local=to_local(from_db(str(a["raised_at"]))).isoformat(),
        ) for a in rows]
        return AlertList(items=items, recipients_configured=self.configured,
                         warning="" if self.configured else NO_RECIPIENTS,
                         next_cursor=next_cursor)

    def _raise(self, anchor: Row, members: list[Row], at: datetime) -> str:
        cluster_id, alert_id = str(uuid.uuid4()), str(uuid.uuid4())
        points = [(float(str(m["lon"])), float(str(m["lat"]))) for m in members
                  if m["lon"] is not None and m["lat"] is not None]
        lon = sum(p[0] for p in points) / len(points) if points else None
        lat = sum(p[1] for p in points) / len(points) if points else None
        first = min(str(m["received_at"]) for m in members)
        last = max(str(m["received_at"]) for m in members)
        kind = str(anchor["kind"])
        area = str(anchor["compound"]) or (
            f"({lon:.5f}, {lat:.5f}) 周边 {self.thresholds.quality_cluster_radius_m:.0f} 米"
            if lon is not None and lat is not None else "未定位区域")
        title = f"【一级预警】水质投诉聚集：{area} {KIND_TITLES.get(kind, kind)}"
        body = (
            f"{area} 自 {_local(first)}（北京时间）至 {_local(last)} "
            f"{self.thresholds.quality_cluster_window_hours:g} 小时内收到"
            f"同类水质投诉（{KIND_TITLES.get(kind, kind)}）{len(members)} 起，已达报告阈值 "
            f"{self.thresholds.quality_cluster_count} 起。依据 JN 12 按应急预案逐级报告。"
            f"聚集编号 {cluster_id}。"
        )
        self.store.insert_alert({"id": alert_id, "source": "quality_cluster",
                                 "source_id": cluster_id, "title": title, "body": body,
                                 "raised_at": to_db(at), "sent_at": None, "attempts": 0,
                                 "last_error": None})
        self.store.insert_cluster(
            {"id": cluster_id, "kind": kind, "compound": str(anchor["compound"]), "lon": lon,
             "lat": lat, "first_at": first, "raised_at": to_db(at), "last_at": last,
             "count": len(members), "alert_id": alert_id},
            [str(m["id"]) for m in members])
        return alert_id

    def deliver(self, alert_id: str, now: datetime) -> bool:
        """Send a recorded report and record the attempt's outcome."""
        alert = self.store.alert(alert_id)
        if alert is None or alert["sent_at"] is not None:
            return False
        ok = self.sender.send(str(alert["title"]), str(alert["body"]))
        error = None if ok else (getattr(self.sender, "last_error", None)
                                 or "the alert sender reported a failure")
        with self.store.db.atomic():
            self.store.record_alert_attempt(alert_id, now if ok else None, error)
        return ok

    def retry_unsent(self, now: datetime) -> int:
        """Try every unsent report again; returns how many went out."""
        return sum(self.deliver(str(a["id"]), now) for a in self.store.unsent_alerts())
