"""Ticket use cases: create from any channel, accept, reply, resolve, send back, extend,
link to a work order.

Every use case is one transaction that writes the ticket, its clocks and its audit entry
together. Deadlines count on server time; device time is kept in the audit as data.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Final

import msgspec
from sqlite_utils import Database

from core.rows import integer, opt_number, opt_text, opt_time, text
from server.audit import AuditStore
from server.authz import Holder, authorize, role_may
from server.clock import Clock, to_local
from server.paging import after, check_limit, cut_page
from server.policy import PolicyProfile, WorkCalendar
from server.tickets.categories import (
    load_categories,
    sendback_deadline,
    ticket_deadlines,
)
from server.tickets.errors import (
    BadTicketInputError,
    ExtensionError,
    NotSupervisorError,
    ReasonRequiredError,
    TicketNotFoundError,
    TicketStateError,
)
from server.tickets.model import (
    ACCEPT_RULE,
    HANDLE,
    Channel,
    Extension,
    ExtensionDecisionIn,
    ExtensionIn,
    ExtensionStatus,
    LinkIn,
    NoteIn,
    ReasonIn,
    Ticket,
    TicketDeadline,
    TicketIn,
    TicketPage,
    TicketStatus,
    mask_phone,
)
from server.tickets.store import Row, TicketStore
from server.timefmt import from_db, opt_to_db, to_db
from server.workorders.model import Actor, WorkOrderIn
from server.workorders.service import WorkOrderService

ENTITY: Final = "ticket"

#: action -> statuses it is allowed from
ALLOWED_FROM: Final[dict[str, frozenset[TicketStatus]]] = {
    "accept": frozenset({TicketStatus.RECEIVED}),
    "reply": frozenset({TicketStatus.ACCEPTED}),
    "resolve": frozenset({TicketStatus.ACCEPTED, TicketStatus.REPLIED}),
    # LC §17: a unit that disputes a ticket sends it back, even after accepting it
    "send_back": frozenset({TicketStatus.RECEIVED, TicketStatus.ACCEPTED}),
    "extend": frozenset({TicketStatus.RECEIVED, TicketStatus.ACCEPTED, TicketStatus.REPLIED}),
    "link": frozenset({TicketStatus.ACCEPTED, TicketStatus.REPLIED, TicketStatus.RESOLVED}),
}


def holder_of(ticket: Ticket) -> Holder:
    """A ticket is routed to a crew (``crew_id``) and/or assigned to a user, in a unit."""
    return Holder(kind="ticket", id=ticket.id,
                  crew_ids=frozenset({ticket.crew_id}) if ticket.crew_id else frozenset(),
                  assignee_id=ticket.assignee_id,
                  units=frozenset({ticket.unit}) if ticket.unit else frozenset())


def check_action(status: TicketStatus, action: str) -> str | None:
    """Why ``action`` is not allowed on a ticket in ``status`` (None when it is)."""
    allowed = ALLOWED_FROM[action]
    if status in allowed:
        return None
    return (f"a {status} ticket cannot be {action.replace('_', ' ')}ed; allowed from: "
            + ", ".join(sorted(allowed)))


def deadline_row(ticket_id: str, d: TicketDeadline) -> Row:
    return {"ticket_id": ticket_id, "kind": d.kind, "rule": d.rule, "title": d.title,
            "clause": d.clause, "starts_at": to_db(d.starts_at), "due_at": to_db(d.due_at),
            "remind_at": to_db(d.remind_at), "met_at": opt_to_db(d.met_at),
            "original_due_at": opt_to_db(d.original_due_at), "voided": int(d.voided),
            "provisional": int(d.provisional)}


def _deadline(r: Row, now: datetime) -> TicketDeadline:
    due = from_db(str(r["due_at"]))
    met = opt_time(r, "met_at")
    voided = bool(r["voided"])
    return TicketDeadline(
        kind=str(r["kind"]), rule=str(r["rule"]), title=str(r["title"]),
        clause=str(r["clause"]), starts_at=from_db(str(r["starts_at"])), due_at=due,
        remind_at=from_db(str(r["remind_at"])), met_at=met,
        original_due_at=opt_time(r, "original_due_at"),
        voided=voided, overdue=not voided and (met > due if met else now > due),
        provisional=bool(r["provisional"]),
    )


def _extension(r: Row) -> Extension:
    return Extension(
        id=str(r["id"]), ticket_id=str(r["ticket_id"]), reason=str(r["reason"]),
        requested_by=opt_text(r, "requested_by"),
        requested_at=from_db(str(r["requested_at"])), new_due_at=from_db(str(r["new_due_at"])),
        status=ExtensionStatus(str(r["status"])),
        decided_by=opt_text(r, "decided_by"),
        decided_at=opt_time(r, "decided_at"),
        note=str(r["note"]),
    )


class TicketService:
    def __init__(self, db: Database, clock: Clock, profile: PolicyProfile,
                 calendar: WorkCalendar, workorders: WorkOrderService | None = None) -> None:
        self.db = db
        self.clock = clock
        self.profile = profile
        self.calendar = calendar
        self.workorders = workorders
        self.store = TicketStore(db)
        self.audit = AuditStore(db)
        self.book = load_categories()

    # -- reading -------------------------------------------------------------------------
    def _build(self, rows: list[Row]) -> list[Ticket]:
        now = self.clock()
        ids = [str(r["id"]) for r in rows]
        deadlines = self.store.ticket_deadlines(ids)
        extensions = self.store.extensions(ids)
        out = []
        for r in rows:
            tid = str(r["id"])
            cat = next((c for c in self.book.category if c.key == r["category"]), None)
            out.append(Ticket(
                id=tid, number=str(r["number"]), channel=Channel(text(r, "channel")),
                category=str(r["category"]), category_title=cat.title if cat else "",
                status=TicketStatus(str(r["status"])), title=str(r["title"]),
                description=str(r["description"]), unit=str(r["unit"]),
                assignee_id=opt_text(r, "assignee_id"), crew_id=opt_text(r, "crew_id"),
                compound=str(r["compound"]), address=str(r["address"]),
                lon=opt_number(r, "lon"), lat=opt_number(r, "lat"),
                caller_phone_masked=mask_phone(opt_text(r, "caller_phone")),
                external_ref=opt_text(r, "external_ref"),
                profile=str(r["profile"]), originated_at=from_db(str(r["originated_at"])),
                created_at=from_db(str(r["created_at"])),
                accepted_at=opt_time(r, "accepted_at"),
                replied_at=opt_time(r, "replied_at"),
                resolved_at=opt_time(r, "resolved_at"),
                sent_back_at=opt_time(r, "sent_back_at"),
                sendback_reason=opt_text(r, "sendback_reason"),
                work_order_id=opt_text(r, "work_order_id"),
                version=integer(r, "version"),
                deadlines=[_deadline(d, now) for d in deadlines[tid]],
                extensions=[_extension(e) for e in extensions[tid]],
            ))
        return out

    def get(self, ticket_id: str) -> Ticket:
        row = self.store.ticket(ticket_id)
        if row is None:
            raise TicketNotFoundError(f"no ticket {ticket_id}", ticket_id=ticket_id)
        return self._build([row])[0]

    def list(self, *, status: TicketStatus | None = None, unit: str | None = None,
             overdue: bool = False, limit: int = 50, actor: Actor | None = None,
             cursor: str | None = None) -> TicketPage:
        """Tickets; a unit-scoped office ``actor`` (profile ``office_by_unit``) sees its unit's."""
        if actor is not None and self.profile.office_by_unit and actor.role != "admin" \
                and actor.unit:
            if unit is not None and unit != actor.unit:
                return TicketPage(items=[])
            unit = actor.unit
        rows, next_cursor = cut_page(self.store.tickets(
            status=None if status is None else str(status), unit=unit,
            overdue_at=self.clock() if overdue else None, limit=check_limit(limit, 500) + 1,
            after=after(cursor, 2)), limit, lambda r: (str(r["created_at"]), str(r["id"])))
        return TicketPage(items=self._build(rows), next_cursor=next_cursor)

    # -- writing -------------------------------------------------------------------------
    def create(self, actor: Actor, data: TicketIn) -> Ticket:
        now = self.clock()
        category = self.book.lookup(data.channel, data.category)
        originated = data.originated_at or now
        if originated.tzinfo is None:
            raise BadTicketInputError("originated_at needs a UTC offset", field="originated_at")
        if originated > now:
            raise BadTicketInputError("originated_at lies in the future", field="originated_at")
        if not data.title.strip():
            raise BadTicketInputError("a ticket needs a title", field="title")
        clocks = ticket_deadlines(channel=data.channel, category=category, profile=self.profile,
                                  calendar=self.calendar, originated_at=originated,
                                  received_at=now, limit_hours=data.limit_hours,
                                  unit=data.unit)
        transferred = any(d.kind == ACCEPT_RULE for d in clocks)
        tid = str(uuid.uuid4())
        with self.db.atomic():
            row: Row = {
                "id": tid, "number": self.store.next_number("T", to_local(now).strftime("%Y%m%d")),
                "channel": str(data.channel), "category": category.key,
                "status": str(TicketStatus.RECEIVED if transferred else TicketStatus.ACCEPTED),
                "title": data.title, "description": data.description, "unit": data.unit,
                "assignee_id": data.assignee_id, "crew_id": data.crew_id,
                "compound": data.compound, "address": data.address, "lon": data.lon,
                "lat": data.lat, "caller_phone": data.caller_phone,
                "external_ref": data.external_ref, "profile": self.profile.name,
                "originated_at": to_db(originated), "created_at": to_db(now),
                "accepted_at": None if transferred else to_db(now), "replied_at": None,
                "resolved_at": None, "sent_back_at": None, "sendback_reason": None,
                "work_order_id": None, "version": 1,
            }
            self.store.insert_ticket(row, [deadline_row(tid, d) for d in clocks])
            self._audit(tid, "create", actor, now, {"channel": str(data.channel),
                                                    "category": category.key})
        return self.get(tid)

    def read(self, actor: Actor, ticket_id: str) -> Ticket:
        """One ticket, if it is in the caller's scope (a crew: routed to it or its member)."""
        ticket = self.get(ticket_id)
        authorize(actor, "ticket.read", holder_of(ticket), by_unit=self.profile.office_by_unit)
        return ticket

    def _load(self, actor: Actor, ticket_id: str, action: str) -> Ticket:
        """The ticket, once ``server.authz`` allows ``ticket.<action>`` and its status does."""
        ticket = self.get(ticket_id)
        authorize(actor, f"ticket.{action}", holder_of(ticket),
                  by_unit=self.profile.office_by_unit)
        refusal = check_action(ticket.status, action)
        if refusal is not None:
            raise TicketStateError(refusal, ticket_id=ticket_id, status=str(ticket.status),
                                   action=action)
        return ticket

    def _write(self, ticket: Ticket, changes: Row) -> None:
        if not self.store.update_ticket(ticket.id, ticket.version, changes):
            raise TicketStateError("the ticket changed meanwhile; reload it",
                                   ticket_id=ticket.id, action="update")

    def accept(self, actor: Actor, ticket_id: str, data: NoteIn) -> Ticket:
        """Accept a transferred ticket (LC §13: within 1 working hour)."""
        now = self.clock()
        ticket = self._load(actor, ticket_id, "accept")
        with self.db.atomic():
            self._write(ticket, {"status": str(TicketStatus.ACCEPTED), "accepted_at": to_db(now),
                                 "assignee_id": ticket.assignee_id or actor.user_id})
            self.store.meet_ticket_deadline(ticket_id, ACCEPT_RULE, now)
            self._audit(ticket_id, "accept", actor, now, {"note": data.note}, data.device_time)
        return self.get(ticket_id)

    def reply(self, actor: Actor, ticket_id: str, data: NoteIn) -> Ticket:
        """Feedback given (反馈情况): meets the category's limit (LC §14, §15)."""
        now = self.clock()
        ticket = self._load(actor, ticket_id, "reply")
        if not data.note.strip():
            raise ReasonRequiredError("a reply needs its content", field="note")
        with self.db.atomic():
            self._write(ticket, {"status": str(TicketStatus.REPLIED), "replied_at": to_db(now)})
            self._meet_reply(ticket, now)
            self._audit(ticket_id, "reply", actor, now, {"note": data.note}, data.device_time)
        return self.get(ticket_id)

    def resolve(self, actor: Actor, ticket_id: str, data: NoteIn) -> Ticket:
        now = self.clock()
        ticket = self._load(actor, ticket_id, "resolve")
        with self.db.atomic():
            self._write(ticket, {"status": str(TicketStatus.RESOLVED), "resolved_at": to_db(now),
                                 "replied_at": to_db(ticket.replied_at or now)})
            self._meet_reply(ticket, now)
            self._audit(ticket_id, "resolve", actor, now, {"note": data.note}, data.device_time)
        return self.get(ticket_id)

    def send_back(self, actor: Actor, ticket_id: str, data: ReasonIn) -> Ticket:
        """Return a ticket that is not ours, with the mandatory reason (LC §14(五)).

        The send-back clock (10 min / 1 h / 2 working hours by the category's class) counts
        from when the ticket reached us and is recorded met now, on time or late; the
        ticket's other clocks stop counting for anyone.
        """
        now = self.clock()
        ticket = self._load(actor, ticket_id, "send_back")
        if not data.reason.strip():
            raise ReasonRequiredError("sending a ticket back needs the reason and its basis",
                                      field="reason")
        category = self.book.lookup(ticket.channel, ticket.category)
        clock_ = msgspec.structs.replace(
            sendback_deadline(category, self.profile, self.calendar, ticket.created_at),
            met_at=now)
        with self.db.atomic():
            self._write(ticket, {"status": str(TicketStatus.SENT_BACK),
                                 "sent_back_at": to_db(now), "sendback_reason": data.reason})
            self.store.void_ticket_deadlines(ticket_id)
            self.store.insert_ticket_deadlines([deadline_row(ticket_id, clock_)])
            self._audit(ticket_id, "send_back", actor, now, {"reason": data.reason},
                        data.device_time)
        return self.get(ticket_id)

    def request_extension(self, actor: Actor, ticket_id: str, data: ExtensionIn) -> Ticket:
        """Ask for more time (LC §13: tell the customer, give the reason, apply)."""
        now = self.clock()
        ticket = self._load(actor, ticket_id, "extend")
        if not data.reason.strip():
            raise ReasonRequiredError("an extension request needs a reason", field="reason")
        handle = next((d for d in ticket.deadlines if d.kind == HANDLE and not d.voided), None)
        if handle is None or handle.met_at is not None:
            raise ExtensionError("the ticket has no open deadline to extend", ticket_id=ticket_id)
        if data.new_due_at.tzinfo is None or data.new_due_at <= handle.due_at:
            raise ExtensionError("the new due time must be later than the current one",
                                 ticket_id=ticket_id, current_due_at=handle.due_at.isoformat())
        if any(e.status is ExtensionStatus.PENDING for e in ticket.extensions):
            raise ExtensionError("an extension request is already pending", ticket_id=ticket_id)
        with self.db.atomic():
            self.store.insert_extension({
                "id": str(uuid.uuid4()), "ticket_id": ticket_id, "reason": data.reason,
                "requested_by": actor.user_id, "requested_at": to_db(now),
                "new_due_at": to_db(data.new_due_at), "status": str(ExtensionStatus.PENDING),
                "decided_by": None, "decided_at": None, "note": ""})
            self._audit(ticket_id, "extension_requested", actor, now,
                        {"reason": data.reason, "new_due_at": to_db(data.new_due_at)})
        return self.get(ticket_id)

    def decide_extension(self, actor: Actor, ticket_id: str, extension_id: str,
                         data: ExtensionDecisionIn) -> Ticket:
        """A supervisor approves (the ticket's limit moves) or rejects a request."""
        now = self.clock()
        if not role_may("ticket.decide_extension", actor.role):
            raise NotSupervisorError("only a supervisor decides extension requests",
                                     ticket_id=ticket_id, role=actor.role)
        ticket = self.get(ticket_id)
        ext = next((e for e in ticket.extensions if e.id == extension_id), None)
        if ext is None or ext.status is not ExtensionStatus.PENDING:
            raise ExtensionError("no pending extension request with this id",
                                 ticket_id=ticket_id, extension_id=extension_id)
        status = ExtensionStatus.APPROVED if data.approve else ExtensionStatus.REJECTED
        handle = next(d for d in ticket.deadlines if d.kind == HANDLE)
        with self.db.atomic():
            if not self.store.decide_extension(extension_id, str(status), actor.user_id, now,
                                               data.note):
                raise ExtensionError("the request was decided meanwhile", ticket_id=ticket_id,
                                     extension_id=extension_id)
            if data.approve and handle.met_at is None:
                # remind again when the same share of the longer allowance has passed
                span = ext.new_due_at - handle.starts_at
                remind = handle.starts_at + span * self.profile.thresholds.reminder_fraction
                self.store.move_ticket_deadline(ticket_id, HANDLE, ext.new_due_at, remind)
            self._audit(ticket_id, f"extension_{status}", actor, now,
                        {"extension_id": extension_id, "note": data.note})
        return self.get(ticket_id)

    def link_work_order(self, actor: Actor, ticket_id: str, data: LinkIn) -> Ticket:
        """Record the work order this ticket created (it must exist)."""
        now = self.clock()
        ticket = self._load(actor, ticket_id, "link")
        if self.workorders is not None:
            self.workorders.get_unchecked(data.work_order_id)  # NotFoundError when unknown
        with self.db.atomic():
            self._write(ticket, {"work_order_id": data.work_order_id})
            self._audit(ticket_id, "link_work_order", actor, now,
                        {"work_order_id": data.work_order_id})
        return self.get(ticket_id)

    def create_work_order(self, actor: Actor, ticket_id: str, data: WorkOrderIn) -> Ticket:
        """Dispatch a work order for this ticket and link it, reported at the ticket's origin."""
        if self.workorders is None:
            raise TicketStateError("no work-order service is wired", ticket_id=ticket_id)
        ticket = self._load(actor, ticket_id, "link")
        if ticket.work_order_id is not None:
            raise TicketStateError("the ticket already has a work order", ticket_id=ticket_id,
                                   work_order_id=ticket.work_order_id)
        reported = data.reported_at or ticket.originated_at
        wo = self.workorders.create(actor, msgspec.structs.replace(data, reported_at=reported))
        return self.link_work_order(actor, ticket_id, LinkIn(work_order_id=wo.id))

    # -- helpers -------------------------------------------------------------------------
    def _meet_reply(self, ticket: Ticket, now: datetime) -> None:
        """A reply meets the category's limit and, for a handed-over ticket, the handling
        unit's reply to the counter (JM §6)."""
        self.store.meet_ticket_deadline(ticket.id, HANDLE, now)
        handover = self.book.channel_spec(ticket.channel).handover_rule
        if handover:
            self.store.meet_ticket_deadline(ticket.id, handover, now)

    def _audit(self, ticket_id: str, action: str, actor: Actor, now: datetime,
               detail: dict[str, object], device_time: datetime | None = None) -> None:
        self.audit.record(ENTITY, ticket_id, action, actor_user_id=actor.user_id,
                          device_id=actor.device_id, server_time=now,
                          device_time=device_time or actor.device_time, detail=detail)
