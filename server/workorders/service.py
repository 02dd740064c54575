"""Work-order use cases: create (one or an import of many), read with scope, transition,
assign, timeliness.

Each use case is one transaction that writes the order, its audit entry and its change-log
entries together, so a tablet never sees an uncommitted change and never misses one.
"""

from __future__ import annotations

import builtins
import contextlib
import uuid
from collections.abc import Callable, Hashable, Sequence
from datetime import datetime
from typing import Final

import msgspec
from sqlite_utils import Database

from core.uow import touch, unit_of_work
from server.accounts.model import Principal
from server.accounts.store import AccountStore
from server.audit import AuditEntry, AuditStore
from server.authz import (
    Caller,
    Holder,
    authorize,
    check_record,
    narrowed_unit,
    sees_device_ids,
    unit_visible,
)
from server.clock import Clock, to_local
from server.customers.store import CustomerStore
from server.errors import (
    BadInputError,
    DomainError,
    IllegalTransitionError,
    NotFoundError,
    RuleViolationError,
    VersionConflictError,
)
from server.pagecache import CachedPage, PageCache
from server.paging import Page, after, after_id, check_limit, cut_page, page_of
from server.policy import OpenClock, PolicyProfile, WorkCalendar
from server.timefmt import to_db
from server.workorders.deadlines import (
    INSPECTION_RULE,
    compute_deadlines,
    deadline_of,
    met_rules,
    started_deadlines,
)
from server.workorders.fieldjudge import FieldTimeJudge
from server.workorders.fieldtime import FieldTime, TimeSource
from server.workorders.listing import WorkOrderRowPage, deadline_rows, order_row
from server.workorders.model import (
    CLOSED_STATUSES,
    Actor,
    AssignIn,
    Deadline,
    LineString,
    Point,
    Status,
    Step,
    TransitionIn,
    WorkOrder,
    WorkOrderImport,
    WorkOrderIn,
    WorkOrderPage,
)
from server.workorders.states import check_transition
from server.workorders.stats import TimelinessReport, build_report
from server.workorders.steps import initial_steps
from server.workorders.store import Filters, WorkOrderStore

#: the largest page of work orders one request answers
MAX_LIST_LIMIT = 500

ENTITY = "work_order"


def _anchor(location: Point | LineString) -> tuple[float, float]:
    coords = [location.coordinates] if isinstance(location, Point) else location.coordinates
    if not coords:
        raise BadInputError("a line needs at least two points", field="location")
    if isinstance(location, LineString) and len(coords) < 2:
        raise BadInputError("a line needs at least two points", field="location")
    for lon, lat in coords:
        if not (-180 <= lon <= 180 and -90 <= lat <= 90):
            raise BadInputError(
                f"coordinate ({lon}, {lat}) is not WGS84 lon/lat", field="location"
            )
    return coords[0]


#: orders written per round of statements by ``WorkOrderService._create`` (bounds the rows
#: held in memory while a large import is written; all chunks are one transaction)
WRITE_CHUNK: Final = 1000


def _checked(data: WorkOrderIn, now: datetime, crews: set[str], customers: set[str]
             ) -> tuple[float, float, datetime]:
    """``create``'s refusals of one order, in its order of checks, against the crews and
    customers known to exist; the order's anchor (lon, lat) and report time."""
    lon, lat = _anchor(data.location)
    if not 1 <= data.priority <= 5:
        raise BadInputError("priority is 1 (highest) to 5", field="priority")
    reported = data.reported_at or now
    if reported.tzinfo is None:
        raise BadInputError("reported_at needs a UTC offset", field="reported_at")
    if reported > now:
        raise RuleViolationError("reported_at lies in the future", field="reported_at")
    if data.crew_id is not None and data.crew_id not in crews:
        raise NotFoundError(f"no crew {data.crew_id}", crew_id=data.crew_id)
    if data.customer_id is not None and data.customer_id not in customers:
        raise NotFoundError(f"no customer {data.customer_id}", customer_id=data.customer_id)
    return lon, lat, reported


def _at(exc: DomainError, index: int) -> None:
    """Make ``exc`` name the position of the order it refuses (``create_many``)."""
    exc.detail = f"order {index}: {exc.detail}"
    exc.args = (exc.detail,)
    exc.extra["index"] = index


