"""Reminders before a deadline passes, and escalation once it has (JM §6, LC §13).

``scan(now)`` is what the worker and ``waterops tickets scan`` call, as often as they
like: each open deadline of a ticket, complaint or work order gets at most one reminder
(when ``reminder_fraction`` of its allowed time has passed, on the rule's own clock) and
at most one escalation to its unit's supervisor (when it is overdue), per due time. A
deadline moved by an approved extension has a new due time and so may be reminded again.
The unique key in ``deadline_reminders`` makes a repeated or concurrent scan harmless.

Escalation always reaches someone: an item whose unit has no supervisor, or that names
no unit (a complaint without a target unit), escalates to the profile's duty supervisor
(``PolicyProfile.escalation``). Each new reminder or escalation is also *sent*: in the
same transaction it queues one staff message in the notification outbox (one row per
person: the user, or every member of a crew, at their phone on the staff channel), keyed
by the reminder's id, so it goes out once however often the scan runs; the outbox worker
delivers it, retries and records the outcome like any notice.
"""

from __future__ import annotations

import builtins
from collections.abc import Callable
from datetime import datetime
from typing import Final

from sqlite_utils import Database

from core.rows import integer, opt_text
from notifications.model import STAFF, Notice, NoticeKind
from notifications.outbox import enqueue_staff_message, enqueue_staff_messages
from notifications.store import NotificationStore
from notifications.templates import count_segments
from server.accounts.store import AccountStore
from server.clock import Clock, to_local
from server.errors import BadInputError
from server.paging import Page, after, check_limit, cut_page, page_of
from server.policy import PolicyProfile, WorkCalendar
from server.tickets.categories import remind_time
from server.tickets.clusters import QualityWatch
from server.tickets.model import (
    ItemKind,
    OverdueItem,
    Reminder,
    ReminderLevel,
    ScanResult,
)
from server.tickets.store import Row, TicketStore
from server.timefmt import from_db, to_db

#: recipient id prefix for a crew (a work order's assignee is its crew)
CREW_PREFIX: Final = "crew:"
#: who creates the staff messages of reminders and escalations
SENDER: Final = "deadline-scan"
#: reminders written per transaction of a scan (see ``ReminderService.scan``)
SCAN_BATCH: Final = 200
KIND_ZH: Final = {"ticket": "工单", "complaint": "投诉", "work_order": "作业单"}


def reminder_text(level: ReminderLevel, item_kind: str, item_id: str, title: str,
                  clause: str, due_at: datetime, note: str) -> tuple[str, str]:
    """Title and body of a staff message; times in Shanghai time, as people read them."""
    due = to_local(due_at).strftime("%Y-%m-%d %H:%M")
    what = f"{KIND_ZH.get(item_kind, item_kind)} {item_id}：{title}"
    if level is ReminderLevel.REMIND:
        return ("时限提醒", f"【时限提醒】{what} 将于 {due}（北京时间）到期（{clause}）。")
    tail = f" {note}" if note else ""
    return ("超时督办", f"【超时督办】{what} 已于 {due}（北京时间）到期未完成（{clause}），"
            f"请督办。{tail}")


def _overdue_item(r: Row) -> OverdueItem:
    return OverdueItem(
        item_kind=ItemKind(str(r["item_kind"])), item_id=str(r["item_id"]),
        rule=str(r["rule"]), due_at=from_db(str(r["due_at"])), unit=str(r["unit"] or ""),
        assignee_id=(str(r["assignee_id"]) if r.get("assignee_id") else
                     CREW_PREFIX + str(r["crew_id"]) if r.get("crew_id") else None),
        provisional=bool(r.get("provisional")),
    )


def reminder_from(r: Row) -> Reminder:
    return Reminder(
        id=integer(r, "id"), item_kind=ItemKind(str(r["item_kind"])),
        item_id=str(r["item_id"]), rule=str(r["rule"]), due_at=from_db(str(r["due_at"])),
        level=ReminderLevel(str(r["level"])),
        recipient_id=opt_text(r, "recipient_id"),
        created_at=from_db(str(r["created_at"])), note=str(r["note"]),
    )


