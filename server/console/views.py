"""What the console's map and supervisor pages read, shaped for the browser.

Why a module of its own: the console needs the network as map layers, crews with their
positions and load, and timeliness broken down several ways. Each is assembled here from
the existing services (no SQL of its own), so the API's own endpoints stay as they are.
Coordinates are WGS84 [lon, lat]; the page converts them for a GCJ-02 basemap.
"""

from __future__ import annotations

import csv
import io
import math
from collections import Counter
from collections.abc import Iterator
from datetime import datetime
from typing import Any, Final

import msgspec

from core.time import from_db, to_db
from geo.model import Network
from geo.service import NetworkService
from server.accounts.model import Principal
from server.accounts.store import AccountStore
from server.authz import Caller, device_label, narrowed_unit, unit_visible
from server.clock import to_local
from server.customers.store import CustomerStore
from server.errors import BadInputError, NotFoundError
from server.paging import Page, after, check_limit, cut_page
from server.positions import CrewPosition, PositionService
from server.workorders.evidence import EvidenceStore
from server.workorders.model import CLOSED_STATUSES, WorkOrder
from server.workorders.service import WorkOrderService
from server.workorders.stats import TimelinessReport
from server.workorders.store import Filters
from sync.attachments import AttachmentVault

PAGE: Final = 500
#: a UTF-8 byte order mark: Excel opens a CSV as UTF-8 only when it starts with one
BOM: Final = "\ufeff"


class MapConfig(msgspec.Struct, frozen=True, kw_only=True):
    """Basemap settings and the server's clock, which the page uses instead of its own."""

    #: the basemap's tile URL template (`{z}/{x}/{y}`)
    tile_url: str
    #: the datum the tiles are drawn in: `wgs84` or `gcj02` (the offset datum of Chinese maps)
    tile_datum: str
    #: the basemap's attribution text, shown on the map
    tile_attribution: str
    #: the server's clock (UTC): the page judges deadlines by it
    server_time: datetime
    #: the zone times are shown in (IANA name)
    timezone: str = "Asia/Shanghai"
    #: an open deadline with less than this share of its window left is "at risk"
    #: (the policy profile's ``thresholds.at_risk_share``)
    at_risk_share: float = 0.25


class CrewView(msgspec.Struct, frozen=True, kw_only=True):
    #: the crew's id
    id: str
    #: the crew's name
    name: str
    #: the crew's office unit
    unit: str
    #: work orders the crew holds that are not closed
    open_orders: int
    #: the names of the crew's members
    members: list[str]
    #: the members' latest positions (shift hours only)
    positions: list[CrewPosition]


class Breakdown(msgspec.Struct, frozen=True, kw_only=True):
    """One bar of a timeliness chart: a crew, a unit or a month."""

    #: the crew's or unit's id, or the month (`YYYY-MM`)
    key: str
    #: the bar's label, for people
    label: str
    #: deadlines met or missed in the period
    decided: int
    #: of those, the ones met in time
    on_time: int
    #: deadlines still open past due
    open_overdue: int
    #: `on_time` / `decided`; None when nothing was decided
    rate: float | None


class TimelinessViews(msgspec.Struct, frozen=True, kw_only=True):
    #: the whole service's timeliness
    overall: TimelinessReport
    #: one bar per crew
    crews: list[Breakdown]
    #: one bar per unit
    units: list[Breakdown]
    #: one bar per month
    months: list[Breakdown]


class OverdueRow(msgspec.Struct, frozen=True, kw_only=True):
    """An overdue deadline with names and local times, as a supervisor reads it."""

    #: the work order's id
    work_order_id: str
    #: the work order's number
    number: str
    #: the work order's title
    title: str
    #: the work order's type
    type: str
    #: the work order's status
    status: str
    #: the crew's name (empty: unassigned)
    crew: str
    #: the crew's supervisor's name, if any
    supervisor: str
    #: the rule whose deadline passed
    rule: str
    #: the clause of the standard the rule comes from
    clause: str
    #: the deadline in the profile's local time, to the minute
    due_at_local: str
    #: minutes past the deadline at the server's time
    overdue_minutes: int


def _feature(geometry: dict[str, Any], props: dict[str, Any]) -> dict[str, Any]:
    return {"type": "Feature", "geometry": geometry, "properties": props}


def _collection(features: list[dict[str, Any]]) -> dict[str, Any]:
    return {"type": "FeatureCollection", "features": features}


