"""Connection use cases: apply, accept (documents missing or not), complete documents,
book the survey, file the design, follow the crew's steps, return visit, cancel, the
customer's lookup and the statistics.

Each use case is one transaction writing the connection, its work order's deadlines,
the audit entry, the outbox row of the customer's SMS and the change-log entries
together. The field stages are never set by hand: ``refresh`` derives them from the
work order's steps whenever evidence arrives (sync push, upload, office), so a crew
working offline moves the connection on when its tablet syncs.
"""

from __future__ import annotations

import json
import re
import uuid
from datetime import datetime, timedelta
from typing import Final

from sqlite_utils import Database

from core import rows
from core.uow import touch
from geo.service import NetworkService
from notifications.store import NotificationStore
from server.accounts.model import Principal
from server.accounts.store import AccountStore
from server.audit import AuditStore
from server.authz import Caller, Holder, authorize, narrowed_unit
from server.authz.throttle import LockoutBook
from server.clock import Clock, to_local
from server.connections import stages
from server.connections.errors import (
    CommittedLimitError,
    ConnectionInputError,
    ConnectionLookupLockedError,
    ConnectionNotFoundError,
    ConnectionStageError,
    DocumentsRefusedError,
)
from server.connections.field import FieldProgress, times_of
from server.connections.model import (
    AcceptIn,
    ApplicationIn,
    AppointmentIn,
    CancelIn,
    Connection,
    ConnectionStats,
    DesignIn,
    DocumentsIn,
    MeterIn,
    PhotoStepIn,
    PublicStatus,
    ReturnVisitIn,
    Stage,
    StepIn,
    TieIn,
)
from server.connections.notices import Event, queue_sms, text
from server.connections.stats import build_stats
from server.connections.store import (
    ConnectionStore,
    Row,
    encode_tie_in,
    encode_times,
    to_connection,
)
from server.customers.model import Customer
from server.customers.store import CustomerStore
from server.errors import NotFoundError
from server.fieldwork import Fieldwork
from server.fieldwork.service import Item
from server.paging import Page, after, check_limit, cut_page
from server.policy import OpenClock, PolicyProfile, Timing, WorkCalendar
from server.policy.connections import ConnectionLimit, ConnectionPolicy, ProjectTypePolicy
from server.timefmt import to_db
from server.workorders.model import (
    Actor,
    AssignIn,
    Deadline,
    Point,
    Status,
    TransitionIn,
    WorkOrderIn,
    WorkOrderType,
)
from server.workorders.service import ENTITY as WORK_ORDER
from server.workorders.service import WorkOrderService

ENTITY: Final = "connection"
#: the complaint lookup's defaults (Services shares its settings-built book)
LOOKUP_FREE_FAILURES: Final = 3
LOOKUP_LOCKOUT: Final = timedelta(minutes=1)
LOOKUP_LOCKOUT_MAX: Final = timedelta(days=1)
SHA256: Final = re.compile(r"^[0-9a-f]{64}$")


def phone_tail(phone: str) -> str:
    digits = "".join(ch for ch in phone if ch.isdigit())
    if len(digits) < 4:
        raise ConnectionInputError("a phone number needs at least 4 digits", field="phone")
    return digits[-4:]


def rule_titles(policy: ConnectionPolicy) -> dict[str, str]:
    """Titles of the connection clocks (for the work order's deadline list)."""
    titles = {stages.rule_key(k): v.title for k, v in policy.acceptance.items() if v.title}
    titles[stages.rule_key("acceptance")] = "Connection: application accepted"
    titles |= {stages.rule_key(k): v.title or k for k, v in policy.stages.items()}
    if policy.documents is not None:
        titles[stages.rule_key("documents")] = policy.documents.title or "documents"
    titles[stages.TOTAL] = "Connection: acceptance to water on"
    titles.setdefault(stages.rule_key("design"), "Connection: design sketch")
    titles.setdefault(stages.rule_key("construction"), "Connection: construction")
    titles.setdefault(stages.rule_key("meter_fitting"), "Connection: meter fitted")
    return titles


