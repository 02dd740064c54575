"""Field-work use cases: evidence on steps, photo checks, completion, removal, line marking.

Evidence is append-only: each use case adds ``"<kind>:<ref>"`` entries to one step of the
order (``server.fieldwork.completion``) in one transaction with its audit entry and its
change-log entry, so two crew members adding evidence to one order never lose each
other's entries (a version conflict is retried on the fresh order: appends commute).
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import datetime

import msgspec
from sqlite_utils import Database

from core.time import TimeChecked
from core.uow import touch
from server.accounts.model import Principal
from server.audit import AuditStore
from server.clock import Clock
from server.customers.store import CustomerStore
from server.fieldwork.blobs import Blobs
from server.fieldwork.completion import (
    ALSO_COUNTS_AS,
    MissingStep,
    missing_evidence,
    step_satisfied,
)
from server.fieldwork.errors import (
    BadPhotoError,
    EvidenceKindError,
    EvidenceMissingError,
    RemovalRefusedError,
    UnknownStepError,
    WorkOrderClosedError,
    WrongWorkOrderTypeError,
)
from server.fieldwork.linemarking import MarkedLine, MarkedLineIn, build_line
from server.fieldwork.photos import (
    DeviceReport,
    PhotoCheck,
    PhotoLimits,
    check_photo,
    read_photo_meta,
    unreadable_photo,
)
from server.fieldwork.store import FieldworkStore
from server.workorders.evidence import Evidence, EvidenceStore
from server.workorders.fieldtime import FieldTime
from server.workorders.model import (
    Point,
    Status,
    TransitionIn,
    WorkOrder,
    WorkOrderType,
)
from server.workorders.service import ENTITY, WorkOrderService

CLOSED_FOR_EVIDENCE = frozenset({Status.COMPLETED, Status.VERIFIED, Status.CANCELLED})
MAX_REF_LEN = 500
FieldUpdate = dict[str, str | int | float | bool | None]


class Item(msgspec.Struct, frozen=True, kw_only=True):
    """One piece of evidence to file under a step (becomes one ``evidence`` row)."""

    kind: str
    ref: str = ""
    sha256: str | None = None
    #: the device's evidence id; derived from the content when absent (idempotent)
    id: str | None = None


class EvidenceIn(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """One piece of evidence for a step: kind and reference ("yes", a short text, an id)."""

    #: what the evidence is (`check`, `text`, `document`...), one the step requires
    kind: str
    #: the check's answer, the short text or the document's reference
    ref: str = "yes"
    #: the device's own id for it, so a retry records it once
    evidence_id: str | None = None


class StepEvidenceIn(msgspec.Struct, TimeChecked, frozen=True, kw_only=True,
               forbid_unknown_fields=True):
    """``complete_step``: evidence for one step (a check, a note, a document reference)."""

    #: the work order
    work_order_id: str
    #: the step the evidence is for
    step_key: str
    #: the pieces of evidence
    evidence: list[EvidenceIn]
    #: when it was done on the device (RFC 3339); defaults to the server's time
    device_time: datetime | None = None


class PhotoIn(msgspec.Struct, TimeChecked, frozen=True, kw_only=True,
               forbid_unknown_fields=True):
    """``attach_photo``: a photo (uploaded by hash) for a step, with the device's report."""

    #: the work order
    work_order_id: str
    #: the step the photo is evidence for
    step_key: str
    #: SHA-256 of the photo, uploaded as an attachment
    sha256: str
    #: when it was taken on the device (RFC 3339); defaults to the server's time
    device_time: datetime | None = None
    #: longitude where it was taken (WGS84 degrees), as the device reports it
    lon: float | None = None
    #: latitude where it was taken (WGS84 degrees), as the device reports it
    lat: float | None = None
    #: the device's own id for it, so a retry records it once
    evidence_id: str | None = None


