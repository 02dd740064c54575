"""Push-intent handlers of the field flows: the richer versions of the generic evidence
intents, and the two intents only field work has.

* ``sign_notice`` with a ``document`` and ``strokes``: the notice is checked, the strokes
  rendered and the document sealed onto the archive chain (``NoticeArchive``). Without a
  document it stays the generic evidence record.
* ``record_reading`` with a ``customer_id`` on a reading route: anomaly flags, estimates
  only with reason and photo (``ReadingRounds``).
* ``record_valve_operation`` on a burst with an isolation plan: checked against the plan,
  a stuck valve switches to plan B (``BurstSite``).
* ``attach_evidence`` of a photo for a step: the photo's EXIF is checked when its bytes
  arrive (flags, never rejection).
* ``complete_step``: a check, note or document reference; ``arrival`` of a burst moves the
  order on site; ``dispute_check`` of a removal looks at the account and, on a dispute or
  court case, sends the order back and reports the mutation rejected ``removal-refused``.
* ``record_marked_line``: the GNSS fixes of a line marking become its LineString.

A refusal raises a domain error with a ``code``: the push engine rolls the mutation's
effects back and keeps what the crew recorded for dispatch review.
"""

from __future__ import annotations

from typing import Final

import msgspec

from server.fieldwork import Fieldwork
from server.fieldwork.burst import ValveAction, ValveOperationIn
from server.fieldwork.burst_site import ArrivalIn
from server.fieldwork.errors import BadSignatureError
from server.fieldwork.linemarking import GnssFix, MarkedLineIn
from server.fieldwork.notices import MeterRemovalSlip, Notice, SignNoticeIn
from server.fieldwork.readings import BelowReason, ReadingIn
from server.fieldwork.sealing import canonical, sha256_hex
from server.fieldwork.service import EvidenceIn, PhotoIn, StepEvidenceIn
from server.fieldwork.signatures import SignatureStrokes
from server.intents.context import IntentContext
from server.intents.errors import InvalidIntentError
from server.intents.records import record_evidence
from server.workorders.model import WorkOrderType
from sync.protocol import (
    AttachEvidence,
    CompleteStep,
    Mutation,
    Outcome,
    RecordMarkedLine,
    RecordReading,
    RecordValveOperation,
    SignNotice,
)
from sync.push import Applied, Handler


def _fw(ctx: IntentContext) -> Fieldwork:
    if ctx.fieldwork is None:
        raise InvalidIntentError("field work is not configured on this server")
    return ctx.fieldwork


def sign_notice(ctx: IntentContext, m: Mutation) -> Applied:
    intent = m.intent
    if not isinstance(intent, SignNotice):
        raise InvalidIntentError("handler registered for another intent kind")
    if not intent.document:
        return record_evidence(ctx, m)
    fw = _fw(ctx)
    try:
        notice = msgspec.convert({"type": intent.notice, **intent.document}, Notice)
    except msgspec.ValidationError as exc:
        raise InvalidIntentError(f"the notice does not match {intent.notice}: {exc}",
                                 notice=intent.notice) from exc
    width, height = intent.canvas or (0, 0)
    strokes = SignatureStrokes(width=width, height=height, strokes=intent.strokes,
                               signer_name=intent.signer_name)
    if sha256_hex(canonical(strokes)) != intent.signature_sha256:
        raise BadSignatureError("signature_sha256 is not the SHA-256 of the strokes' "
                                "canonical JSON", work_order_id=intent.work_order_id)
    if isinstance(notice, MeterRemovalSlip):
        refused = _removal_refused(ctx, fw, m)
        if refused is not None:
            return refused
    sealed = fw.archive.sign_notice(ctx.principal, SignNoticeIn(
        work_order_id=intent.work_order_id, notice=notice, signature=strokes,
        photos=intent.photos, document_id=intent.evidence_id), m.device_time)
    return Applied(detail=f"sealed {sealed.id} hash {sealed.content_hash}")


def _removal_refused(ctx: IntentContext, fw: Fieldwork, m: Mutation) -> Applied | None:
    decision = fw.service.check_removal(ctx.principal, m.intent.work_order_id, m.device_time)
    if decision.allowed:
        return None
    return Applied(outcome=Outcome.REJECTED, reason_code="removal-refused",
                   detail=decision.detail)