def network_layers(net: Network, version: int) -> dict[str, Any]:
    """The network as GeoJSON layers (pipes, valves, hydrants, sources, compounds). O(n)."""
    nodes = {n.id: n for n in net.nodes}
    compounds: dict[str, list[float]] = {}
    for c in net.connections:
        if c.compound:
            acc = compounds.setdefault(c.compound, [0.0, 0.0, 0.0])
            acc[0] += c.lon
            acc[1] += c.lat
            acc[2] += 1
    return {
        "network_version": version,
        "pipes": _collection([
            _feature({"type": "LineString", "coordinates": [list(xy) for xy in p.coords]},
                     {"id": p.id, "diameter_mm": p.diameter_mm, "material": p.material,
                      "street": p.street, "kind": str(p.kind), "length_m": round(p.length_m, 1)})
            for p in net.pipes]),
        "valves": _collection([
            _feature({"type": "Point", "coordinates": [v.lon, v.lat]},
                     {"id": v.id, "pipe_id": v.pipe_id, "operable": v.operable,
                      "state": str(v.state), "diameter_mm": v.diameter_mm})
            for v in net.valves]),
        "hydrants": _collection([
            _feature({"type": "Point", "coordinates": [h.lon, h.lat]},
                     {"id": h.id, "pipe_id": h.pipe_id, "diameter_mm": h.diameter_mm})
            for h in net.hydrants]),
        "sources": _collection([
            _feature({"type": "Point", "coordinates": [nodes[s.node_id].lon,
                                                       nodes[s.node_id].lat]},
                     {"id": s.id, "name": s.name, "kind": str(s.kind)})
            for s in net.sources if s.node_id in nodes]),
        "compounds": _collection([
            _feature({"type": "Point", "coordinates": [round(a[0] / a[2], 6),
                                                       round(a[1] / a[2], 6)]},
                     {"name": name, "customers": int(a[2])})
            for name, a in sorted(compounds.items())]),
    }


#: the most pipes (and, separately, points of each layer) one map request returns
MAP_PIPES_MAX: Final = 5000
#: a bbox wider than this (degrees) is refused: the console asks for what it shows
MAP_SPAN_MAX_DEG: Final = 5.0

Bbox = tuple[float, float, float, float]


def parse_bbox(text: str) -> Bbox:
    """``"min_lon,min_lat,max_lon,max_lat"`` (WGS84) -> a box; 400 ``bad-input`` otherwise."""
    try:
        w, s, e, n = (float(x) for x in text.split(","))
    except ValueError:
        raise BadInputError("bbox is min_lon,min_lat,max_lon,max_lat", bbox=text) from None
    finite = all(math.isfinite(v) for v in (w, s, e, n))
    if not (finite and -180 <= w <= e <= 180 and -90 <= s <= n <= 90):
        raise BadInputError("bbox needs min <= max, lon in -180..180, lat in -90..90",
                            bbox=text)
    if e - w > MAP_SPAN_MAX_DEG or n - s > MAP_SPAN_MAX_DEG:
        raise BadInputError(f"bbox spans more than {MAP_SPAN_MAX_DEG:g} degrees", bbox=text)
    return (w, s, e, n)


def network_map(network: NetworkService, bbox: Bbox | None = None,
                limit: int = MAP_PIPES_MAX) -> dict[str, Any]:
    """The network inside ``bbox`` as GeoJSON layers, never more than ``limit`` pipes.

    Without a bbox: the network's extent (answered with ``extent``, so the page can fit
    the map and then ask for what it shows). When more pipes meet the box than ``limit``,
    the largest are sent (mains first: a city seen whole shows its trunk network) and
    ``truncated`` is true; the page asks again when zoomed in. Cost: one indexed range
    query per layer, proportional to the answer, not to the network.
    """
    store = network.store
    extent = store.extent()
    box = bbox or extent
    base: dict[str, Any] = {"network_version": store.network_version(),
                            "extent": list(extent) if extent else None,
                            "bbox": list(box) if box else None, "limit": limit}
    if box is None:
        empty = _collection([])
        return {**base, "pipes_total": 0, "truncated": False, "pipes": empty,
                "valves": empty, "hydrants": empty, "sources": empty, "compounds": empty}
    pipes, total = store.pipes_in(box, limit)
    valves, hydrants, sources = store.points_in(box, limit)
    compounds = store.compounds_in(box, limit)
    net = Network(nodes=[node for _s, node in sources], pipes=pipes, valves=valves,
                  hydrants=hydrants, sources=[src for src, _n in sources])
    layers = network_layers(net, base["network_version"])
    layers["compounds"] = _collection([
        _feature({"type": "Point", "coordinates": [round(lon, 6), round(lat, 6)]},
                 {"name": name, "customers": count})
        for name, lon, lat, count in compounds])
    return {**layers, **base, "pipes_total": total, "truncated": total > len(pipes)}


