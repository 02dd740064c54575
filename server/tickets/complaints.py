"""Complaint use cases (JN 12, ZJ 8.2): record, contact, resolve, return visit, escalate,
and the customer's own status lookup.

Round 1 starts two clocks at receipt: contact within 20 min, close within 2 days. Closing
(办结) is followed by a return visit (JN 12), which the standards give no time limit. A
satisfied visit closes the complaint; an unsatisfied one is a complaint raised in the
visit: it escalates under supervision (JN 12 "升级督办") for another round, handled within
2 working days of the visit (JN 15: "回访及满意度调查过程中客户提出的建议及投诉，应在2个工作
日内处理"), then visited again. A suggestion made in a visit, satisfied or not, gets its own
2-working-day clock (JN 15 again), met by ``suggestion_handled``. Water-quality complaints
are placed into clusters as they arrive (``clusters.QualityWatch``).
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Final

from sqlite_utils import Database

from core.rows import integer, opt_number, opt_text, opt_time, text
from server.audit import AuditStore
from server.authz import Caller, Holder, authorize, narrowed_unit
from server.authz.throttle import LockoutBook
from server.clock import Clock, to_local
from server.paging import Page, after, check_limit, cut_page
from server.policy import PolicyProfile, WorkCalendar, time_rule
from server.tickets.clusters import QualityWatch, area_key
from server.tickets.errors import (
    BadTicketInputError,
    ComplaintNotFoundError,
    ComplaintStateError,
    LookupLockedError,
    ReasonRequiredError,
)
from server.tickets.model import (
    Channel,
    Complaint,
    ComplaintDeadline,
    ComplaintIn,
    ComplaintKind,
    ComplaintPublicStatus,
    ComplaintStatus,
    ItemKind,
    NoteIn,
    ResolveIn,
    ReturnVisit,
    ReturnVisitIn,
    mask_phone,
)
from server.tickets.reminders import ReminderService
from server.tickets.store import Row, TicketStore
from server.timefmt import from_db, to_db
from server.workorders.model import Actor

ENTITY: Final = "complaint"
CONTACT: Final = "complaint_contact"
CLOSE: Final = "complaint_close"
#: JN 15: what the customer raised in a return visit is handled within 2 working days
VISIT_HANDLING: Final = "visit_complaint_handling"
#: JN 15: a suggestion made in a return visit is handled within 2 working days too
SUGGESTION_HANDLING: Final = "visit_suggestion_handling"
#: wrong phone digits allowed per complaint number per window before lookups are refused
#: wrong lookups per (number, address) before the back-off, its first step and its cap
LOOKUP_FREE_FAILURES: Final = 3
LOOKUP_LOCKOUT: Final = timedelta(minutes=1)
LOOKUP_LOCKOUT_MAX: Final = timedelta(days=1)


def phone_tail(phone: str) -> str:
    digits = "".join(ch for ch in phone if ch.isdigit())
    if len(digits) < 4:
        raise BadTicketInputError("a phone number needs at least 4 digits", field="phone")
    return digits[-4:]


def _deadline(r: Row, now: datetime) -> ComplaintDeadline:
    due, met = from_db(str(r["due_at"])), opt_time(r, "met_at")
    return ComplaintDeadline(
        round=integer(r, "round"), rule=str(r["rule"]),
        title=str(r["title"]), clause=str(r["clause"]), starts_at=from_db(str(r["starts_at"])),
        due_at=due, remind_at=from_db(str(r["remind_at"])), met_at=met,
        overdue=(met > due) if met else now > due, provisional=bool(r["provisional"]),
    )


def holder_of_complaint(c: Complaint) -> Holder:
    """A complaint's facts for ``server.authz``: its unit is the unit it is targeted at."""
    return Holder(kind="complaint", id=c.id,
                  units=frozenset({c.target_unit}) if c.target_unit else frozenset())