class ConnectionService:
    def __init__(self, db: Database, clock: Clock, profile: PolicyProfile,
                 calendar: WorkCalendar, workorders: WorkOrderService, fieldwork: Fieldwork,
                 network: NetworkService | None = None, *, hotline: str = "") -> None:
        self.db = db
        self.clock = clock
        self.profile = profile
        self.policy = profile.connections
        self.calendar = calendar
        self.workorders = workorders
        self.fieldwork = fieldwork
        self.network = network
        self.hotline = hotline
        self.store = ConnectionStore(db)
        self.accounts = AccountStore(db)
        self.customers = CustomerStore(db)
        self.outbox = NotificationStore(db)
        self.audit = AuditStore(db)
        self.field = FieldProgress(self)
        #: wrong lookup digits per (number, address); Services shares the app's book
        self.lockouts = LockoutBook(db, clock, LOOKUP_FREE_FAILURES, LOOKUP_LOCKOUT,
                                    LOOKUP_LOCKOUT_MAX)

    # -- reading -----------------------------------------------------------------------
    def _row(self, connection_id: str) -> Row:
        row = self.store.row(connection_id)
        if row is None:
            raise ConnectionNotFoundError(f"no connection {connection_id}",
                                          connection_id=connection_id)
        return row

    def _out(self, row: Row) -> Connection:
        wo_id = row["work_order_id"]
        deadlines: list[Deadline] = []
        if wo_id:
            deadlines = self.workorders.store.deadlines([str(wo_id)], self.clock()).get(
                str(wo_id), [])
        return to_connection(row, deadlines)

    def _holder(self, row: Row) -> Holder:
        """A connection for ``server.authz``: its crew (a crew sees only its own, as with
        its work orders) and its handling unit (``office_by_unit``; none before acceptance)."""
        crews = frozenset({str(row["crew_id"])}) if row["crew_id"] else frozenset()
        units = frozenset({str(row["unit"])}) if row["unit"] else frozenset()
        return Holder(kind="connection", id=str(row["id"]), crew_ids=crews, units=units,
                      work_type="new_connection")

    def _managed_row(self, principal: Principal, connection_id: str) -> Row:
        """The row an office action works on, if it is in the caller's unit's scope."""
        row = self._row(connection_id)
        authorize(principal, "connection.manage", self._holder(row),
                  by_unit=self.profile.office_by_unit)
        return row

    def get(self, principal: Principal, connection_id: str) -> Connection:
        row = self._row(connection_id)
        authorize(principal, "connection.read", self._holder(row),
                  by_unit=self.profile.office_by_unit)
        return self._out(row)

    def list(self, stage: Stage | None = None, limit: int = 50,
             cursor: str | None = None, actor: Caller | None = None) -> Page[Connection]:
        """Newest application first, one page (``server.paging``); a unit-scoped office
        ``actor`` (``office_by_unit``) sees its unit's connections and those of none."""
        unit = None if actor is None else narrowed_unit(actor, self.profile.office_by_unit)
        rows, next_cursor = cut_page(self.store.rows(
            None if stage is None else str(stage), check_limit(limit, 500) + 1,
            after(cursor, 2), unit), limit, lambda r: (str(r["applied_at"]), str(r["id"])))
        return Page(items=[self._out(r) for r in rows], next_cursor=next_cursor)

    def overdue(self, limit: int = 500, cursor: str | None = None,
                actor: Caller | None = None) -> Page[Connection]:
        """Connections with a clock past due (or met late), the earliest due first; the
        actor's unit only, as ``list``."""
        unit = None if actor is None else narrowed_unit(actor, self.profile.office_by_unit)
        rows, next_cursor = cut_page(self.store.overdue_rows(
            self.clock(), check_limit(limit, 500) + 1, after(cursor, 2), unit), limit,
            lambda r: (str(r["first_due"]), str(r["id"])))
        return Page(items=[self._out({k: v for k, v in r.items() if k != "first_due"})
                           for r in rows], next_cursor=next_cursor)

    # -- application and acceptance ------------------------------------------------------
    def apply(self, principal: Principal, data: ApplicationIn) -> Connection:
        """Record an application; its acceptance clock (by channel) starts now."""
        now = self.clock()
        tail = phone_tail(data.phone)
        # stored as digits: "138 1234 5678" and "138-1234-5678" reach the same handset
        phone = ("+" if data.phone.strip().startswith("+") else "") + "".join(
            ch for ch in data.phone if ch.isdigit())
        lon, lat = data.location
        if not (-180 <= lon <= 180 and -90 <= lat <= 90):
            raise ConnectionInputError(f"({lon}, {lat}) is not WGS84 lon/lat", field="location")
        if not data.applicant.strip() or not data.address.strip():
            raise ConnectionInputError("an application names the applicant and the address",
                                       field="applicant")
        applied = data.applied_at or now
        if applied.tzinfo is None:
            raise ConnectionInputError("applied_at needs a UTC offset", field="applied_at")
        if applied > now:
            raise ConnectionInputError("applied_at lies in the future", field="applied_at")
        pt = self.policy.types.get(str(data.project_type))
        limit = self.policy.acceptance.get(str(data.channel))
        if pt is None or limit is None:
            raise ConnectionInputError(
                f"profile {self.profile.name!r} has no limits for {data.project_type} "
                f"by {data.channel}", field="project_type")
        conn_id = str(uuid.uuid4())
        with self.db.atomic():
            number = self.store.next_number(to_local(now).strftime("%Y%m%d"))
            customer_id = f"cust-{number}"
            self.store.add_customer(Customer(
                id=customer_id, account_no=number, name=data.applicant.strip(),
                phone=phone, address=data.address.strip(), lon=lon, lat=lat,
                category="new_connection", channels=["sms"]), now)
            wo = self.workorders.create(_actor(principal), WorkOrderIn(
                type=WorkOrderType.NEW_CONNECTION, location=Point((lon, lat)),
                title=f"接水 {number} {data.address.strip()}", customer_id=customer_id,
                description=data.notes, reported_at=applied,
                fields={"connection_number": number, "connection_stage": str(Stage.APPLIED),
                        "project_type": str(data.project_type),
                        "external_works": pt.external_works}))
            accept = stages.deadline(stages.rule_key("acceptance"), limit, applied,
                                     stages.due(applied, limit, self.calendar), self.calendar)
            self.workorders.store.add_deadlines(wo.id, [accept])
            self.store.insert({
                "id": conn_id, "number": number, "project_type": str(data.project_type),
                "channel": str(data.channel), "stage": str(Stage.APPLIED),
                "applicant": data.applicant.strip(), "phone": phone,
                "phone_last4": tail, "address": data.address.strip(), "lon": lon, "lat": lat,
                "service_dn_mm": data.service_dn_mm, "notes": data.notes,
                "profile": self.profile.name, "applied_at": to_db(applied),
                "work_order_id": wo.id, "customer_id": customer_id,
                "documents": json.dumps(sorted(set(data.documents))),
                "stage_times": encode_times({str(Stage.APPLIED): applied}),
                "created_at": to_db(now), "updated_at": to_db(now)})
            self._audit(conn_id, "apply", principal, now, {"number": number,
                                                           "channel": str(data.channel)})
        return self._out(self._row(conn_id))

    def accept(self, principal: Principal, connection_id: str, data: AcceptIn) -> Connection:
        """Accept (受理): missing documents get a list and a deadline (容缺受理); the
        survey and total clocks start now, or when the documents are complete if the
        profile's clock waits for them."""
        row = self._managed_row(principal, connection_id)
        self._at(row, {Stage.APPLIED}, "accept")
        now = self.clock()
        ptype = str(row["project_type"])
        pt = self.policy.types[ptype]
        handed = set(json.loads(str(row["documents"])))
        missing = set(data.missing_documents)
        if not pt.zero_documents:
            missing |= set(pt.documents) - handed
        if missing and not self.policy.accept_missing_documents:
            raise DocumentsRefusedError(
                f"documents missing: {', '.join(sorted(missing))}; this profile accepts "
                "none missing", missing=sorted(missing))
        if missing and self.policy.documents is None:
            raise DocumentsRefusedError("this profile sets no deadline for missing documents",
                                        missing=sorted(missing))
        refusal = stages.check_committed(pt.total, data.committed_limit)
        if refusal is not None:
            raise CommittedLimitError(refusal, committed_limit=data.committed_limit)
        unit = data.unit.strip()
        if data.crew_id is not None:
            crew = self.accounts.crew(data.crew_id)
            if crew is None:
                raise NotFoundError(f"no crew {data.crew_id}", crew_id=data.crew_id)
            unit = unit or crew.unit
        wo_id = str(row["work_order_id"])
        tie = self.field.tie_in(row, pt.min_main_dn_mm)
        committed, basis = self._committed(row, pt, data, tie)
        with self.db.atomic():
            self.workorders.store.meet_deadlines(wo_id, [stages.rule_key("acceptance")], now)
            docs_due: datetime | None = None
            new: list[Deadline] = []
            if missing:
                assert self.policy.documents is not None  # noqa: S101 - checked above
                docs_due = stages.due(now, self.policy.documents, self.calendar)
                new.append(stages.deadline(stages.rule_key("documents"), self.policy.documents,
                                           now, docs_due, self.calendar))
            self.workorders.store.add_deadlines(wo_id, new)
            changes: Row = {
                "stage": str(Stage.ACCEPTED), "accepted_at": to_db(now), "unit": unit,
                "crew_id": data.crew_id, "missing_documents": json.dumps(sorted(missing)),
                "documents_due_at": None if docs_due is None else to_db(docs_due),
                "committed_limit": committed, "tie_in": encode_tie_in(tie),
                "stage_times": encode_times({**times_of(row), str(Stage.ACCEPTED): now})}
            self.store.update(str(row["id"]), changes, now)
            total_due = None
            if not missing or self.policy.missing_documents_clock == "runs":
                total_due = self._start_clocks(wo_id, ptype, now, committed)
            self.field.tie_in_fields(wo_id, tie, now)
            self.field.stage_field(wo_id, Stage.ACCEPTED, now)
            if data.crew_id is not None:
                self.workorders.assign(principal, wo_id, AssignIn(crew_id=data.crew_id,
                                                                  reason="connection accepted"))
            title, body = text(Event.ACCEPTED, str(row["number"]), hotline=self.hotline,
                               due_at=total_due, missing=sorted(missing),
                               documents_due_at=docs_due)
            queue_sms(self.outbox, Event.ACCEPTED, str(row["id"]), str(row["number"]),
                      str(row["phone"]), title, body, now)
            self._audit(str(row["id"]), "accept", principal, now,
                        {"missing_documents": sorted(missing), "crew_id": data.crew_id,
                         "unit": unit, "committed_limit": committed, "limit_basis": basis})
            self._publish(wo_id)
        return self._out(self._row(str(row["id"])))

    @staticmethod
    def _committed(row: Row, pt: ProjectTypePolicy, data: AcceptIn, tie: TieIn | None
                   ) -> tuple[float | None, str]:
        """The value inside a range the total is due at, and why.

        The office's ``committed_limit`` wins; else the profile's size band for the
        application's service diameter and the external line (the office's
        ``line_length_m``, else the distance to the tie-in main the network found); else
        None (a range is due at its upper end).
        """
        if data.committed_limit is not None:
            return data.committed_limit, "committed at acceptance"
        line_m = data.line_length_m if data.line_length_m is not None else (
            None if tie is None else tie.distance_m)
        band = pt.size_band(rows.opt_integer(row, "service_dn_mm"), line_m)
        if band is None:
            return None, ""
        return band.limit, f"size band {band.describe()} ({band.clause})"

    def _start_clocks(self, wo_id: str, ptype: str, start: datetime,
                      committed: float | None) -> datetime:
        """The total (acceptance to water on) and the survey clock; returns the total due."""
        total = stages.total_deadline(self.policy, ptype, start, committed, self.calendar)
        survey = stages.stage_deadline(self.policy, ptype, "survey", start, total.due_at,
                                       self.calendar)
        self.workorders.store.add_deadlines(wo_id, [d for d in (total, survey) if d])
        return total.due_at

    def documents(self, principal: Principal, connection_id: str, data: DocumentsIn
                  ) -> Connection:
        """Documents handed in after acceptance; the last one meets the documents clock."""
        row = self._managed_row(principal, connection_id)
        self._at(row, {Stage.ACCEPTED, Stage.SURVEYED, Stage.DESIGNED, Stage.CONSTRUCTED,
                       Stage.METER_FITTED, Stage.WATER_ON}, "complete documents")
        missing = list(json.loads(str(row["missing_documents"])))
        if not missing:
            raise ConnectionStageError("no documents are missing", connection_id=row["id"])
        unknown = sorted(set(data.received) - set(missing))
        if unknown:
            raise ConnectionInputError(f"not missing: {', '.join(unknown)}", field="received",
                                       missing=missing)
        now = self.clock()
        left = sorted(set(missing) - set(data.received))
        wo_id = str(row["work_order_id"])
        with self.db.atomic():
            changes: Row = {"missing_documents": json.dumps(left), "documents": json.dumps(
                sorted(set(json.loads(str(row["documents"]))) | set(data.received)))}
            if not left:
                changes["documents_completed_at"] = to_db(now)
                self.workorders.store.meet_deadlines(wo_id, [stages.rule_key("documents")], now)
                if self.policy.missing_documents_clock == "waits":
                    total_due = self._start_clocks(
                        wo_id, str(row["project_type"]), now,
                        rows.opt_number(row, "committed_limit"))
                    reached = [Stage(n) for n in times_of(row)]
                    latest = max(reached, key=stages.ORDER.index)
                    following = stages.NEXT_CLOCK.get(latest)
                    if following is not None:
                        # the stage the crew is in now gets its clock from now
                        self.workorders.store.add_deadlines(wo_id, [stages.stage_deadline(
                            self.policy, str(row["project_type"]), following, now,
                            total_due, self.calendar)])
                    # field work the crew did while the clocks waited meets them
                    for name, at in times_of(row).items():
                        if Stage(name) is Stage.SURVEYED:
                            self.workorders.store.meet_deadlines(
                                wo_id, [stages.rule_key("survey")], at)
                        if Stage(name) is Stage.WATER_ON:
                            self.workorders.store.meet_deadlines(wo_id, [stages.TOTAL], at)
            self.store.update(str(row["id"]), changes, now)
            self._audit(str(row["id"]), "documents", principal, now,
                        {"received": sorted(data.received), "still_missing": left})
            self.refresh(wo_id)
            self._publish(wo_id)
        return self._out(self._row(str(row["id"])))

    def appointment(self, principal: Principal, connection_id: str, data: AppointmentIn
                    ) -> Connection:
        """Book the joint survey visit with the customer; the customer gets an SMS."""
        row = self._managed_row(principal, connection_id)
        self._at(row, {Stage.ACCEPTED}, "book the survey")
        if data.at.tzinfo is None:
            raise ConnectionInputError("the appointment needs a UTC offset", field="at")
        now = self.clock()
        if data.at < now:
            raise ConnectionInputError("the appointment lies in the past", field="at")
        with self.db.atomic():
            self.store.update(str(row["id"]), {"appointment_at": to_db(data.at)}, now)
            title, body = text(Event.APPOINTMENT, str(row["number"]), hotline=self.hotline,
                               appointment_at=data.at)
            queue_sms(self.outbox, Event.APPOINTMENT, str(row["id"]), str(row["number"]),
                      str(row["phone"]), title, body, now, key=to_db(data.at))
            wo_id = str(row["work_order_id"])
            wo = self.workorders.store.get(wo_id)
            assert wo is not None  # noqa: S101 - the connection's order exists
            self.workorders.store.update_fields(
                wo_id, {**wo.fields, "survey_appointment": to_db(data.at)}, wo.steps, now,
                wo.version)
            self._audit(str(row["id"]), "appointment", principal, now, {"at": to_db(data.at)})
            self._publish(wo_id)
        return self._out(self._row(str(row["id"])))

    def design(self, principal: Principal, connection_id: str, data: DesignIn) -> Connection:
        """The office files the design sketch (the crew may also attach it offline)."""
        row = self._managed_row(principal, connection_id)
        self._at(row, {Stage.ACCEPTED, Stage.SURVEYED}, "file the design")
        if not SHA256.match(data.sha256):
            raise ConnectionInputError("sha256 is 64 lowercase hex digits", field="sha256")
        wo_id = str(row["work_order_id"])
        # a drawing already in the vault (uploaded by a tablet) is linked as an attachment;
        # otherwise the hash is a reference to the drawing office's file
        stored = bool(self.fieldwork.service.blobs.complete([data.sha256]))
        item = Item(kind="document", ref=data.title, sha256=data.sha256) if stored else \
            Item(kind="document", ref=f"{data.title} sha256:{data.sha256}")
        with self.db.atomic():
            self.fieldwork.service.add_evidence(principal, wo_id, "design_sketch", [item], None)
            self.refresh(wo_id)
        return self._out(self._row(str(row["id"])))

    def upload_design(self, principal: Principal, connection_id: str, data: bytes,
                      title: str = "设计草图") -> Connection:
        """The office uploads the design drawing itself (PDF, PNG, JPEG or WebP): stored in
        the attachment vault by hash, counted against the order's attachment quota and
        the size limit like a tablet's upload, then filed as the design sketch."""
        row = self._managed_row(principal, connection_id)
        self._at(row, {Stage.ACCEPTED, Stage.SURVEYED}, "file the design")
        if not data:
            raise ConnectionInputError("the drawing is empty", field="body")
        try:
            sha = self.fieldwork.service.blobs.put(data, str(row["work_order_id"]))
        except ValueError as exc:  # not a PDF or an image
            raise ConnectionInputError(str(exc), field="body") from exc
        return self.design(principal, connection_id, DesignIn(sha256=sha, title=title))

    # -- field work (server.connections.field) ----------------------------------------
    def record_step(self, principal: Principal, connection_id: str, data: StepIn
                    ) -> Connection:
        return self.field.record_step(principal, connection_id, data)

    def attach_photo(self, principal: Principal, connection_id: str, data: PhotoStepIn
                     ) -> Connection:
        return self.field.attach_photo(principal, connection_id, data)

    def fit_meter(self, principal: Principal, connection_id: str, data: MeterIn) -> Connection:
        return self.field.fit_meter(principal, connection_id, data)

    def refresh(self, wo_id: str) -> Stage | None:
        """Move the connection on to the stages its order's steps reached (see field.py)."""
        return self.field.refresh(wo_id)

    def surveyed_point(self, wo_id: str, point: tuple[float, float]) -> TieIn | None:
        return self.field.surveyed_point(wo_id, point)

    # -- after water on ----------------------------------------------------------------
    def return_visit(self, principal: Principal, connection_id: str, data: ReturnVisitIn
                     ) -> Connection:
        """The telephone return visit after the meter is fitted (JN 15)."""
        row = self._managed_row(principal, connection_id)
        self._at(row, {Stage.WATER_ON}, "record the return visit")
        now = self.clock()
        wo_id = str(row["work_order_id"])
        with self.db.atomic():
            self.workorders.store.meet_deadlines(wo_id, [stages.rule_key("return_visit")], now)
            self.store.update(str(row["id"]), {
                "stage": str(Stage.VISITED), "satisfied": int(data.satisfied),
                "stage_times": encode_times({**times_of(row), str(Stage.VISITED): now})}, now)
            self.field.stage_field(wo_id, Stage.VISITED, now)
            title, body = text(Event.RETURN_VISIT, str(row["number"]), hotline=self.hotline)
            queue_sms(self.outbox, Event.RETURN_VISIT, str(row["id"]), str(row["number"]),
                      str(row["phone"]), title, body, now)
            self._audit(str(row["id"]), "return_visit", principal, now,
                        {"satisfied": data.satisfied, "note": data.note})
            self._publish(wo_id)
        return self._out(self._row(str(row["id"])))

    def cancel(self, principal: Principal, connection_id: str, data: CancelIn) -> Connection:
        row = self._managed_row(principal, connection_id)
        self._at(row, {Stage.APPLIED, Stage.ACCEPTED, Stage.SURVEYED, Stage.DESIGNED,
                       Stage.CONSTRUCTED}, "cancel")
        if not data.reason.strip():
            raise ConnectionInputError("cancelling needs a reason", field="reason")
        now = self.clock()
        wo_id = str(row["work_order_id"])
        with self.db.atomic():
            self.workorders.transition(principal, wo_id, TransitionIn(
                to=Status.CANCELLED, reason=data.reason))
            self.store.update(str(row["id"]), {"stage": str(Stage.CANCELLED),
                                               "cancel_reason": data.reason.strip()}, now)
            self._audit(str(row["id"]), "cancel", principal, now, {"reason": data.reason})
        return self._out(self._row(str(row["id"])))

    # -- the customer ------------------------------------------------------------------
    def public_status(self, number: str, phone_last4: str, client: str = "local"
                      ) -> PublicStatus:
        """Status by application number and the phone's last 4 digits, with the same
        protections as the complaint lookup: a wrong pair answers like an unknown number,
        and wrong digits are counted per (number, client address) in the store with an
        exponential back-off (``LockoutBook``): the digits cannot be guessed, nobody
        elsewhere can lock a customer out, and no failure writes a row."""
        key = f"connection {number} {client}"
        wait = self.lockouts.locked_for(key)
        if wait is not None:
            raise ConnectionLookupLockedError(
                "too many failed lookups for this number; try later", retry_after_s=wait)
        row = self.store.row(number) if number.startswith("JS") else None
        if row is None or len(phone_last4) != 4 or row["phone_last4"] != phone_last4:
            self.lockouts.fail(key)
            raise ConnectionNotFoundError("no application with this number and phone digits")
        self.lockouts.succeed(key)
        c = self._out(row)
        total = next((d for d in c.deadlines if d.rule == stages.TOTAL), None)
        return PublicStatus(
            number=c.number, project_type=c.project_type, stage=c.stage,
            applied_at=c.applied_at, accepted_at=c.accepted_at,
            missing_documents=c.missing_documents, documents_due_at=c.documents_due_at,
            appointment_at=c.appointment_at, water_on_at=c.stage_times.get(str(Stage.WATER_ON)),
            due_at=None if total is None else total.due_at)

    # -- statistics --------------------------------------------------------------------
    def stats(self, since: datetime | None, until: datetime | None,
              caller: Caller | None = None) -> ConnectionStats:
        """Stage timeliness; a unit-scoped office ``caller`` (``office_by_unit``) gets its
        unit's connections only (``server.authz.narrowed_unit``)."""
        end = until or self.clock()
        unit = None if caller is None else narrowed_unit(caller, self.profile.office_by_unit)
        return build_stats(self.profile, self.calendar,
                           self.store.stage_timeliness(since, end, unit),
                           self.store.water_on_rows(since, end, unit), since, end)

    # -- the holiday calendar ------------------------------------------------------------
    def retiming(self, clock: OpenClock) -> Timing | None:
        """A connection clock counted again on the calendar as it is now (after a year's
        holiday notice was imported): the same computation a new connection gets, the
        total first, since stage clocks are capped by it. None for other clocks."""
        if clock.entity != WORK_ORDER or not clock.rule.startswith(stages.PREFIX):
            return None
        row = self.store.row_of_work_order(clock.entity_id)
        wo = self.workorders.store.get(clock.entity_id)
        if row is None or wo is None:
            return None
        ptype = str(row["project_type"])
        name = clock.rule.removeprefix(stages.PREFIX)
        total_clock = next((d for d in wo.deadlines if d.rule == stages.TOTAL), None)
        total = None if total_clock is None else stages.total_deadline(
            self.policy, ptype, total_clock.starts_at,
            rows.opt_number(row, "committed_limit"), self.calendar)
        if clock.rule == stages.TOTAL:
            fresh = total
        elif name == "acceptance":
            limit = self.policy.acceptance[str(row["channel"])]
            fresh = stages.deadline(clock.rule, limit, clock.starts_at,
                                    stages.due(clock.starts_at, limit, self.calendar),
                                    self.calendar)
        elif name == "documents":
            if self.policy.documents is None:
                return None
            fresh = stages.deadline(clock.rule, self.policy.documents, clock.starts_at,
                                    stages.due(clock.starts_at, self.policy.documents,
                                               self.calendar), self.calendar)
        else:
            fresh = stages.stage_deadline(
                self.policy, ptype, name, clock.starts_at,
                None if total is None or name == "return_visit" else total.due_at,
                self.calendar)
        if fresh is None:
            return None
        share = self.profile.thresholds.reminder_fraction
        return Timing(due_at=fresh.due_at,
                      remind_at=clock.starts_at + (fresh.due_at - clock.starts_at) * share,
                      provisional=fresh.provisional)

    def remind_at(self, rule: str, wo_id: str, start: datetime, due: datetime
                  ) -> datetime | None:
        """When the deadline scan reminds of a connection clock: after the profile's share
        of the working time between start and due for clocks on working time (a half-day
        job accepted Friday 14:00 is reminded Friday 17:00, not on Sunday); None for
        other clocks and for calendar-time clocks (the scan's calendar share is right)."""
        if not rule.startswith(stages.PREFIX):
            return None
        row = self.store.row_of_work_order(wo_id)
        if row is None:
            return None
        limit = self._limit_of(rule, row)
        if limit is None or not limit.unit.startswith("working"):
            return None
        worked = self.calendar.working_time_between(start, due).total_seconds() / 3600
        share = self.profile.thresholds.reminder_fraction
        return self.calendar.add_working_hours(start, worked * share)

    def _limit_of(self, rule: str, row: Row) -> ConnectionLimit | None:
        ptype = str(row["project_type"])
        name = rule.removeprefix(stages.PREFIX)
        if rule == stages.TOTAL:
            return self.policy.types[ptype].total
        if name == "acceptance":
            return self.policy.acceptance.get(str(row["channel"]))
        if name == "documents":
            return self.policy.documents
        return self.policy.stage_limit(ptype, name) or self.policy.types[ptype].total

    # -- helpers -----------------------------------------------------------------------
    def _at(self, row: Row, allowed: set[Stage], action: str) -> None:
        stage = Stage(str(row["stage"]))
        if stage not in allowed:
            raise ConnectionStageError(
                f"cannot {action} a connection at stage {stage}", connection_id=row["id"],
                stage=str(stage), allowed=sorted(str(s) for s in allowed))

    def _publish(self, wo_id: str) -> None:
        wo = self.workorders.store.get(wo_id)
        if wo is not None:
            touch(self.db, WORK_ORDER, wo_id)

    def _audit(self, connection_id: str, action: str, principal: Principal, now: datetime,
               detail: dict[str, object]) -> None:
        self.audit.record(ENTITY, connection_id, action, actor_user_id=principal.user_id,
                          device_id=principal.device_id, server_time=now, device_time=None,
                          detail=detail)


def _actor(principal: Principal) -> Actor:
    return Actor(user_id=principal.user_id, device_id=principal.device_id,
                 role=str(principal.role))