class _ScanBatch:
    """What one transaction of a scan gathers: each recipient's people (one scan asks for
    the same crews and supervisors again and again) and the staff messages to queue
    together (``enqueue_staff_messages``: a few statements for the batch, not several per
    reminder)."""

    def __init__(self) -> None:
        self.people: dict[str, list[tuple[str, str | None]]] = {}
        self.messages: list[tuple[Notice, list[tuple[str, str | None]], str]] = []


class ReminderService:
    def __init__(self, db: Database, clock: Clock, profile: PolicyProfile,
                 calendar: WorkCalendar, watch: QualityWatch | None = None,
                 staff_channel: str = STAFF) -> None:
        self.db = db
        self.clock = clock
        self.profile = profile
        self.calendar = calendar
        self.watch = watch
        self.store = TicketStore(db)
        self.accounts = AccountStore(db)
        self.outbox = NotificationStore(db)
        #: the outbox channel staff messages go out on (``Settings.channels``' name)
        self.staff_channel = staff_channel
        #: reminder times of work-order clocks whose rule is not in the profile's rules
        #: (e.g. connection clocks): (rule, work order, start, due) -> time, or None
        #: deadlines whose reminder time one read of ``_schedule_work_orders`` works out
        self.schedule_batch = SCAN_BATCH * 5
        self.remind_resolvers: list[
            Callable[[str, str, datetime, datetime], datetime | None]] = []

    def supervisor_of(self, unit: str) -> str | None:
        """The unit's supervisor (first by id when a unit has several)."""
        people = self.accounts.supervisors_of_unit(unit) if unit else []
        return people[0].id if people else None

    def duty_supervisor(self) -> str | None:
        """The profile's duty supervisor, else the first supervisor of its duty unit."""
        esc = self.profile.escalation
        if esc.duty_supervisor:
            return esc.duty_supervisor
        return self.supervisor_of(esc.duty_unit)

    def escalation_target(self, unit: str, supervisor_id: str | None = None
                          ) -> tuple[str | None, str]:
        """Who an overdue item escalates to, and a note when it is not the unit's own."""
        if supervisor_id:
            return supervisor_id, ""
        own = self.supervisor_of(unit)
        if own:
            return own, ""
        why = "no target unit" if not unit.strip() else f"unit {unit!r} has no supervisor"
        duty = self.duty_supervisor()
        if duty:
            return duty, f"{why}: escalated to the duty supervisor"
        return None, f"{why} and the profile names no reachable duty supervisor"

    def _schedule_work_orders(self) -> int:
        """Work out the reminder time of each open work-order deadline that has none (new
        since the last scan, or moved), once, and store it; returns how many.

        Why stored: on a working-hours clock it is a walk through the calendar, and doing
        it for every open order on every scan made the scan proportional to the store."""
        fraction = self.profile.thresholds.reminder_fraction
        done, after = 0, ("", "")
        while True:
            rows = self.store.unscheduled_work_order_deadlines(after, self.schedule_batch)
            if not rows:
                return done
            after = (str(rows[-1]["item_id"]), str(rows[-1]["rule"]))
            times: list[tuple[str, str, str, str]] = []
            for r in rows:
                start, due = from_db(str(r["starts_at"])), from_db(str(r["due_at"]))
                rule = self.profile.rules.get(str(r["rule"]))
                if rule is None or rule.unit is None:
                    # a rule this profile lacks: its owner's reminder time, else the same
                    # share of calendar time
                    found = (f(str(r["rule"]), str(r["item_id"]), start, due)
                             for f in self.remind_resolvers)
                    at = next((t for t in found if t is not None), None) \
                        or start + (due - start) * fraction
                else:
                    at = remind_time(start, rule, self.calendar, fraction)
                times.append((str(r["item_id"]), str(r["rule"]), str(r["due_at"]), to_db(at)))
            with self.db.atomic():
                self.store.schedule_work_order_reminders(times)
            done += len(times)

    def scan(self, now: datetime | None = None) -> ScanResult:
        """Record every reminder and escalation due by ``now``; returns the new ones."""
        at = now or self.clock()
        self._schedule_work_orders()
        remind = [*self.store.open_desk_deadlines(at, "remind_at", owed=True),
                  *self.store.open_work_order_deadlines(at, "remind_at", owed=True)]
        overdue = [*self.store.open_desk_deadlines(at, "due_at", owed=True),
                   *self.store.open_work_order_deadlines(at, "due_at", owed=True)]
        created: list[int] = []
        due = ([(r, ReminderLevel.REMIND) for r in remind]
               + [(r, ReminderLevel.ESCALATE) for r in overdue])
        # one transaction per batch, not per scan: a backlog (the scan was down, a month
        # of overdue orders imported) must not hold the store's write lock for as long as
        # it takes, or every push and pull meanwhile waits for it. Each reminder is kept
        # with its outbox message; a scan cut short keeps its batches and the next one
        # writes the rest (a reminder exists once per item, rule, due time and level)
        for start in range(0, len(due), SCAN_BATCH):
            batch = _ScanBatch()
            with self.db.atomic():
                for r, level in due[start:start + SCAN_BATCH]:
                    if level is ReminderLevel.REMIND:
                        recipient, note = self._assignee(r)
                    else:
                        recipient, note = self.escalation_target(
                            str(r["unit"] or ""),
                            str(r["supervisor_id"]) if r.get("supervisor_id") else None)
                    created += self._add(r, level, recipient, note, at, batch)
                enqueue_staff_messages(self.outbox, batch.messages, at,
                                       channel=self.staff_channel)
                for level in ReminderLevel:
                    self.store.record_reminded(
                        [r for r, lv in due[start:start + SCAN_BATCH] if lv is level],
                        str(level))
        retried = self.watch.retry_unsent(at) if self.watch is not None else 0
        rows = {integer(r, "id"): r for r in self.store.reminders(
            recipient_id=None, level=None, limit=len(created) + 50)} if created else {}
        return ScanResult(at=at, reminders=[reminder_from(rows[i]) for i in created if i in rows],
                          alerts_retried=retried)

    def _assignee(self, r: Row) -> tuple[str | None, str]:
        if r.get("assignee_id"):
            return str(r["assignee_id"]), ""
        if r.get("crew_id"):
            return CREW_PREFIX + str(r["crew_id"]), ""
        sup = self.supervisor_of(str(r["unit"] or ""))
        if sup:
            return sup, "nobody is assigned: the unit's supervisor is reminded"
        duty = self.duty_supervisor()
        if duty:
            return duty, "nobody is assigned and the unit has no supervisor: duty supervisor"
        return None, f"nobody is assigned and unit {r['unit']!r} has no supervisor"

    def _add(self, r: Row, level: ReminderLevel, recipient: str | None, note: str,
             at: datetime, batch: _ScanBatch | None = None) -> list[int]:
        new_id = self.store.add_reminder({
            "item_kind": str(r["item_kind"]), "item_id": str(r["item_id"]),
            "rule": str(r["rule"]), "due_at": str(r["due_at"]), "level": str(level),
            "recipient_id": recipient, "created_at": to_db(at), "note": note})
        if new_id is None:
            return []
        self._send(new_id, str(r["item_kind"]), str(r["item_id"]), str(r["rule"]),
                   from_db(str(r["due_at"])), level, recipient, note, at, batch)
        return [new_id]

    def _people(self, recipient: str) -> list[tuple[str, str | None]]:
        """(user id, phone) of everyone a recipient id stands for (a crew: its members)."""
        if recipient.startswith(CREW_PREFIX):
            return [(u.id, u.phone) for u in
                    self.accounts.members_of_crew(recipient.removeprefix(CREW_PREFIX))]
        user = self.accounts.user(recipient)
        return [(recipient, user.phone if user is not None else None)]

    def _send(self, reminder_id: int, item_kind: str, item_id: str, rule_key: str,
              due_at: datetime, level: ReminderLevel, recipient: str | None, note: str,
              at: datetime, batch: _ScanBatch | None = None) -> None:
        """Queue the reminder's staff message in the outbox, once (keyed by its id); in a
        scan's ``batch``, kept there and queued with the batch's others."""
        if recipient is None:
            return
        if batch is None:
            people = self._people(recipient)
        elif recipient in batch.people:
            people = batch.people[recipient]
        else:
            people = batch.people[recipient] = self._people(recipient)
        if not people:
            return
        rule = self.profile.rules.get(rule_key)
        title, body = reminder_text(level, item_kind, item_id,
                                    rule.title if rule else rule_key,
                                    rule.clause if rule else rule_key, due_at, note)
        notice = Notice(
            id=f"R-{reminder_id}", outage_id="", kind=NoticeKind.REMINDER,
            urgent=level is ReminderLevel.ESCALATE, title=title, body=body,
            sms_segments=count_segments(body).segments, created_at=at, created_by=SENDER,
            notify_by=None, reference_at=due_at, required_lead_s=None, recipients=len(people))
        if batch is not None:
            batch.messages.append((notice, people, f"reminder:{reminder_id}"))
            return
        enqueue_staff_message(self.outbox, notice, people, f"reminder:{reminder_id}", at,
                              channel=self.staff_channel)

    def overdue_page(self, cursor: str | None, limit: int) -> Page[OverdueItem]:
        """``overdue`` one page at a time (``server.paging``), keyed on (due time, kind,
        id, rule): each kind's deadlines are a range of an index in that order, merged
        (``TicketStore.overdue_after``), so a page reads its own rows only."""
        key = after(cursor, 4)
        rows = self.store.overdue_after(self.clock(), None if key is None else (
            key[0], key[1], key[2], key[3]), check_limit(limit) + 1)
        return page_of([_overdue_item(r) for r in rows], limit,
                       lambda i: (to_db(i.due_at), str(i.item_kind), i.item_id, i.rule))

    def overdue(self, now: datetime | None = None) -> builtins.list[OverdueItem]:
        """Every open deadline past due: the supervisors' chase list, whole (the CLI)."""
        at = now or self.clock()
        items = [_overdue_item(r) for r in [
            *self.store.open_desk_deadlines(at, "due_at", owed=False),
            *self.store.open_work_order_deadlines(at, "due_at", owed=False)]]
        return sorted(items, key=lambda i: (i.due_at, i.item_kind, i.item_id, i.rule))

    def list(self, *, recipient_id: str | None = None, level: ReminderLevel | None = None,
             limit: int = 100) -> builtins.list[Reminder]:
        """The newest ``limit`` reminders."""
        return self.page(recipient_id=recipient_id, level=level, limit=limit).items

    def page(self, *, recipient_id: str | None = None, level: ReminderLevel | None = None,
             limit: int = 100, cursor: str | None = None) -> Page[Reminder]:
        """Newest first, one page (``server.paging``)."""
        key = after(cursor, 1)
        if key is not None and not key[0].isdigit():
            raise BadInputError("bad cursor: not one this list issued", field="cursor")
        rows, next_cursor = cut_page(self.store.reminders(
            recipient_id=recipient_id, level=None if level is None else str(level),
            limit=check_limit(limit) + 1, before_id=int(key[0]) if key else None),
            limit, lambda r: (str(r["id"]),))
        return Page(items=[reminder_from(r) for r in rows], next_cursor=next_cursor)

    def escalate_now(self, kind: ItemKind, item_id: str, rule: str, due_at: datetime,
                     unit: str, note: str) -> int | None:
        """An escalation that a domain event demands at once (an unsatisfied return
        visit); call inside the event's transaction. Sent like a scan's escalation."""
        recipient, why = self.escalation_target(unit)
        text = f"{note}; {why}" if why else note
        return next(iter(self._add(
            {"item_kind": str(kind), "item_id": item_id, "rule": rule, "due_at": to_db(due_at)},
            ReminderLevel.ESCALATE, recipient, text, self.clock())), None)