def all_orders(workorders: WorkOrderService, principal: Principal,
               filters: Filters | None = None) -> Iterator[WorkOrder]:
    """Every order the principal may see (scoped by the service), page by page."""
    base = filters or Filters()
    cursor: str | None = None
    while True:
        page = workorders.list(principal, msgspec.structs.replace(base, cursor=cursor,
                                                                  limit=PAGE))
        yield from page.items
        if page.next_cursor is None:
            return
        cursor = page.next_cursor


def crew_views(accounts: AccountStore, workorders: WorkOrderService, positions: PositionService,
               principal: Principal) -> list[CrewView]:
    """Crews with their members, live positions and open-order load (for assigning).

    A position's device id is shown as ``server.authz.device_label`` shows it to
    ``principal``: in full to admins only (it names the tablet to revoke). Under
    ``office_by_unit`` a dispatcher or supervisor sees its unit's crews."""
    load = Counter(wo.crew_id for wo in all_orders(workorders, principal)
                   if wo.crew_id and wo.status not in CLOSED_STATUSES)
    by_crew: dict[str, list[CrewPosition]] = {}
    for pos in positions.latest():
        shown = msgspec.structs.replace(pos, device_id=device_label(principal, pos.device_id))
        by_crew.setdefault(pos.crew_id, []).append(shown)
    members: dict[str, list[str]] = {}
    for u in accounts.users():
        if u.crew_id and u.active:
            members.setdefault(u.crew_id, []).append(u.name)
    unit = narrowed_unit(principal, workorders.profile.office_by_unit)
    return [CrewView(id=c.id, name=c.name, unit=c.unit, open_orders=load.get(c.id, 0),
                     members=members.get(c.id, []), positions=by_crew.get(c.id, []))
            for c in accounts.crews() if unit_visible(c.unit, unit)]


def _bar(key: str, label: str, r: TimelinessReport) -> Breakdown:
    return Breakdown(key=key, label=label, decided=r.decided, on_time=r.on_time,
                     open_overdue=sum(x.open_overdue for x in r.rules), rate=r.rate)


def month_starts(until: datetime, count: int) -> list[datetime]:
    """The first instants (Asia/Shanghai) of the ``count`` months up to ``until``'s month."""
    local = to_local(until)
    y, m = local.year, local.month
    out = []
    for _ in range(count):
        out.append(local.replace(year=y, month=m, day=1, hour=0, minute=0, second=0,
                                 microsecond=0))
        y, m = (y - 1, 12) if m == 1 else (y, m - 1)
    return list(reversed(out))


def timeliness_views(workorders: WorkOrderService, accounts: AccountStore, now: datetime,
                     months: int = 6, principal: Caller | None = None) -> TimelinessViews:
    """Timeliness overall and per rule, per crew, per unit (crews summed) and per month;
    a unit-scoped office ``principal`` (``office_by_unit``) sees its unit's crews only."""
    overall = workorders.timeliness(None, now, None, principal)
    unit = (None if principal is None
            else narrowed_unit(principal, workorders.profile.office_by_unit))
    crews = [c for c in accounts.crews() if unit_visible(c.unit, unit)]
    per_crew = [(c, workorders.timeliness(None, now, c.id)) for c in crews]
    units: dict[str, list[int]] = {}
    for c, r in per_crew:
        acc = units.setdefault(c.unit or "-", [0, 0, 0])
        acc[0] += r.decided
        acc[1] += r.on_time
        acc[2] += sum(x.open_overdue for x in r.rules)
    starts = month_starts(now, months)
    month_bars = []
    for i, start in enumerate(starts):
        end = starts[i + 1] if i + 1 < len(starts) else now
        r = workorders.timeliness(start, end, None, principal)
        month_bars.append(_bar(start.strftime("%Y-%m"), start.strftime("%Y-%m"), r))
    return TimelinessViews(
        overall=overall,
        crews=[_bar(c.id, c.name, r) for c, r in per_crew],
        units=[Breakdown(key=u, label=u, decided=a[0], on_time=a[1], open_overdue=a[2],
                         rate=(a[1] / a[0]) if a[0] else None)
               for u, a in sorted(units.items())],
        months=month_bars)