class ComplaintService:
    def __init__(self, db: Database, clock: Clock, profile: PolicyProfile,
                 calendar: WorkCalendar, watch: QualityWatch,
                 reminders: ReminderService | None = None) -> None:
        self.db = db
        self.reminders = reminders
        self.clock = clock
        #: wrong lookups per (number, client address); ``Services`` sets the configured one
        self.lockouts = LockoutBook(db, clock, LOOKUP_FREE_FAILURES, LOOKUP_LOCKOUT,
                                    LOOKUP_LOCKOUT_MAX)
        self.profile = profile
        self.calendar = calendar
        self.watch = watch
        self.store = TicketStore(db)
        self.audit = AuditStore(db)
        #: how a new level-1 alert is sent once its complaint is committed. Inline by
        #: default (CLI, tests of the rule); the HTTP app hands it to a background thread
        #: so no request waits on the alert group's gateway. Unsent alerts are retried by
        #: the deadline scan either way.
        self.alert_dispatch: Callable[[str, datetime], object] = watch.deliver

    def _clock_row(self, complaint_id: str, round_: int, key: str, start: datetime) -> Row:
        rule = self.profile.rule(key)
        t = time_rule(start, rule, self.calendar, self.profile.thresholds.reminder_fraction)
        return {"complaint_id": complaint_id, "round": round_, "rule": key, "title": rule.title,
                "clause": rule.clause, "starts_at": to_db(start), "due_at": to_db(t.due_at),
                "remind_at": to_db(t.remind_at), "met_at": None,
                "provisional": int(t.provisional)}

    # -- reading -------------------------------------------------------------------------
    def _build(self, r: Row) -> Complaint:
        now = self.clock()
        cid = str(r["id"])
        return Complaint(
            id=cid, number=str(r["number"]), channel=Channel(text(r, "channel")),
            kind=ComplaintKind(str(r["kind"])), content=str(r["content"]),
            target_unit=str(r["target_unit"]), target_person=str(r["target_person"]),
            customer_id=opt_text(r, "customer_id"),
            compound=str(r["compound"]), address=str(r["address"]),
            lon=opt_number(r, "lon"), lat=opt_number(r, "lat"),
            phone_masked=mask_phone(str(r["phone"])) or "",
            status=ComplaintStatus(str(r["status"])),
            round=integer(r, "round"),
            received_at=from_db(str(r["received_at"])), created_at=from_db(str(r["created_at"])),
            contacted_at=opt_time(r, "contacted_at"),
            resolved_at=opt_time(r, "resolved_at"),
            closed_at=opt_time(r, "closed_at"),
            cluster_id=opt_text(r, "cluster_id"),
            profile=str(r["profile"]), version=integer(r, "version"),
            deadlines=[_deadline(d, now) for d in self.store.complaint_deadlines(cid)],
            visits=[ReturnVisit(round=integer(v, "round"),
                                visited_at=from_db(str(v["visited_at"])),
                                visited_by=opt_text(v, "visited_by"),
                                satisfied=bool(v["satisfied"]), note=str(v["note"]))
                    for v in self.store.complaint_visits(cid)],
        )

    def get(self, complaint_id: str) -> Complaint:
        row = self.store.complaint(complaint_id)
        if row is None:
            raise ComplaintNotFoundError(f"no complaint {complaint_id}",
                                         complaint_id=complaint_id)
        return self._build(row)

    def read(self, actor: Caller, complaint_id: str) -> Complaint:
        """One complaint, if ``server.authz`` lets ``actor`` manage it (its target unit)."""
        c = self.get(complaint_id)
        self._check(actor, c)
        return c

    def _check(self, actor: Caller | None, c: Complaint) -> None:
        if actor is not None:
            authorize(actor, "complaint.manage", holder_of_complaint(c),
                      by_unit=self.profile.office_by_unit)

    def list(self, *, status: ComplaintStatus | None = None, limit: int = 50,
             cursor: str | None = None, actor: Caller | None = None) -> Page[Complaint]:
        """Newest first, one page (``server.paging``); a unit-scoped office ``actor``
        (``office_by_unit``) sees the complaints targeted at its unit (and at none)."""
        unit = None if actor is None else narrowed_unit(actor, self.profile.office_by_unit)
        rows, next_cursor = cut_page(self.store.complaints(
            status=None if status is None else str(status), limit=check_limit(limit, 500) + 1,
            after=after(cursor, 2), unit=unit),
            limit, lambda r: (str(r["received_at"]), str(r["id"])))
        return Page(items=[self._build(r) for r in rows], next_cursor=next_cursor)

    def public_status(self, number: str, phone_last4: str, client: str = "local"
                      ) -> ComplaintPublicStatus:
        """The customer's lookup (ZJ 8.2): number plus the last 4 digits of their phone.

        A wrong pair answers exactly like an unknown number. Wrong digits are counted per
        (number, client address) in the store (one row per key, shared by all processes),
        with an exponential back-off after a few: the digits cannot be guessed, nobody
        elsewhere can lock a customer out of their own complaint (numbers are sequential),
        and no failure adds a row.
        """
        key = f"complaint {number} {client}"
        wait = self.lockouts.locked_for(key)
        if wait is not None:
            raise LookupLockedError("too many failed lookups for this number; try later",
                                    retry_after_s=wait)
        row = self.store.complaint_by_number(number)
        if row is None or len(phone_last4) != 4 or row["phone_last4"] != phone_last4:
            self.lockouts.fail(key)
            raise ComplaintNotFoundError("no complaint with this number and phone digits")
        self.lockouts.succeed(key)
        return ComplaintPublicStatus(
            number=str(row["number"]), status=ComplaintStatus(str(row["status"])),
            received_at=from_db(str(row["received_at"])),
            contacted_at=opt_time(row, "contacted_at"),
            resolved_at=opt_time(row, "resolved_at"),
            closed_at=opt_time(row, "closed_at"),
        )

    # -- writing -------------------------------------------------------------------------
    def create(self, actor: Actor, data: ComplaintIn) -> Complaint:
        now = self.clock()
        received = data.received_at or now
        if received.tzinfo is None or received > now:
            raise BadTicketInputError("received_at must carry a UTC offset and not lie ahead",
                                      field="received_at")
        if not data.content.strip():
            raise BadTicketInputError("a complaint needs its content", field="content")
        tail = phone_tail(data.phone)
        cid = str(uuid.uuid4())
        with self.db.atomic():
            row: Row = {
                "id": cid,
                "number": self.store.next_number("TS", to_local(now).strftime("%Y%m%d")),
                "channel": str(data.channel), "kind": str(data.kind), "content": data.content,
                "target_unit": data.target_unit, "target_person": data.target_person,
                "customer_id": data.customer_id, "compound": data.compound,
                "compound_key": area_key(data.compound),
                "address": data.address, "lon": data.lon, "lat": data.lat,
                "phone": data.phone.strip(), "phone_last4": tail,
                "status": str(ComplaintStatus.RECEIVED), "round": 1,
                "received_at": to_db(received), "created_at": to_db(now), "contacted_at": None,
                "resolved_at": None, "closed_at": None, "cluster_id": None,
                "profile": self.profile.name, "version": 1,
            }
            self.store.insert_complaint(row, [self._clock_row(cid, 1, CONTACT, received),
                                              self._clock_row(cid, 1, CLOSE, received)])
            alert_id = self.watch.observe(row, now) if data.kind.is_water_quality else None
            self._audit(cid, "create", actor, now, {"kind": str(data.kind),
                                                    "alert_id": alert_id})
        if alert_id is not None:
            self.alert_dispatch(alert_id, now)
        return self.get(cid)

    def _load(self, complaint_id: str, allowed: set[ComplaintStatus], action: str,
              actor: Caller | None = None) -> Complaint:
        c = self.get(complaint_id)
        self._check(actor, c)
        if c.status not in allowed:
            raise ComplaintStateError(
                f"a {c.status} complaint cannot be {action}; allowed from: "
                + ", ".join(sorted(allowed)),
                complaint_id=complaint_id, status=str(c.status), action=action)
        return c

    def _write(self, c: Complaint, changes: Row) -> None:
        if not self.store.update_complaint(c.id, c.version, changes):
            raise ComplaintStateError("the complaint changed meanwhile; reload it",
                                      complaint_id=c.id, action="update")

    def contact(self, actor: Actor, complaint_id: str, data: NoteIn) -> Complaint:
        """The customer was contacted (JN 12: within 20 minutes)."""
        now = self.clock()
        c = self._load(complaint_id, {ComplaintStatus.RECEIVED}, "contacted", actor)
        with self.db.atomic():
            self._write(c, {"status": str(ComplaintStatus.CONTACTED), "contacted_at": to_db(now)})
            self.store.meet_complaint_deadline(c.id, c.round, CONTACT, now)
            self._audit(c.id, "contact", actor, now, {"note": data.note}, data.device_time)
        return self.get(complaint_id)

    def resolve(self, actor: Actor, complaint_id: str, data: ResolveIn) -> Complaint:
        """Handled and answered (办结, JN 12: within 2 days); the return visit is next."""
        now = self.clock()
        c = self._load(complaint_id, {ComplaintStatus.CONTACTED, ComplaintStatus.ESCALATED},
                       "resolved", actor)
        if not data.result.strip():
            raise ReasonRequiredError("closing a complaint needs its result", field="result")
        with self.db.atomic():
            self._write(c, {"status": str(ComplaintStatus.RESOLVED), "resolved_at": to_db(now)})
            for rule in (CLOSE, VISIT_HANDLING):
                self.store.meet_complaint_deadline(c.id, c.round, rule, now)
            self._audit(c.id, "resolve", actor, now, {"result": data.result}, data.device_time)
        return self.get(complaint_id)

    def return_visit(self, actor: Actor, complaint_id: str, data: ReturnVisitIn) -> Complaint:
        """Satisfied closes the complaint; not satisfied escalates it for another round."""
        now = self.clock()
        c = self._load(complaint_id, {ComplaintStatus.RESOLVED}, "visited", actor)
        with self.db.atomic():
            self.store.insert_visit({"complaint_id": c.id, "round": c.round,
                                     "visited_at": to_db(now), "visited_by": actor.user_id,
                                     "satisfied": int(data.satisfied), "note": data.note})
            if data.satisfied:
                self._write(c, {"status": str(ComplaintStatus.CLOSED), "closed_at": to_db(now)})
            else:
                self._write(c, {"status": str(ComplaintStatus.ESCALATED), "round": c.round + 1,
                                "resolved_at": None})
                clock_ = self._clock_row(c.id, c.round + 1, VISIT_HANDLING, now)
                self.store.insert_complaint_deadlines([clock_])
                if self.reminders is not None:
                    self.reminders.escalate_now(
                        ItemKind.COMPLAINT, c.id, VISIT_HANDLING,
                        from_db(str(clock_["due_at"])), c.target_unit,
                        f"return visit unsatisfied: round {c.round + 1} under supervision "
                        "(JN 12), handled within 2 working days of the visit (JN 15)")
            if data.suggestion.strip():
                self.store.insert_complaint_deadlines(
                    [self._clock_row(c.id, c.round, SUGGESTION_HANDLING, now)])
            self._audit(c.id, "return_visit", actor, now,
                        {"satisfied": data.satisfied, "note": data.note, "round": c.round,
                         "suggestion": data.suggestion})
        return self.get(complaint_id)

    def suggestion_handled(self, actor: Actor, complaint_id: str, data: NoteIn) -> Complaint:
        """The suggestion the customer made in a return visit was handled (JN 15: within 2
        working days of the visit), whatever the complaint's status."""
        now = self.clock()
        c = self.get(complaint_id)
        self._check(actor, c)
        open_ = [d for d in c.deadlines if d.rule == SUGGESTION_HANDLING and d.met_at is None]
        if not open_:
            raise ComplaintStateError("no suggestion from a return visit is waiting",
                                      complaint_id=complaint_id, status=str(c.status),
                                      action="suggestion-handled")
        with self.db.atomic():
            for d in open_:
                self.store.meet_complaint_deadline(c.id, d.round, SUGGESTION_HANDLING, now)
            self._audit(c.id, "suggestion_handled", actor, now, {"note": data.note},
                        data.device_time)
        return self.get(complaint_id)

    def _audit(self, complaint_id: str, action: str, actor: Actor, now: datetime,
               detail: dict[str, object], device_time: datetime | None = None) -> None:
        self.audit.record(ENTITY, complaint_id, action, actor_user_id=actor.user_id,
                          device_id=actor.device_id, server_time=now,
                          device_time=device_time or actor.device_time, detail=detail)
