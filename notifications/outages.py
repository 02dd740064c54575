
"""Outage use cases: create, announce, start, delay, restore, cancel, and the tick.

States: draft → announced → started → restored, with started → delayed → restored (a
delay may be repeated), and draft/announced → cancelled. Emergencies skip ``announced``:
announcing one sends the emergency notice at once and marks it started.

Lead times (JN 10.3.1, LC §19/§23) come from ``NoticeRules``, built by the server from
its policy profile. The earliest moment a planned notice can go out is after quiet
hours, so the lead-time check uses that moment, not ``now``.
"""

from __future__ import annotations

import functools
import uuid
from collections.abc import Callable, Collection
from datetime import datetime, timedelta
from typing import Concatenate, Final, ParamSpec, TypeVar

import msgspec

from core.time import to_db
from notifications.errors import (
    BadOutageError,
    IllegalOutageTransitionError,
    LeadTimeTooShortError,
    OutageNotFoundError,
    OverrideNotAllowedError,
    OverrideReasonMissingError,
)
from notifications.model import (
    ALERT,
    AnnounceIn,
    CancelIn,
    DelayIn,
    Notice,
    NoticeKind,
    NoticeRules,
    NoticeTexts,
    Outage,
    OutageIn,
    OutageKind,
    OutageState,
    OutageTask,
    Recipient,
    SmsCost,
    TaskKind,
    TaskStatus,
    TickResult,
)
from notifications.outbox import channel_chain, enqueue_alert, enqueue_notice, enqueue_operations
from notifications.rules import (
    delay_notice_due,
    lead_shortfall,
    needs_temporary_supply,
    operations_lead,
    quiet_release,
    required_lead,
)
from notifications.store import NotificationStore
from notifications.templates import count_segments, render, sms_text

Clock = Callable[[], datetime]

#: who may announce inside the lead time (the reason is recorded); the server passes the
#: roles of its ``outage.announce_override`` policy instead of this default
OVERRIDE_ROLES: Final = frozenset({"supervisor", "admin"})
SMS: Final = "sms"

TRANSITIONS: Final[dict[OutageState, frozenset[OutageState]]] = {
    OutageState.DRAFT: frozenset({OutageState.ANNOUNCED, OutageState.STARTED,
                                  OutageState.CANCELLED}),
    OutageState.ANNOUNCED: frozenset({OutageState.STARTED, OutageState.CANCELLED}),
    OutageState.STARTED: frozenset({OutageState.DELAYED, OutageState.RESTORED}),
    OutageState.DELAYED: frozenset({OutageState.DELAYED, OutageState.RESTORED}),
    OutageState.RESTORED: frozenset(),
    OutageState.CANCELLED: frozenset(),
}


def check_transition(outage: Outage, to: OutageState) -> None:
    if to not in TRANSITIONS[outage.state]:
        raise IllegalOutageTransitionError(
            f"outage {outage.id} is {outage.state}; it cannot become {to}",
            outage_id=outage.id, state=str(outage.state), to=str(to))


def _unique(values: list[str]) -> list[str]:
    return [v for v in dict.fromkeys(values) if v]


P = ParamSpec("P")
R = TypeVar("R")


def _one_transaction(method: Callable[Concatenate[OutageService, P], R]
                     ) -> Callable[Concatenate[OutageService, P], R]:
    """A lifecycle step commits whole or not at all: state, notices, outbox rows, events.

    Without it a crash between the store's writes left an announced outage with no
    notices queued, or notices for an outage still in draft.
    """
    @functools.wraps(method)
    def step(self: OutageService, /, *args: P.args, **kwargs: P.kwargs) -> R:
        with self.store.transaction():
            return method(self, *args, **kwargs)

    return step


