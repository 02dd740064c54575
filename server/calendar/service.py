"""Importing a year's holiday notice, showing a year, and warning before the calendar's edge.

Why a recompute: a record received in a year whose notice was not yet published got its
deadlines on the provisional calendar (statutory days only). When the notice arrives its
bridging days and adjusted working days move some of them; every such open deadline is
recomputed with the same rule computation a new record gets (``time_rule``), in the same
transaction as the import, and each change is written to the audit trail.

Several processes: each keeps its own ``WorkCalendar``; ``refresh`` installs notices other
processes imported (it is cheap: one count, and a read only when the count moved), and
is called by ``horizon`` (``/health``) and before each import.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import date, datetime, time, timedelta
from typing import Protocol

import msgspec
from sqlite_utils import Database

from server.audit import AuditStore
from server.calendar.store import CalendarStore
from server.clock import Clock
from server.policy import (
    CalendarNoticeError,
    OpenClock,
    PolicyProfile,
    Timing,
    WorkCalendar,
    deadline_for,
    time_rule,
)
from server.policy.deadlines import counts_working_time
from server.policy.years import (
    DayInfo,
    YearNotice,
    YearSource,
    days_of,
    validate_notice,
    year_from_notice,
)
from server.workorders.model import Actor

#: how long before a deadline could cross into a provisional year supervisors are warned
WARN_AHEAD = timedelta(days=60)
#: who recomputes when a process learns of another process's import
SYSTEM = Actor(user_id="system:calendar", role="admin")


class ClockStore(Protocol):
    """A store holding deadlines that may have been counted provisionally."""

    def provisional_clocks(self, lo: datetime, hi: datetime) -> list[OpenClock]: ...

    def retime(self, clock: OpenClock, timing: Timing) -> None: ...


class Retimed(msgspec.Struct, frozen=True, kw_only=True):
    #: what kind of item the deadline belongs to (ticket, complaint, work order...)
    entity: str
    #: the item's id
    entity_id: str
    #: the rule of the deadline
    rule: str
    #: the due time on the provisional calendar (UTC)
    old_due_at: datetime
    #: the due time on the imported notice (UTC)
    new_due_at: datetime
    #: True when the new time still runs into a provisional year
    provisional: bool


class ImportResult(msgspec.Struct, frozen=True, kw_only=True):
    #: the year imported
    year: int
    #: the notice's title or number
    notice: str
    #: open provisional deadlines looked at, and those whose times moved
    checked: int
    #: the deadlines whose times moved
    changed: list[Retimed]


class YearView(msgspec.Struct, frozen=True, kw_only=True):
    #: the year
    year: int
    #: `official` (shipped), `imported` (a notice typed in) or `provisional` (statutory rules only)
    source: str
    #: where it came from: package version, the notice's number, or the statutory rules
    origin: str
    #: working days in the year
    working_days: int
    #: every day of the year with its kind
    days: list[DayInfo]


class Horizon(msgspec.Struct, frozen=True, kw_only=True):
    """What ``/health`` and start-up say about the calendar."""

    #: years with a State Council notice (shipped or imported)
    official_years: list[int]
    #: years in use (now until the longest limit plus the warning window) without a notice
    provisional_years: list[int]
    #: what supervisors must know (a notice awaited)
    warnings: list[str]


class CalendarService:
    def __init__(self, db: Database, clock: Clock, profile: PolicyProfile,
                 calendar: WorkCalendar, clock_stores: Sequence[ClockStore],
                 on_retimed: Callable[[OpenClock, datetime], None] | None = None) -> None:
        self.db = db
        self.clock = clock
        self.profile = profile
        self.calendar = calendar
        self.clock_stores = list(clock_stores)
        self.on_retimed = on_retimed
        #: recomputations for clocks whose rule is not in ``profile.rules`` (e.g. the
        #: connection clocks of server.connections): None when a resolver does not know it
        self.timings: list[Callable[[OpenClock], Timing | None]] = []
        self.store = CalendarStore(db)
        self.audit = AuditStore(db)
        self._installed = -1
        self.refresh()

    def refresh(self) -> None:
        """Install notices imported since this process last looked (by any process).

        A year newly installed here may have been imported by another process while this
        one still counted it provisionally: its open provisional deadlines are recomputed
        now too (idempotent: unchanged clocks are left alone), so the gap is at most one
        refresh — the deadline scan and ``/health`` call this regularly.
        """
        count = self.store.count()
        if count == self._installed:
            return
        first_look = self._installed < 0
        for notice in self.store.notices():
            known = self.calendar.year(notice.year)
            if known.source is YearSource.IMPORTED and known.origin == notice.notice:
                continue
            self.calendar.install(year_from_notice(notice))
            if not first_look:
                with self.db.atomic():
                    self._recompute(SYSTEM, notice, self.clock())
        self._installed = count

    # -- import ------------------------------------------------------------------------
    def import_notice(self, actor: Actor, notice: YearNotice) -> ImportResult:
        """Check, store and apply one year's notice; recompute its provisional deadlines."""
        problems = validate_notice(notice)
        if problems:
            raise CalendarNoticeError(notice.year, problems)
        self.refresh()
        now = self.clock()
        with self.db.atomic():
            self.store.save(notice, now, actor.user_id)
            self.calendar.install(year_from_notice(notice))
            checked, changed = self._recompute(actor, notice, now)
            self.audit.record("calendar", str(notice.year), "import",
                              actor_user_id=actor.user_id, device_id=actor.device_id,
                              server_time=now, device_time=None,
                              detail={"notice": notice.notice, "checked": checked,
                                      "changed": len(changed)})
            self._installed = self.store.count()
        return ImportResult(year=notice.year, notice=notice.notice, checked=checked,
                            changed=changed)

    def _recompute(self, actor: Actor, notice: YearNotice,
                   now: datetime) -> tuple[int, list[Retimed]]:
        """Recompute the open provisional deadlines overlapping the notice's year (call
        inside the write): each change is audited and its record republished."""
        lo = datetime.combine(date(notice.year, 1, 1), time(0), self.calendar.tz)
        hi = datetime.combine(date(notice.year + 1, 1, 1), time(0), self.calendar.tz)
        fraction = self.profile.thresholds.reminder_fraction
        changed: list[Retimed] = []
        checked = 0
        for store in self.clock_stores:
            for clock in store.provisional_clocks(lo, hi):
                rule = self.profile.rules.get(clock.rule)
                if rule is None:
                    found = (f(clock) for f in self.timings)
                    other = next((t for t in found if t is not None), None)
                    if other is None:
                        continue
                    timing = other
                elif not counts_working_time(rule):
                    continue
                else:
                    timing = time_rule(clock.starts_at, rule, self.calendar, fraction)
                checked += 1
                if timing.due_at == clock.due_at and timing.provisional and (
                        clock.remind_at in (None, timing.remind_at)):
                    continue
                store.retime(clock, timing)
                changed.append(Retimed(
                    entity=clock.entity, entity_id=clock.entity_id, rule=clock.rule,
                    old_due_at=clock.due_at, new_due_at=timing.due_at,
                    provisional=timing.provisional))
                self.audit.record(
                    clock.entity, clock.entity_id, "deadline-recomputed",
                    actor_user_id=actor.user_id, device_id=actor.device_id,
                    server_time=now, device_time=None,
                    detail={"rule": clock.rule, "part": clock.part, "year": notice.year,
                            "notice": notice.notice, "old_due_at": clock.due_at.isoformat(),
                            "new_due_at": timing.due_at.isoformat(),
                            "provisional": timing.provisional})
                if self.on_retimed is not None:
                    self.on_retimed(clock, now)
        return checked, changed

    # -- reading -----------------------------------------------------------------------
    def show(self, year: int) -> YearView:
        self.refresh()
        cal = self.calendar.year(year)
        days = days_of(cal)
        return YearView(year=year, source=str(cal.source), origin=cal.origin,
                        working_days=sum(1 for d in days if self.calendar.is_workday(d.day)),
                        days=days)

    def longest_limit(self, now: datetime) -> timedelta:
        """The longest a working-time deadline started ``now`` runs, on today's calendar."""
        spans = [deadline_for(now, rule, self.calendar) - now
                 for rule in self.profile.rules.values()
                 if counts_working_time(rule) and rule.direction == "within"]
        return max(spans, default=timedelta(0))

    def horizon(self) -> Horizon:
        """Official years, provisional years in use, and the warnings due now."""
        self.refresh()
        now = self.clock()
        local = now.astimezone(self.calendar.tz)
        reach = local + self.longest_limit(now) + WARN_AHEAD
        in_use = range(local.year, reach.year + 1)
        provisional = [y for y in in_use if self.calendar.is_provisional(y)]
        warnings: list[str] = []
        for y in provisional:
            if y == local.year:
                warnings.append(
                    f"{y} has no official holiday notice: working-day deadlines are counted "
                    f"on the statutory rules (provisional) until `waterops calendar import` "
                    f"loads the State Council's notice for {y}")
            else:
                warnings.append(
                    f"the State Council's holiday notice for {y} is awaited: deadlines "
                    f"running into {y} are provisional until it is imported "
                    f"(`waterops calendar import`)")
        return Horizon(official_years=self.calendar.official_years(),
                       provisional_years=provisional, warnings=warnings)