class PhotoStatus(msgspec.Struct, frozen=True, kw_only=True):
    #: the photo's SHA-256
    sha256: str
    #: the step it is evidence for
    step_key: str
    #: what its EXIF data lacks or contradicts (`missing_time`, `far_from_site`, `too_old`...);
    #: dispatch reviews them
    flags: list[str]
    #: False while the photo's bytes have not arrived (flags then come on arrival)
    checked: bool


class Completeness(msgspec.Struct, frozen=True, kw_only=True):
    #: the work order
    work_order_id: str
    #: True when every required step has its evidence
    complete: bool
    #: the required steps still lacking evidence
    missing: list[MissingStep]
    #: the order's photos and what was found in them
    photos: list[PhotoStatus]


class RemovalDecision(msgspec.Struct, frozen=True, kw_only=True):
    work_order_id: str
    allowed: bool
    #: "property_dispute", "court_case"
    reasons: list[str] = msgspec.field(default_factory=list)
    detail: str = ""
    status: Status


class _RetryError(Exception):
    """The order changed between read and write: roll back and redo the append."""


def site_of(wo: WorkOrder) -> list[tuple[float, float]]:
    loc = wo.location
    return [loc.coordinates] if isinstance(loc, Point) else list(loc.coordinates)


class FieldworkService:
    def __init__(self, db: Database, clock: Clock, workorders: WorkOrderService, blobs: Blobs,
                 photo_limits: PhotoLimits | None = None) -> None:
        self.db = db
        self.clock = clock
        self.workorders = workorders
        self.blobs = blobs
        self.store = FieldworkStore(db)
        self.evidence = EvidenceStore(db)
        self.customers = CustomerStore(db)
        self.audit = AuditStore(db)
        self.photo_limits = photo_limits or PhotoLimits()

    # -- evidence on steps -------------------------------------------------------------
    def evidence_of(self, wo_id: str) -> list[Evidence]:
        """The order's evidence rows, each marked pending while its attachment uploads."""
        hashes = self.evidence.hashes_of_orders([wo_id])
        complete = self.blobs.complete(hashes)
        return self.evidence.for_orders([wo_id], complete=complete).get(wo_id, [])

    def _judged(self, principal: Principal, wo: WorkOrder, device_time: datetime | None,
                now: datetime, sent_at: datetime | None) -> FieldTime:
        """When a step was completed over HTTP: the device's time corrected by the skew of
        ``sent_at`` (the request's ``Date``) or the one sync last measured; an untrusted
        one is judged on server time and flagged (the work orders' ``FieldTimeJudge``, as
        for sync)."""
        judge = self.workorders.field_times
        return judge.judge(principal, wo, device_time,
                           skew_s=judge.skew(principal, sent_at, now), now=now,
                           kind="step_completion")

    def add_evidence(self, principal: Principal, wo_id: str, step_key: str,
                     items: list[Item], device_time: datetime | None,
                     fields: FieldUpdate | None = None,
                     after: Callable[[WorkOrder], None] | None = None,
                     sent_at: datetime | None = None) -> WorkOrder:
        """File ``items`` under a step (and merge ``fields``) in one transaction.

        ``after`` runs inside the same transaction with the updated order, for use cases
        that write their own rows together with the evidence. ``sent_at``: the HTTP
        request's ``Date``, whose skew corrects ``device_time`` when the step completes.
        """
        for _attempt in range(5):
            try:
                return self._add_once(principal, wo_id, step_key, items, device_time,
                                      fields, after, sent_at)
            except _RetryError:
                continue
        raise WorkOrderClosedError("the work order keeps changing; try again",
                                   work_order_id=wo_id)

    def _add_once(self, principal: Principal, wo_id: str, step_key: str, items: list[Item],
                  device_time: datetime | None, fields: FieldUpdate | None,
                  after: Callable[[WorkOrder], None] | None,
                  sent_at: datetime | None) -> WorkOrder:
        wo = self.workorders.get(principal, wo_id)
        self._check_open(wo)
        steps = [msgspec.structs.replace(s, evidence=list(s.evidence)) for s in wo.steps]
        step = next((s for s in steps if s.key == step_key), None)
        if step is None:
            raise UnknownStepError(f"a {wo.type} has no step {step_key!r}",
                                   work_order_id=wo_id, step_key=step_key,
                                   steps=[s.key for s in steps])
        for item in items:
            counts_as = ALSO_COUNTS_AS.get(item.kind)
            if item.kind not in step.requires and counts_as not in step.requires:
                raise EvidenceKindError(
                    f"step {step_key} takes {', '.join(step.requires)}, not {item.kind}",
                    work_order_id=wo_id, step_key=step_key, kind=item.kind)
        now = self.clock()
        with self.db.atomic():
            for item in items:
                ev_id = item.id or str(uuid.uuid5(
                    uuid.NAMESPACE_URL, f"waterops:{wo_id}:{step_key}:{item.kind}:{item.ref}:"
                                        f"{item.sha256 or ''}"))
                ev = Evidence(id=ev_id, work_order_id=wo_id, kind=item.kind, step_key=step_key,
                              payload={"ref": item.ref[:MAX_REF_LEN]} if item.ref else {},
                              attachment_sha256=item.sha256, device_id=principal.device_id,
                              user_id=principal.user_id, crew_id=principal.crew_id,
                              device_time=device_time, server_time=now)
                if self.evidence.add(ev) and ev_id not in step.evidence:
                    step.evidence.append(ev_id)
            if step.done_at is None and step_satisfied(step, self.evidence_of(wo_id)):
                # judged on the device's time corrected by its measured skew (fieldtime)
                judged = self._judged(principal, wo, device_time, now, sent_at)
                step.done_at, step.done_server_at = judged.at, judged.server_at
                step.done_source = str(judged.source)
            merged = {**wo.fields, **(fields or {})}
            if not self.workorders.store.update_fields(wo_id, merged, steps, now, wo.version):
                raise _RetryError
            self.audit.record(ENTITY, wo_id, f"evidence:{step_key}",
                              actor_user_id=principal.user_id, device_id=principal.device_id,
                              server_time=now, device_time=device_time,
                              detail={"items": msgspec.to_builtins(items),
                                      "fields": fields or {}})
            if wo.crew_id:
                touch(self.db, ENTITY, wo_id)
            updated = self.workorders.get_unchecked(wo_id)
            if after is not None:
                after(updated)
        return updated

    def set_fields(self, principal: Principal, wo_id: str, action: str, fields: FieldUpdate,
                   after: Callable[[WorkOrder], None] | None = None) -> WorkOrder:
        """An office action on an order's fields, audited as ``action``; no step is ticked.

        Steps record what the crew did on site; dispatch's own acts (attaching a plan)
        never count as the crew's evidence.
        """
        for _attempt in range(5):
            wo = self.workorders.get(principal, wo_id)
            self._check_open(wo)
            now = self.clock()
            with self.db.atomic():
                if not self.workorders.store.update_fields(wo_id, {**wo.fields, **fields},
                                                           wo.steps, now, wo.version):
                    continue
                self.audit.record(ENTITY, wo_id, action, actor_user_id=principal.user_id,
                                  device_id=principal.device_id, server_time=now,
                                  device_time=None, detail={"fields": fields})
                touch(self.db, ENTITY, wo_id)
                updated = self.workorders.get_unchecked(wo_id)
                if after is not None:
                    after(updated)
            return updated
        raise WorkOrderClosedError("the work order keeps changing; try again",
                                   work_order_id=wo_id)

    def record_step(self, principal: Principal, data: StepEvidenceIn,
                    sent_at: datetime | None = None) -> WorkOrder:
        if data.step_key == "dispute_check":
            # only the server's look at the account may tick this step
            return self.start_removal(principal, data.work_order_id, data.device_time)
        if any(e.kind == "photo" for e in data.evidence):
            raise EvidenceKindError("photos are attached with attach_photo",
                                    work_order_id=data.work_order_id, step_key=data.step_key,
                                    kind="photo")
        items = [Item(kind=e.kind, ref=e.ref.strip() or "yes", id=e.evidence_id)
                 for e in data.evidence]
        return self.add_evidence(principal, data.work_order_id, data.step_key, items,
                                 data.device_time, sent_at=sent_at)

    def _check_open(self, wo: WorkOrder) -> None:
        if wo.status in CLOSED_FOR_EVIDENCE:
            raise WorkOrderClosedError(f"a {wo.status} work order takes no more evidence",
                                       work_order_id=wo.id, status=str(wo.status))

    def _present(self, sha256: str) -> bool:
        return bool(self.blobs.complete([sha256]))

    # -- photos ------------------------------------------------------------------------
    def attach_photo(self, principal: Principal, data: PhotoIn,
                     sent_at: datetime | None = None) -> PhotoStatus:
        """Record a photo on a step; check its EXIF now if the bytes are here, else later."""
        now = self.clock()
        pos = None if data.lon is None or data.lat is None else (data.lon, data.lat)
        wo = self.workorders.get(principal, data.work_order_id)
        if (arrived := self.blobs.read(data.sha256)) is not None:
            read_photo_meta(arrived)  # bytes already here that are no image: 400, nothing kept

        def remember(_updated: WorkOrder) -> None:
            self.store.put_pending_photo(wo.id, data.step_key, data.sha256, data.device_time,
                                         pos, now)

        self.add_evidence(principal, wo.id, data.step_key,
                          [Item(kind="photo", sha256=data.sha256, id=data.evidence_id)],
                          data.device_time, after=remember, sent_at=sent_at)
        self.recheck_photos(wo)
        flags = {(s, k): (f, c) for s, k, f, c in self.store.photo_flags(wo.id)}
        got, checked = flags.get((data.sha256, data.step_key), ([], False))
        return PhotoStatus(sha256=data.sha256, step_key=data.step_key, flags=got,
                           checked=checked)

    def recheck_photos(self, wo: WorkOrder) -> list[PhotoCheck]:
        """Check the photos of ``wo`` whose bytes arrived since they were referenced."""
        done: list[PhotoCheck] = []
        for sha, step_key, device_time, pos, received in self.store.unchecked_photos(wo.id):
            data = self.blobs.read(sha)
            if data is None:
                continue
            report = DeviceReport(device_time=device_time, lon=pos[0] if pos else None,
                                  lat=pos[1] if pos else None)
            try:
                meta = read_photo_meta(data)
            except BadPhotoError:
                check = unreadable_photo(sha)
            else:
                check = check_photo(sha, meta, site_of(wo), report, received,
                                    self.photo_limits)
            with self.db.atomic():
                self.store.put_photo_check(wo.id, step_key, check, device_time, pos, received)
            done.append(check)
        return done

    # -- completion --------------------------------------------------------------------
    def completeness(self, principal: Principal, wo_id: str) -> Completeness:
        wo = self.workorders.get(principal, wo_id)
        missing = self._missing(wo)
        photos = [PhotoStatus(sha256=s, step_key=k, flags=f, checked=c)
                  for s, k, f, c in self.store.photo_flags(wo_id)]
        return Completeness(work_order_id=wo_id, complete=not missing, missing=missing,
                            photos=photos)

    def check_completion(self, wo: WorkOrder, target: Status = Status.COMPLETED) -> None:
        """The hook ``WorkOrderService.transition`` calls before ``completed`` and ``verified``.

        Completing needs every required step's evidence *recorded* (a crew back from a
        basement completes before its photos finished uploading: status first, photos
        after); verifying also needs every referenced photo to have *arrived*. 409 with
        the list of what is missing.
        """
        missing = self._missing(wo)
        if target is Status.COMPLETED:
            missing = [m for m in missing if m.missing]
        if missing:
            raise EvidenceMissingError(
                f"{len(missing)} required step(s) lack evidence: "
                + ", ".join(m.key for m in missing),
                work_order_id=wo.id, target=str(target), missing=msgspec.to_builtins(missing))

    def _missing(self, wo: WorkOrder) -> list[MissingStep]:
        """Steps lacking evidence, plus photos kept outside steps (e.g. of an estimated
        reading) whose bytes have not arrived."""
        self.recheck_photos(wo)
        missing = missing_evidence(wo, self.evidence_of(wo.id))
        listed = {m.key for m in missing}
        titles = {s.key: s.title for s in wo.steps}
        extra: dict[str, list[str]] = {}
        for sha, step_key, _flags, _checked in self.store.photo_flags(wo.id):
            if step_key not in listed and not self._present(sha):
                extra.setdefault(step_key, []).append(sha)
        missing += [MissingStep(key=k, title=titles.get(k, k), missing=[], pending=v)
                    for k, v in extra.items()]
        return missing

    # -- meter removal -----------------------------------------------------------------
    def check_removal(self, principal: Principal, wo_id: str,
                      device_time: datetime | None = None) -> RemovalDecision:
        """Look at the account before removal (JN 9.5): with a property dispute or court
        case the removal is refused and the order is sent back to the counter (returned,
        with the reason); otherwise the ``dispute_check`` step is credited."""
        wo = self.workorders.get(principal, wo_id)
        if wo.type is not WorkOrderType.METER_REMOVAL:
            raise WrongWorkOrderTypeError("only a meter removal has a dispute check",
                                          work_order_id=wo_id, type=str(wo.type))
        customer = self.customers.get(wo.customer_id) if wo.customer_id else None
        reasons = []
        if customer is not None and customer.property_dispute:
            reasons.append("property_dispute")
        if customer is not None and customer.court_case:
            reasons.append("court_case")
        if not reasons:
            wo = self.add_evidence(principal, wo_id, "dispute_check",
                                   [Item(kind="check", ref="no-dispute-no-court-case")],
                                   device_time)
            return RemovalDecision(work_order_id=wo_id, allowed=True, status=wo.status)
        text = ("meter removal refused: the account has a "
                + " and a ".join(r.replace("_", " ") for r in reasons)
                + "; sent back to the counter")
        if wo.status not in (Status.RETURNED, *CLOSED_FOR_EVIDENCE):
            wo = self.workorders.transition(principal, wo_id, TransitionIn(
                to=Status.RETURNED, reason=text, device_time=device_time))
        return RemovalDecision(work_order_id=wo_id, allowed=False, reasons=reasons,
                               detail=text, status=wo.status)

    def start_removal(self, principal: Principal, wo_id: str,
                      device_time: datetime | None = None) -> WorkOrder:
        """``check_removal`` that raises ``RemovalRefusedError`` (after the send-back)."""
        decision = self.check_removal(principal, wo_id, device_time)
        if not decision.allowed:
            raise RemovalRefusedError(decision.detail, work_order_id=wo_id,
                                      reasons=decision.reasons,
                                      status=str(decision.status))
        return self.workorders.get(principal, wo_id)

    # -- line marking ------------------------------------------------------------------
    def record_marked_line(self, principal: Principal, data: MarkedLineIn) -> MarkedLine:
        wo = self.workorders.get(principal, data.work_order_id)
        if wo.type is not WorkOrderType.LINE_MARKING:
            raise WrongWorkOrderTypeError("only a line marking takes a marked line",
                                          work_order_id=wo.id, type=str(wo.type))
        line = build_line(data.fixes, site_of(wo), self.clock(), wo.id)

        def keep(_updated: WorkOrder) -> None:
            self.store.put_line(line, data.device_time)

        self.add_evidence(principal, wo.id, "marked_line",
                          [Item(kind="geometry", ref=f"marked-line:{len(line.line.coordinates)}")],
                          data.device_time,
                          fields={"marked_length_m": line.length_m,
                                  "marked_line_flags": ",".join(line.flags)},
                          after=keep)
        for sha in data.photos:
            self.attach_photo(principal, PhotoIn(work_order_id=wo.id, step_key="marks_photos",
                                                 sha256=sha, device_time=data.device_time))
        return line

    def marked_line(self, principal: Principal, wo_id: str) -> MarkedLine | None:
        self.workorders.get(principal, wo_id)
        return self.store.line(wo_id)