class OutageService:
    def __init__(self, store: NotificationStore, clock: Clock, rules: NoticeRules,
                 texts: NoticeTexts, channels: Collection[str],
                 override_roles: Collection[str] = OVERRIDE_ROLES) -> None:
        self.store = store
        self.override_roles = frozenset(override_roles)
        self.clock = clock
        self.rules = rules
        self.texts = texts
        #: configured channel names (``alert`` when the level-1 alert group is set)
        self.channels = frozenset(channels)

    # --- reading --------------------------------------------------------------------
    def get(self, outage_id: str) -> Outage:
        outage = self.store.outage(outage_id)
        if outage is None:
            raise OutageNotFoundError(f"no outage {outage_id}", outage_id=outage_id)
        return outage

    def list_outages(self, states: Collection[OutageState] | None = None, limit: int = 200,
                     after: tuple[str, str] | None = None) -> list[Outage]:
        """Latest start first; ``after`` is the (stored start, id) of the last one seen."""
        return self.store.outages(states, limit, after)

    def notices(self, outage_id: str) -> list[Notice]:
        self.get(outage_id)
        return self.store.notices(outage_id)

    def tasks(self, outage_id: str) -> list[OutageTask]:
        self.get(outage_id)
        return self.store.tasks(outage_id)

    def notice_page(self, outage_id: str, after: tuple[str, str] | None,
                    limit: int) -> list[Notice]:
        """Up to ``limit`` notices of the outage after the (stored created_at, id)
        ``after``, oldest first; OutageNotFoundError for an unknown outage."""
        self.get(outage_id)
        return self.store.notice_page(outage_id, after, limit)

    def task_page(self, outage_id: str, after: tuple[str, str] | None,
                  limit: int) -> list[OutageTask]:
        """Up to ``limit`` field tasks of the outage after the (stored created_at, id)
        ``after``, oldest first; OutageNotFoundError for an unknown outage."""
        self.get(outage_id)
        return self.store.task_page(outage_id, None, after, limit)

    # --- lifecycle ------------------------------------------------------------------
    @_one_transaction
    def create(self, actor: str, data: OutageIn) -> Outage:
        if data.start_at.tzinfo is None or data.expected_restoration_at.tzinfo is None:
            raise BadOutageError("times need a timezone offset")
        if data.expected_restoration_at <= data.start_at:
            raise BadOutageError("expected restoration must be after the start",
                                 start_at=data.start_at.isoformat(),
                                 expected_restoration_at=data.expected_restoration_at.isoformat())
        ids = [r.customer_id for r in data.recipients]
        if len(set(ids)) != len(ids):
            raise BadOutageError("a customer is listed twice among the recipients")
        now = self.clock()
        outage = Outage(
            id=f"OUT-{uuid.uuid4().hex[:12]}", kind=data.kind, state=OutageState.DRAFT,
            cause=data.cause, title=data.title, area=data.area, start_at=data.start_at,
            expected_restoration_at=data.expected_restoration_at,
            streets=_unique(data.streets or [r.street for r in data.recipients]),
            compounds=_unique(data.compounds or [r.compound for r in data.recipients]),
            customer_count=len(data.recipients), created_at=now, created_by=actor,
            work_order_id=data.work_order_id, isolation_id=data.isolation_id)
        self.store.insert_outage(outage, data.recipients, now)
        self.store.add_event(outage.id, now, actor, "created", {"kind": str(data.kind)})
        return outage

    @_one_transaction
    def announce(self, actor: str, role: str, outage_id: str, data: AnnounceIn) -> Outage:
        """Queue the announcement (or the emergency notice) for every affected customer.

        A planned outage (or pressure reduction) whose notice cannot reach customers by
        its required lead time is refused (``lead-time-too-short``) unless a supervisor
        overrides with a reason; the overridden notice is then sent at once, ignoring
        quiet hours, to give customers as much time as is left. A customer-caused outage
        owes its lead time to the operations department instead (LC §19(四)): that
        internal notice is queued too, and its lead is what may be too short.
        """
        outage = self.get(outage_id)
        now = self.clock()
        if outage.kind is OutageKind.EMERGENCY:
            return self._emergency(actor, outage, now)
        check_transition(outage, OutageState.ANNOUNCED)
        req = required_lead(outage.kind, outage.customer_count, outage.start_at,
                            outage.expected_restoration_at, self.rules)
        earliest = quiet_release(now, self.rules)
        missing = lead_shortfall(outage.start_at, earliest, req)
        binding = req
        ops = operations_lead(outage.kind, self.rules)
        if ops is not None and lead_shortfall(outage.start_at, now, ops) > missing:
            # an internal notice: quiet hours do not hold it back
            missing, binding = lead_shortfall(outage.start_at, now, ops), ops
        override = None
        if missing > timedelta(0):
            override = self._check_override(role, data, outage, binding.lead,
                                            outage.start_at - now, binding.clause)
        notice = self._notice(outage, NoticeKind.ANNOUNCEMENT, actor, now,
                              urgent=override is not None,
                              notify_by=outage.start_at - req.lead, reference_at=outage.start_at,
                              required_lead=req.lead)
        enqueue_notice(self.store, notice, self.store.recipients(outage.id), self.channels,
                       f"{outage.id}:announcement", now)
        if ops is not None:
            told = self._notice(outage, NoticeKind.OPERATIONS, actor, now, urgent=True,
                                notify_by=outage.start_at - ops.lead,
                                reference_at=outage.start_at, required_lead=ops.lead)
            enqueue_operations(self.store, told, f"{outage.id}:operations", now)
            self.store.add_event(outage.id, now, actor, "operations-told", {
                "notice_id": told.id, "required_lead_h": ops.lead.total_seconds() / 3600,
                "clause": ops.clause})
        updated = self.store.update_outage(msgspec.structs.replace(
            outage, state=OutageState.ANNOUNCED, announced_at=now,
            required_lead_s=req.lead.total_seconds(), lead_clause=req.clause,
            override_reason=override, override_by=actor if override else None), now)
        self.store.add_event(outage.id, now, actor, "announced", {
            "notice_id": notice.id, "required_lead_h": req.lead.total_seconds() / 3600,
            "because": req.because, "override_reason": override})
        self._temporary_supply(updated, updated.expected_restoration_at, now)
        return updated

    def _check_override(self, role: str, data: AnnounceIn, outage: Outage, lead: timedelta,
                        left: timedelta, clause: str) -> str:
        hours = round(lead.total_seconds() / 3600, 2)
        left_h = round(left.total_seconds() / 3600, 2)
        if data.override_reason is None:
            raise LeadTimeTooShortError(
                f"outage {outage.id} starts in {left_h} h but needs {hours} h notice ({clause}); "
                "a supervisor may override with a reason",
                outage_id=outage.id, required_lead_h=hours, available_lead_h=left_h,
                clause=clause, start_at=outage.start_at.isoformat())
        if role not in self.override_roles:
            raise OverrideNotAllowedError(
                f"announcing inside the {hours} h lead time needs a supervisor",
                outage_id=outage.id, role=role)
        if not data.override_reason.strip():
            raise OverrideReasonMissingError("the override reason is empty", outage_id=outage.id)
        return data.override_reason.strip()

    def _emergency(self, actor: str, outage: Outage, now: datetime) -> Outage:
        check_transition(outage, OutageState.STARTED)
        notice = self._notice(outage, NoticeKind.EMERGENCY, actor, now, urgent=True,
                              notify_by=now + self.rules.emergency_within, reference_at=None,
                              required_lead=None)
        enqueue_notice(self.store, notice, self.store.recipients(outage.id), self.channels,
                       f"{outage.id}:emergency", now)
        if ALERT in self.channels:
            alert = self._notice(outage, NoticeKind.ALERT, actor, now, urgent=True,
                                 notify_by=now, reference_at=None, required_lead=None)
            enqueue_alert(self.store, alert, f"{outage.id}:alert", now)
        updated = self.store.update_outage(msgspec.structs.replace(
            outage, state=OutageState.STARTED, announced_at=now,
            started_at=min(now, outage.start_at), required_lead_s=0.0,
            lead_clause=self.rules.emergency_clause), now)
        self.store.add_event(outage.id, now, actor, "emergency-notice", {"notice_id": notice.id})
        self._temporary_supply(updated, updated.expected_restoration_at, now)
        return updated

    @_one_transaction
    def extend(self, actor: str, outage_id: str, recipients: list[Recipient],
               reason: str) -> list[Recipient]:
        """More customers lose water (a valve would not close: plan B): add and tell them.

        New recipients join the outage; when it is already announced or running they
        cannot get the lead time any more, so they get an urgent notice at once (the
        proof report shows its achieved lead time). Customers already on the outage are
        not notified twice. Returns the recipients actually added.
        """
        outage = self.get(outage_id)
        if outage.state in (OutageState.RESTORED, OutageState.CANCELLED):
            raise IllegalOutageTransitionError(
                f"outage {outage_id} is {outage.state}; nothing to extend",
                outage_id=outage_id, state=str(outage.state))
        now = self.clock()
        added = self.store.add_recipients(outage_id, recipients)
        if not added:
            return added
        self.store.add_event(outage_id, now, actor, "extended",
                             {"customers": [r.customer_id for r in added], "reason": reason})
        if outage.state is not OutageState.DRAFT:
            current = self.get(outage_id)
            notice = self._notice(current, NoticeKind.EMERGENCY, actor, now, urgent=True,
                                  notify_by=now + self.rules.emergency_within,
                                  reference_at=None, required_lead=None)
            notice = msgspec.structs.replace(notice, recipients=len(added))
            enqueue_notice(self.store, notice, added, self.channels,
                           f"{outage_id}:extend:{notice.id}", now)
        return added

    @_one_transaction
    def start(self, actor: str, outage_id: str) -> Outage:
        outage = self.get(outage_id)
        check_transition(outage, OutageState.STARTED)
        if outage.state is OutageState.DRAFT and outage.kind is not OutageKind.EMERGENCY:
            raise IllegalOutageTransitionError(
                f"outage {outage.id} was never announced; announce it first",
                outage_id=outage.id, state=str(outage.state), to="started")
        now = self.clock()
        updated = self.store.update_outage(
            msgspec.structs.replace(outage, state=OutageState.STARTED, started_at=now), now)
        self.store.add_event(outage.id, now, actor, "started", {})
        return updated

    @_one_transaction
    def delay(self, actor: str, outage_id: str, data: DelayIn) -> Outage:
        """Announce a later restoration time; customers get a delay notice at once."""
        outage = self.get(outage_id)
        check_transition(outage, OutageState.DELAYED)
        now = self.clock()
        if data.expected_restoration_at <= now:
            raise BadOutageError("the new restoration time is already past")
        return self._delay(actor, outage, now, data.expected_restoration_at, data.reason)

    def _delay(self, actor: str, outage: Outage, now: datetime, new: datetime | None,
               reason: str) -> Outage:
        old = outage.expected_restoration_at
        notice = self._notice(outage, NoticeKind.DELAY, actor, now, urgent=True,
                              notify_by=old - self.rules.delay_notice_ahead, reference_at=old,
                              required_lead=self.rules.delay_notice_ahead,
                              new_restoration_at=new, reason=reason)
        key = f"{outage.id}:delay:{to_db(old)}:{to_db(new) if new else 'open'}"
        enqueue_notice(self.store, notice, self.store.recipients(outage.id), self.channels,
                       key, now)
        updated = self.store.update_outage(msgspec.structs.replace(
            outage, state=OutageState.DELAYED, expected_restoration_at=new or old,
            delay_noticed_for=old), now)
        self.store.add_event(outage.id, now, actor, "delayed", {
            "notice_id": notice.id, "from": old.isoformat(),
            "to": new.isoformat() if new else None, "reason": reason})
        if new is not None:
            self._temporary_supply(updated, new, now)
        return updated

    @_one_transaction
    def restore(self, actor: str, outage_id: str) -> Outage:
        outage = self.get(outage_id)
        check_transition(outage, OutageState.RESTORED)
        now = self.clock()
        notice = self._notice(outage, NoticeKind.RESTORATION, actor, now, urgent=False,
                              notify_by=None, reference_at=None, required_lead=None,
                              restored_at=now)
        enqueue_notice(self.store, notice, self.store.recipients(outage.id), self.channels,
                       f"{outage.id}:restoration", now)
        updated = self.store.update_outage(
            msgspec.structs.replace(outage, state=OutageState.RESTORED, restored_at=now), now)
        self.store.add_event(outage.id, now, actor, "restored", {"notice_id": notice.id})
        return updated

    @_one_transaction
    def cancel(self, actor: str, outage_id: str, data: CancelIn) -> Outage:
        outage = self.get(outage_id)
        check_transition(outage, OutageState.CANCELLED)
        now = self.clock()
        if outage.state is OutageState.ANNOUNCED:
            notice = self._notice(outage, NoticeKind.CANCELLATION, actor, now, urgent=False,
                                  notify_by=outage.start_at, reference_at=None,
                                  required_lead=None, reason=data.reason)
            enqueue_notice(self.store, notice, self.store.recipients(outage.id), self.channels,
                           f"{outage.id}:cancellation", now)
        updated = self.store.update_outage(
            msgspec.structs.replace(outage, state=OutageState.CANCELLED, cancelled_at=now), now)
        self.store.add_event(outage.id, now, actor, "cancelled", {"reason": data.reason})
        return updated

    @_one_transaction
    def tick(self) -> TickResult:
        """What time alone triggers; the worker calls this before each batch.

        - an outage not restored by ``delay_notice_ahead`` (+ margin) before its announced
          restoration gets a delay notice ("恢复时间另行通知") and becomes ``delayed``;
        - an outage that has lasted longer than ``temporary_supply_after`` gets its
          temporary-water-supply task (once).
        """
        now = self.clock()
        delays, supplies = [], []
        for outage in self.store.outages((OutageState.STARTED, OutageState.DELAYED)):
            if (outage.delay_noticed_for != outage.expected_restoration_at
                    and delay_notice_due(outage.expected_restoration_at, now, self.rules)):
                self._delay("tick", outage, now, None, "")
                delays.append(outage.id)
            task = self._temporary_supply(outage, now, now)
            if task is not None:
                supplies.append(task.id)
        return TickResult(delay_notices=delays, temporary_supply_tasks=supplies)

    def sms_cost(self, outage_id: str, price_per_segment: float) -> SmsCost:
        """What announcing ``outage_id`` would send by SMS, before it is announced.

        The text is the one the announcement (or emergency notice) would carry, as the
        handset shows it, signature included. ``sms_recipients`` start on SMS (no WeChat);
        ``fallback_recipients`` start on another channel but could fall back to SMS; the
        cost counts the first, ``worst_case_cost`` both.
        """
        outage = self.get(outage_id)
        kind = NoticeKind.EMERGENCY if outage.kind is OutageKind.EMERGENCY \
            else NoticeKind.ANNOUNCEMENT
        title, body = render(kind, outage, self.texts, timezone=self.rules.timezone)
        text = sms_text(title, body, self.texts.utility_name)
        seg = count_segments(text)
        first = sms_only = 0
        for r in self.store.recipients(outage_id):
            chain = channel_chain(r, self.channels)
            if chain[0] == SMS:
                first += 1
            elif SMS in chain:
                sms_only += 1
        messages = first * seg.segments
        return SmsCost(outage_id=outage_id, text=text, encoding=seg.encoding, units=seg.units,
                       segments=seg.segments, note=seg.note, recipients=outage.customer_count,
                       sms_recipients=first, fallback_recipients=sms_only,
                       messages=messages, price_per_segment=price_per_segment,
                       cost=round(messages * price_per_segment, 2),
                       worst_case_cost=round((first + sms_only) * seg.segments
                                             * price_per_segment, 2))

    # --- helpers --------------------------------------------------------------------
    def _temporary_supply(self, outage: Outage, until: datetime, now: datetime
                          ) -> OutageTask | None:
        start = outage.started_at or outage.start_at
        if not needs_temporary_supply(start, until, self.rules):
            return None
        existing = self.store.tasks(outage.id, TaskKind.TEMPORARY_SUPPLY)
        if existing:
            return None
        hours = self.rules.temporary_supply_after.total_seconds() / 3600
        task = OutageTask(
            id=f"TS-{outage.id}", outage_id=outage.id, kind=TaskKind.TEMPORARY_SUPPLY,
            status=TaskStatus.OPEN, created_at=now,
            title=f"临时供水（停水超过{hours:g}小时，{self.rules.temporary_supply_clause}）："
                  f"{'、'.join(outage.compounds[:6]) or outage.title}",
            proof_required="water truck or hydrant position and times")
        self.store.add_event(outage.id, now, "system", "temporary-supply-task", {"task": task.id})
        return self.store.insert_task(task, f"temporary_supply:{outage.id}")

    def _notice(self, outage: Outage, kind: NoticeKind, actor: str, now: datetime, *,
                urgent: bool, notify_by: datetime | None, reference_at: datetime | None,
                required_lead: timedelta | None, new_restoration_at: datetime | None = None,
                reason: str = "", restored_at: datetime | None = None) -> Notice:
        title, body = render(kind, outage, self.texts, timezone=self.rules.timezone,
                             new_restoration_at=new_restoration_at, reason=reason,
                             restored_at=restored_at)
        return Notice(
            id=f"N-{uuid.uuid4().hex[:12]}", outage_id=outage.id, kind=kind, urgent=urgent,
            title=title, body=body,
            sms_segments=count_segments(sms_text(title, body, self.texts.utility_name)).segments,
            created_at=now, created_by=actor, notify_by=notify_by, reference_at=reference_at,
            required_lead_s=required_lead.total_seconds() if required_lead is not None else None,
            recipients=outage.customer_count)