def record_reading(ctx: IntentContext, m: Mutation) -> Applied:
    intent = m.intent
    if not isinstance(intent, RecordReading):
        raise InvalidIntentError("handler registered for another intent kind")
    if intent.customer_id is None:
        return record_evidence(ctx, m)
    try:
        below = None if intent.below_reason is None else BelowReason(intent.below_reason)
    except ValueError as exc:
        raise InvalidIntentError(f"below_reason is one of {[r.value for r in BelowReason]}",
                                 below_reason=intent.below_reason) from exc
    # judged on the device's time corrected by its measured skew, as arrivals and steps
    judged = ctx.field_time(m, ctx.workorders.get(ctx.principal, intent.work_order_id))
    reading = _fw(ctx).rounds.record_reading(ctx.principal, ReadingIn(
        work_order_id=intent.work_order_id, customer_id=intent.customer_id,
        meter_no=intent.meter_no or "", value=intent.value, estimated=intent.estimated,
        reason=intent.reason, photo_sha256=intent.photo_sha256, device_time=m.device_time,
        reading_id=intent.evidence_id, below_reason=below), judged)
    return Applied(detail="flags: " + ",".join(reading.flags) if reading.flags else "")


def record_valve_operation(ctx: IntentContext, m: Mutation) -> Applied:
    intent = m.intent
    if not isinstance(intent, RecordValveOperation):
        raise InvalidIntentError("handler registered for another intent kind")
    fw = _fw(ctx)
    wo = ctx.workorders.get(ctx.principal, intent.work_order_id)
    if wo.type is not WorkOrderType.BURST_REPAIR or fw.service.store.plan(wo.id) is None:
        return record_evidence(ctx, m)
    try:
        action = ValveAction(intent.action)
    except ValueError as exc:
        raise InvalidIntentError(f"action is one of {[a.value for a in ValveAction]}",
                                 action=intent.action) from exc
    result = fw.bursts.record_valve_operation(ctx.principal, ValveOperationIn(
        work_order_id=wo.id, valve_id=intent.valve_id, action=action, turns=intent.turns,
        device_time=m.device_time, operation_id=intent.evidence_id))
    if result.plan_changed:
        return Applied(detail=f"plan B: close {', '.join(result.status.working.valves_to_close)}"
                              f"; {len(result.newly_affected)} more customers affected")
    return Applied()


def attach_evidence(ctx: IntentContext, m: Mutation) -> Applied:
    intent = m.intent
    if not isinstance(intent, AttachEvidence):
        raise InvalidIntentError("handler registered for another intent kind")
    if intent.evidence_kind != "photo" or intent.step_key is None:
        return record_evidence(ctx, m)
    status = _fw(ctx).service.attach_photo(ctx.principal, PhotoIn(
        work_order_id=intent.work_order_id, step_key=intent.step_key, sha256=intent.sha256,
        device_time=m.device_time, lon=intent.lon, lat=intent.lat,
        evidence_id=intent.evidence_id))
    return Applied(detail="flags: " + ",".join(status.flags) if status.flags else "")


def complete_step(ctx: IntentContext, m: Mutation) -> Applied:
    intent = m.intent
    if not isinstance(intent, CompleteStep):
        raise InvalidIntentError("handler registered for another intent kind")
    fw = _fw(ctx)
    wo = ctx.workorders.get(ctx.principal, intent.work_order_id)
    if wo.type is WorkOrderType.METER_REMOVAL and intent.step_key == "dispute_check":
        return _removal_refused(ctx, fw, m) or Applied()
    if wo.type is WorkOrderType.BURST_REPAIR and intent.step_key == "arrival":
        fw.bursts.record_arrival(ctx.principal, ArrivalIn(work_order_id=wo.id,
                                                          device_time=m.device_time))
        return Applied()
    fw.service.record_step(ctx.principal, StepEvidenceIn(
        work_order_id=wo.id, step_key=intent.step_key, device_time=m.device_time,
        evidence=[EvidenceIn(kind=intent.evidence_kind, ref=intent.value,
                             evidence_id=intent.evidence_id)]))
    return Applied()


def record_marked_line(ctx: IntentContext, m: Mutation) -> Applied:
    intent = m.intent
    if not isinstance(intent, RecordMarkedLine):
        raise InvalidIntentError("handler registered for another intent kind")
    line = _fw(ctx).service.record_marked_line(ctx.principal, MarkedLineIn(
        work_order_id=intent.work_order_id, device_time=m.device_time, photos=intent.photos,
        fixes=[GnssFix(lon=lon, lat=lat, quality=q, hdop=h) for lon, lat, q, h in intent.fixes]))
    return Applied(detail=f"{line.length_m} m marked"
                          + (f"; flags: {','.join(line.flags)}" if line.flags else ""))


HANDLERS: Final[dict[str, Handler[IntentContext]]] = {
    "sign_notice": sign_notice,
    "record_reading": record_reading,
    "record_valve_operation": record_valve_operation,
    "attach_evidence": attach_evidence,
    "complete_step": complete_step,
    "record_marked_line": record_marked_line,
}