def overdue_page(workorders: WorkOrderService, accounts: AccountStore, principal: Principal,
                 now: datetime, cursor: str | None, limit: int) -> Page[OverdueRow]:
    """One page (``server.paging``) of the open deadlines past due at ``now``, the longest
    overdue first, with crew and supervisor names and local times. The page is read from
    an index (``WorkOrderService.overdue_deadlines``); names come from the crews and users
    (a utility has tens of crews, not tens of thousands)."""
    rows, next_cursor = workorders.overdue_deadlines(principal, now, cursor, limit)
    crews = {c.id: c for c in accounts.crews()}
    names = {u.id: u.name for u in accounts.users()}
    titles = workorders.store.rule_titles
    out = []
    for due_db, wo_id, rule, clause, number, title, kind, status, crew_id in rows:
        crew = crews.get(crew_id)
        due_at = from_db(due_db)
        out.append(OverdueRow(
            work_order_id=wo_id, number=number, title=title, type=kind, status=status,
            crew=crew.name if crew else "",
            supervisor=names.get(crew.supervisor_id or "", "") if crew else "",
            rule=titles.get(rule, rule), clause=clause,
            due_at_local=to_local(due_at).strftime("%Y-%m-%d %H:%M"),
            overdue_minutes=int((now - due_at).total_seconds() // 60)))
    return Page(items=out, next_cursor=next_cursor)


def overdue_rows(workorders: WorkOrderService, accounts: AccountStore, principal: Principal,
                 now: datetime) -> list[OverdueRow]:
    """The whole overdue list (the CSV export), page by page in the list's order."""
    out: list[OverdueRow] = []
    cursor: str | None = None
    while True:
        page = overdue_page(workorders, accounts, principal, now, cursor, PAGE)
        out += page.items
        if page.next_cursor is None:
            return out
        cursor = page.next_cursor


CSV_HEADER: Final = ("工单号", "标题", "类型", "状态", "班组", "主管", "时限", "条款",
                     "截止时间(北京时间)", "超时(分钟)")


def overdue_csv(rows: list[OverdueRow]) -> str:
    """The overdue list as CSV for Excel: UTF-8 with a BOM, Chinese headers, local times."""
    buf = io.StringIO()
    w = csv.writer(buf)
    w.writerow(CSV_HEADER)
    for r in rows:
        w.writerow((r.number, r.title, r.type, r.status, r.crew, r.supervisor, r.rule,
                    r.clause, r.due_at_local, r.overdue_minutes))
    return BOM + buf.getvalue()


class CompoundCategory(msgspec.Struct, frozen=True, kw_only=True):
    #: the residential compound (`-`: none recorded)
    compound: str
    #: the customers' billing category (`unknown`: not in the register)
    category: str
    #: affected customers of that compound and category
    customers: int


def affected_breakdown(network: NetworkService, customers: CustomerStore,
                       isolation_id: str) -> list[CompoundCategory]:
    """Affected customers of an isolation counted by compound and customer category."""
    counts: Counter[tuple[str, str]] = Counter()
    cursor: str | None = None
    while True:
        page = network.affected_customers(isolation_id, cursor, 1000)
        known = {c.id: c for c in customers.get_many([a.customer_id for a in page.items])}
        for a in page.items:
            c = known.get(a.customer_id)
            counts[(a.compound or "-", c.category if c else "unknown")] += 1
        if page.next_cursor is None:
            break
        cursor = page.next_cursor
    return [CompoundCategory(compound=k[0], category=k[1], customers=n)
            for k, n in sorted(counts.items())]


class EvidenceView(msgspec.Struct, frozen=True, kw_only=True):
    """One evidence row of an order as the console shows it; ``url`` when its file is in."""

    #: the evidence's id
    id: str
    #: what it is (photo, signature, reading, note...)
    kind: str
    #: the step it is evidence for, if any
    step_key: str | None
    #: when the server received it (UTC)
    server_time: datetime
    #: SHA-256 of its file, if it has one
    sha256: str | None
    #: where the console fetches the file, once it is uploaded
    url: str | None


def evidence_views(workorders: WorkOrderService, evidence: EvidenceStore, vault: AttachmentVault,
                   principal: Principal, wo_id: str, cursor: str | None = None,
                   limit: int = PAGE) -> Page[EvidenceView]:
    """One page (``server.paging``) of the order's evidence, oldest first, keyed on
    (server time, id); the caller's scope is checked by fetching the order first."""
    key = after(cursor, 2)
    workorders.get(principal, wo_id)
    rows = evidence.page_for_order(wo_id, None if key is None else (key[0], key[1]),
                                   check_limit(limit) + 1)
    shown, next_cursor = cut_page(rows, limit, lambda ev: (to_db(ev.server_time), ev.id))
    out = []
    for ev in shown:
        sha = ev.attachment_sha256
        done = sha is not None and vault.status(sha).complete
        out.append(EvidenceView(id=ev.id, kind=ev.kind, step_key=ev.step_key,
                                server_time=ev.server_time, sha256=sha,
                                url=f"/api/v1/console/attachments/{sha}" if done else None))
    return Page(items=out, next_cursor=next_cursor)


def attachment_blob(vault: AttachmentVault, sha256: str) -> tuple[bytes, str]:
    """A verified attachment's bytes and content type (photos, signatures, PDFs)."""
    status = vault.status(sha256)  # checks the hash's form; unknown -> not declared
    if not status.complete:
        raise NotFoundError(f"attachment {sha256} is not complete yet", sha256=sha256)
    return vault.path(sha256).read_bytes(), status.content_type