def holder_of(wo: WorkOrder, unit: str = "") -> Holder:
    """The facts of an order its scope rules look at (``server.authz``); ``unit`` is the
    unit of the order's crew."""
    return Holder(kind="work_order", id=wo.id,
                  crew_ids=frozenset({wo.crew_id}) if wo.crew_id else frozenset(),
                  work_type=str(wo.type), units=frozenset({unit}) if unit else frozenset())


class WorkOrderService:
    def __init__(self, db: Database, clock: Clock, profile: PolicyProfile,
                 calendar: WorkCalendar, page_cache: PageCache | None = None) -> None:
        self.db = db
        #: encoded list pages (``list_page``); None: every page is read from the store
        self.page_cache = page_cache
        self.clock = clock
        self.profile = profile
        self.calendar = calendar
        self.store = WorkOrderStore(db, {k: r.title for k, r in profile.rules.items()})
        self.accounts = AccountStore(db)
        self.customers = CustomerStore(db)
        self.audit = AuditStore(db)
        #: judges field facts' times and flags untrusted ones, for sync and HTTP alike
        self.field_times = FieldTimeJudge(db)
        #: set by server.fieldwork: raises when a required step lacks evidence (409)
        self.completion_check: Callable[[WorkOrder, Status], None] | None = None

    # -- reading ---------------------------------------------------------------------
    def holder(self, wo: WorkOrder) -> Holder:
        crew = self.accounts.crew(wo.crew_id) if wo.crew_id else None
        return holder_of(wo, crew.unit if crew else "")

    def _visible(self, principal: Principal, wo: WorkOrder) -> None:
        check_record(principal, self.holder(wo), self.profile.office_by_unit)

    def _unit_crews(self, principal: Principal) -> tuple[str, ...] | None:
        """The crews a unit-scoped office role sees (None: no unit restriction)."""
        unit = narrowed_unit(principal, self.profile.office_by_unit)
        if unit is None or principal.is_field:
            return None
        return tuple(c.id for c in self.accounts.crews() if unit_visible(c.unit, unit))

    def get(self, principal: Principal, wo_id: str) -> WorkOrder:
        wo = self.store.get(wo_id, self.clock())
        if wo is None:
            raise NotFoundError(f"no work order {wo_id}", work_order_id=wo_id)
        self._visible(principal, wo)
        return wo

    def _scoped(self, principal: Principal, filters: Filters) -> Filters:
        if principal.is_field:
            filters = msgspec.structs.replace(filters, crew_id=principal.crew_id or "")
        unit_crews = self._unit_crews(principal)
        if unit_crews is not None:
            filters = msgspec.structs.replace(filters, crew_ids=unit_crews)
        check_limit(filters.limit, MAX_LIST_LIMIT)
        return filters

    def list(self, principal: Principal, filters: Filters) -> WorkOrderPage:
        """One page (``server.paging``) of the orders ``principal`` may see."""
        items, cursor = self.store.list(self._scoped(principal, filters), self.clock())
        return WorkOrderPage(items=items, next_cursor=cursor)

    def list_rows(self, principal: Principal, filters: Filters) -> WorkOrderRowPage:
        """``list`` as rows ready to encode (``server.workorders.listing``); the same items,
        order and cursor as ``list``."""
        page, _ = self._row_page(self._scoped(principal, filters), self.clock())
        return page

    def list_page(self, principal: Principal, filters: Filters, *, overdue: bool,
                  query: Hashable, finish: Callable[[WorkOrderRowPage], bytes]) -> CachedPage:
        """The HTTP list route's page (``list_rows`` with ``overdue_at`` = now), encoded by
        ``finish``, from the page cache when the store and the clock have not changed it.

        The key is ``query`` (what else the bytes depend on: the request's query text, for
        the ``next`` link) with the filters *after* the scope rules narrowed them, so a page
        is shared by callers of the same scope only (a crew's pages are its own; a
        unit-scoped office role's pages name its crews). The page is read at one instant:
        ``overdue`` and every deadline's flag are judged at the same ``now``; its
        ``valid_until`` is the next due time that would change it (``server.pagecache``).
        The version is read before the rows and again with them in one snapshot, so a
        kept page is exactly the store at its version.
        """
        page = self.cached_page(principal, filters, overdue=overdue, query=query)
        return page or self.build_page(principal, filters, overdue=overdue, query=query,
                                       finish=finish)

    def build_page(self, principal: Principal, filters: Filters, *, overdue: bool,
                   query: Hashable, finish: Callable[[WorkOrderRowPage], bytes]
                   ) -> CachedPage:
        """``list_page`` read from the store (and kept): its miss path."""
        now = self.clock()
        now_db = to_db(now)
        scoped = self._scoped(principal, filters)
        with unit_of_work(self.db).snapshot():
            version = self.store.list_version()
            at = msgspec.structs.replace(scoped, overdue_at=now if overdue else None)
            rows, valid_until = self._row_page(at, now)
        page = CachedPage(finish(rows), version=version if version is not None else -1,
                          built_at=now_db, valid_until=valid_until)
        if self.page_cache is not None and version is not None:
            self.page_cache.put((query, scoped, overdue), page)
        return page

    def cached_page(self, principal: Principal, filters: Filters, *, overdue: bool,
                    query: Hashable, known_version: tuple[int | None] | None = None
                    ) -> CachedPage | None:
        """``list_page``'s answer when the cache holds it fresh, else None: the scope rules,
        one read of the list version and a dictionary look-up (no page is read).

        ``known_version`` is the version already read during this request, as a 1-tuple
        (authentication reads it with the token, ``AccountStore.principal_and_list_version``):
        then no second read is made. It must have been read after the request arrived."""
        if self.page_cache is None:
            return None
        scoped = self._scoped(principal, filters)
        version = self.store.list_version() if known_version is None else known_version[0]
        if version is None:
            return None
        return self.page_cache.get((query, scoped, overdue), version, to_db(self.clock()))

    def _row_page(self, filters: Filters, now: datetime) -> tuple[WorkOrderRowPage, str | None]:
        """One page of rows at ``now`` and the earliest stored time after which the clock
        alone would change it (None: never): an open deadline on the page falls due, or,
        on the last page of an overdue list, another order turns overdue (it sorts after
        every order already overdue, so only the last page can gain it)."""
        rows, cursor = self.store.page_rows(filters)
        deadlines = self.store.deadline_rows([str(r[0]) for r in rows])
        now_db = to_db(now)
        titles = self.store.rule_titles
        turns: list[str] = [str(d[3]) for ds in deadlines.values() for d in ds
                            if d[4] is None and str(d[3]) >= now_db]
        if filters.overdue_at is not None and cursor is None:
            joins = self.store.next_due_from(to_db(filters.overdue_at))
            if joins is not None:
                turns.append(joins)
        page = WorkOrderRowPage(
            items=[order_row(r, deadline_rows(deadlines.get(str(r[0]), ()), titles, now_db))
                   for r in rows],
            next_cursor=cursor)
        return page, min(turns, default=None)

    def overdue_deadlines(self, principal: Principal, now: datetime, cursor: str | None,
                          limit: int) -> tuple[builtins.list[tuple[str, ...]], str | None]:
        """One page of the open deadlines past due at ``now`` on the orders ``principal``
        may see, the longest overdue first (``WorkOrderStore.overdue_deadline_rows``
        rows) and the cursor after them; 400 for a cursor this list did not issue."""
        key = after(cursor, 3)
        filters = self._scoped(principal, Filters(limit=limit))
        rows = self.store.overdue_deadline_rows(
            filters, now, None if key is None else (key[0], key[1], key[2]))
        return cut_page(rows, limit, lambda r: (r[0], r[1], r[2]))

    def history(self, principal: Principal, wo_id: str) -> builtins.list[AuditEntry]:
        """The order's audit trail; device ids only for admins (they identify tablets)."""
        self.get(principal, wo_id)
        return self._shown(principal, self.audit.history(ENTITY, wo_id))

    def history_page(self, principal: Principal, wo_id: str, cursor: str | None,
                     limit: int) -> Page[AuditEntry]:
        """``history`` one page (``server.paging``) at a time, oldest first, keyed on the
        entry's id."""
        entry_id = after_id(cursor)
        self.get(principal, wo_id)
        entries = self.audit.history_page(ENTITY, wo_id, entry_id, check_limit(limit) + 1)
        return page_of(self._shown(principal, entries), limit, lambda e: (str(e.id),))

    @staticmethod
    def _shown(principal: Principal, entries: builtins.list[AuditEntry]
               ) -> builtins.list[AuditEntry]:
        if sees_device_ids(principal):
            return entries
        return [msgspec.structs.replace(e, device_id=None) for e in entries]

    # -- writing ---------------------------------------------------------------------
    def create(self, actor: Actor, data: WorkOrderIn) -> WorkOrder:
        """One new order (the route's policy, ``workorder.create``, admits the caller)."""
        return self.get_unchecked(self._create(actor, [data], indexed=False)[0][0])

    def create_many(self, actor: Actor, orders: Sequence[WorkOrderIn]) -> WorkOrderImport:
        """Create ``orders`` as one change: what as many ``create`` calls at this instant
        give (ids, numbers in input order, deadlines, audit entries, change log, list
        version), in one transaction of set-based writes; a utility importing its open
        orders from its old system, or a benchmark building a large store.

        All or nothing: the first order ``create`` would refuse raises the same error,
        naming its position (``index``, from 0) and nothing is written. Policy
        ``workorder.import`` (office roles that dispatch) admits ``actor``.
        """
        authorize(actor, "workorder.import")
        created = self._create(actor, orders, indexed=True)
        return WorkOrderImport(created=len(created), ids=[i for i, _ in created],
                               numbers=[n for _, n in created])

    def _create(self, actor: Actor, orders: Sequence[WorkOrderIn], *, indexed: bool
                ) -> builtins.list[tuple[str, str]]:
        """The one write path of new orders: (id, number) of each, in order.

        Checks every order first (crews and customers looked up once per distinct id),
        then writes in chunks of ``WRITE_CHUNK`` orders inside one unit of work: per order
        only its deadlines are computed in Python; the statements are per chunk. With
        ``indexed`` an error names the order's position (``create_many``).
        """
        now = self.clock()
        crews = {c for c in {d.crew_id for d in orders} if c is not None
                 and self.accounts.crew(c) is not None}
        wanted = sorted({d.customer_id for d in orders if d.customer_id is not None})
        customers = {c.id for c in self.customers.get_many(wanted)}
        anchors: builtins.list[tuple[float, float, datetime]] = []
        for i, data in enumerate(orders):
            try:
                anchors.append(_checked(data, now, crews, customers))
            except DomainError as exc:
                if indexed:
                    _at(exc, i)
                raise
        out: builtins.list[tuple[str, str]] = []
        steps = {t: initial_steps(t) for t in {d.type for d in orders}}
        bulk = self.store.bulk_write() if len(orders) > 1 else contextlib.nullcontext()
        with bulk, self.db.atomic():
            numbers = self.store.next_numbers(to_local(now).strftime("%Y%m%d"), len(orders))
            for start in range(0, len(orders), WRITE_CHUNK):
                rows: builtins.list[tuple[WorkOrder, float, float]] = []
                for i in range(start, min(start + WRITE_CHUNK, len(orders))):
                    data = orders[i]
                    lon, lat, reported = anchors[i]
                    try:
                        deadlines = compute_deadlines(
                            self.profile, self.calendar, str(data.type), reported,
                            data.pipe_diameter_mm, dict(data.fields))
                    except DomainError as exc:
                        if indexed:
                            _at(exc, i)
                        raise
                    rows.append((self._new_order(data, numbers[i], reported, now, deadlines,
                                                 steps[data.type]), lon, lat))
                self.store.insert_many(rows)
                self.audit.record_many(ENTITY, [
                    (wo.id, "create", actor.user_id, actor.device_id, now, actor.device_time,
                     {"type": str(wo.type), "crew_id": wo.crew_id}) for wo, _, _ in rows])
                assigned = [wo for wo, _, _ in rows if wo.crew_id]
                if assigned:
                    touch(self.db, ENTITY, [wo.id for wo in assigned])
                if served := [wo.customer_id for wo in assigned if wo.customer_id]:
                    touch(self.db, "customer", served)
                out.extend((wo.id, wo.number) for wo, _, _ in rows)
        return out

    def _new_order(self, data: WorkOrderIn, number: str, reported: datetime, now: datetime,
                   deadlines: builtins.list[Deadline], steps: builtins.list[Step]
                   ) -> WorkOrder:
        """A new order as stored; ``steps`` are only read (encoded), so orders of a type
        may share one list."""
        return WorkOrder(
            id=str(uuid.uuid4()), number=number, type=data.type,
            status=Status.ASSIGNED if data.crew_id else Status.CREATED,
            priority=data.priority, title=data.title, description=data.description,
            crew_id=data.crew_id, customer_id=data.customer_id, location=data.location,
            pipe_diameter_mm=data.pipe_diameter_mm, profile=self.profile.name,
            reported_at=reported, created_at=now, updated_at=now, closed_at=None,
            due_at=max((d.due_at for d in deadlines), default=None), status_reason=None,
            version=1, fields=dict(data.fields), steps=steps, deadlines=deadlines,
        )

    def get_unchecked(self, wo_id: str) -> WorkOrder:
        wo = self.store.get(wo_id, self.clock())
        if wo is None:
            raise NotFoundError(f"no work order {wo_id}", work_order_id=wo_id)
        return wo

    def transition(self, principal: Principal, wo_id: str, data: TransitionIn, *,
                   field_time: FieldTime | None = None,
                   sent_at: datetime | None = None) -> WorkOrder:
        """Move the order; deadlines the new status meets are met at ``field_time.at``
        (a field fact's judged time, see ``fieldtime``: sync judges it), else at
        ``data.device_time`` judged here on the skew of ``sent_at`` (the HTTP request's
        ``Date``) or the device's last measured one (``FieldTimeJudge``), else now."""
        now = self.clock()
        wo = self.get(principal, wo_id)
        if data.expected_version is not None and data.expected_version != wo.version:
            raise VersionConflictError(
                f"work order is at version {wo.version}, not {data.expected_version}",
                work_order_id=wo_id, current_version=wo.version,
            )
        refusal = check_transition(wo.type, wo.status, data.to, principal.role, data.reason)
        if refusal is not None:
            raise IllegalTransitionError(
                refusal.reason, work_order_id=wo_id, reason_code=refusal.code,
                current_status=str(wo.status), requested_status=str(data.to),
            )
        if data.to in (Status.COMPLETED, Status.VERIFIED) and self.completion_check is not None:
            self.completion_check(wo, data.to)
        closed = now if data.to in CLOSED_STATUSES else None
        with self.db.atomic():
            if not self.store.update_status(wo_id, data.to, data.reason, now, closed, wo.version):
                raise VersionConflictError("work order changed meanwhile", work_order_id=wo_id)
            judged = field_time or (
                FieldTime(at=now, server_at=now, source=TimeSource.SERVER)
                if data.device_time is None else self.field_times.judge(
                    principal, wo, data.device_time, now=now, kind="advance_status",
                    skew_s=self.field_times.skew(principal, sent_at, now)))
            if data.to is Status.CANCELLED:
                self.store.void_open_deadlines(wo_id)
            else:
                self.store.meet_deadlines(wo_id, met_rules(data.to), judged.at, now,
                                          str(judged.source))
                self.store.add_deadlines(wo_id, started_deadlines(
                    self.profile, self.calendar, str(wo.type), wo.pipe_diameter_mm, wo.fields,
                    data.to, judged.at))
            actor = Actor(user_id=principal.user_id, device_id=principal.device_id,
                          device_time=data.device_time, role=str(principal.role))
            self._audit(wo_id, f"status:{wo.status}->{data.to}", actor, now,
                        {"reason": data.reason})
            if wo.crew_id:
                self._publish(wo, now)
                if data.to in CLOSED_STATUSES:
                    self._release_customer(wo, wo.crew_id, now)
        return self.get_unchecked(wo_id)

    def start_clock(self, wo_id: str, key: str, at: datetime) -> None:
        """Start rule ``key`` on an order when the event it counts from happens in a field
        flow (LC §31: the first estimated reading of a route); a clock already started
        keeps its start. Call inside the flow's transaction."""
        if key in self.profile.rules:
            self.store.add_deadlines(wo_id, [deadline_of(self.profile, self.calendar, key, at)])

    def meet_clock(self, wo_id: str, key: str, at: datetime) -> None:
        """Record rule ``key`` met on an order (inside the flow's transaction)."""
        self.store.meet_deadlines(wo_id, [key], at)

    def inspection_on_site(self, principal: Principal, wo_id: str) -> WorkOrder:
        """The inspection team reached a third party's damage (LC §30: within 1 h of the
        report), as the dispatcher hears it; meets the order's inspection clock."""
        now = self.clock()
        wo = self.get(principal, wo_id)
        if not any(d.rule == INSPECTION_RULE for d in wo.deadlines):
            raise IllegalTransitionError(
                "this order records no third-party damage (fields.third_party_damage)",
                work_order_id=wo_id, reason_code="no-inspection-clock",
                current_status=str(wo.status))
        with self.db.atomic():
            self.store.meet_deadlines(wo_id, [INSPECTION_RULE], now)
            self._audit(wo_id, "inspection-on-site", Actor(
                user_id=principal.user_id, device_id=principal.device_id,
                role=str(principal.role)), now, {"rule": INSPECTION_RULE})
            # the met clock is part of the order the crew's tablets hold
            self._publish(wo, now)
        return self.get_unchecked(wo_id)

    def assign(self, principal: Principal, wo_id: str, data: AssignIn) -> WorkOrder:
        """Assign or reassign to a crew: the order leaves the old crew's tablets."""
        authorize(principal, "workorder.assign")
        now = self.clock()
        wo = self.get(principal, wo_id)
        if wo.status in CLOSED_STATUSES or wo.status is Status.COMPLETED:
            raise IllegalTransitionError(
                f"a {wo.status} work order cannot be (re)assigned", work_order_id=wo_id,
                reason_code="illegal-transition", current_status=str(wo.status),
            )
        if self.accounts.crew(data.crew_id) is None:
            raise NotFoundError(f"no crew {data.crew_id}", crew_id=data.crew_id)
        if data.crew_id == wo.crew_id:
            return wo
        with self.db.atomic():
            if not self.store.update_crew(wo_id, data.crew_id, Status.ASSIGNED, now, wo.version):
                raise VersionConflictError("work order changed meanwhile", work_order_id=wo_id)
            actor = Actor(user_id=principal.user_id, device_id=principal.device_id,
                          role=str(principal.role))
            self._audit(wo_id, "assign", actor, now,
                        {"from_crew": wo.crew_id, "to_crew": data.crew_id, "reason": data.reason})
            self._publish(wo, now, enter=data.crew_id, leave=wo.crew_id)
        return self.get_unchecked(wo_id)

    # -- helpers ---------------------------------------------------------------------
    def _audit(self, wo_id: str, action: str, actor: Actor, now: datetime,
               detail: dict[str, object]) -> None:
        self.audit.record(ENTITY, wo_id, action, actor_user_id=actor.user_id,
                          device_id=actor.device_id, server_time=now,
                          device_time=actor.device_time, detail=detail)

    def _publish(self, wo: WorkOrder, now: datetime, enter: str | None = None,  # noqa: ARG002
                 leave: str | None = None) -> None:  # noqa: ARG002
        """Tell the unit of work the order (and its customer) changed.

        Which crews get an upsert and which a removal is derived at commit from the rows
        and the change log (``core.uow``); ``enter``/``leave`` are kept for readability.
        """
        touch(self.db, ENTITY, wo.id)
        if wo.customer_id:
            touch(self.db, "customer", wo.customer_id)

    def _release_customer(self, wo: WorkOrder, crew_id: str, now: datetime  # noqa: ARG002
                          ) -> None:
        """The order left the crew's work: its customer's personal data leaves the tablets.

        The customer's scope rule (``server.customers.store.customer_scopes``) only counts
        open orders, so touching the customer makes the unit of work send its removal to a
        crew with no other open order for it (phone and WeChat id go with the row).
        """
        if wo.customer_id:
            touch(self.db, "customer", wo.customer_id)

    def republish(self, clock: OpenClock, now: datetime) -> None:
        """A deadline of an order was recomputed (holiday notice): its crew's tablets hear."""
        if clock.entity != ENTITY:
            return
        wo = self.store.get(clock.entity_id)
        if wo is not None and wo.crew_id:
            self._publish(wo, now)

    def timeliness(self, since: datetime | None, until: datetime | None,
                   crew_id: str | None, principal: Caller | None = None) -> TimelinessReport:
        """Timeliness per rule; a unit-scoped office ``principal`` (``office_by_unit``)
        counts only its unit's crews' orders (``server.authz.narrowed_unit``)."""
        end = until or self.clock()
        unit = (None if principal is None
                else narrowed_unit(principal, self.profile.office_by_unit))
        rows = self.store.timeliness(since, end, crew_id, unit)
        return build_report(rows, self.profile, since, end, crew_id)
