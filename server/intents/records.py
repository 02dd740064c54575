"""Intents that append evidence: photos and documents, notes, readings, valve operations,
signed notices.

Each becomes one ``evidence`` row keyed by the device's evidence id (a resend is stored
once), may complete an evidence step of the order, and republishes the order so the crew's
other tablets see it. A record for an order the crew may no longer touch is rejected by
``WorkOrderService.get`` or the closed check and then kept by ``keep_rejected`` for dispatch.

``record_reading``, ``record_valve_operation`` and ``sign_notice`` are stored generically
here; ``server/intents/fieldwork.py`` may register richer handlers for the same kinds.
"""

from __future__ import annotations

from typing import Final

import msgspec

from server.intents.context import IntentContext
from server.intents.errors import InvalidIntentError, UnknownStepError, WorkOrderClosedError
from server.workorders.evidence import Evidence
from server.workorders.model import CLOSED_STATUSES, Step, WorkOrder
from server.workorders.service import ENTITY
from sync.attachments import SHA256_RE
from sync.protocol import (
    AddNote,
    AttachEvidence,
    Intent,
    Mutation,
    RecordReading,
    RecordValveOperation,
    SignNotice,
)
from sync.push import Applied, Handler

EVIDENCE_INTENTS: Final = (AttachEvidence, AddNote, RecordReading, RecordValveOperation,
                           SignNotice)
_ATTACH_KINDS: Final = frozenset({"photo", "signature", "document"})


def evidence_of(intent: Intent, m: Mutation, ctx: IntentContext,
                review_id: int | None = None) -> Evidence | None:
    """The evidence row an intent carries (None for intents that carry none)."""
    if not isinstance(intent, EVIDENCE_INTENTS):
        return None
    sha: str | None
    if isinstance(intent, AttachEvidence):
        kind, sha = intent.evidence_kind, intent.sha256
    elif isinstance(intent, AddNote):
        kind, sha = "note", None
    elif isinstance(intent, RecordReading):
        kind, sha = "reading", intent.photo_sha256
    elif isinstance(intent, RecordValveOperation):
        kind, sha = "valve_operation", None
    else:
        kind, sha = "signature", intent.signature_sha256
    payload = msgspec.to_builtins(intent)
    for key in ("work_order_id", "evidence_id", "step_key", "kind"):
        payload.pop(key, None)
    p = ctx.principal
    return Evidence(id=intent.evidence_id, work_order_id=intent.work_order_id, kind=kind,
                    step_key=intent.step_key, payload=payload, attachment_sha256=sha,
                    device_id=p.device_id, user_id=p.user_id, crew_id=p.crew_id,
                    mutation_id=m.id, device_time=m.device_time, server_time=ctx.now,
                    review_id=review_id)


def _check(intent: Intent) -> None:
    if isinstance(intent, AttachEvidence):
        if intent.evidence_kind not in _ATTACH_KINDS:
            raise InvalidIntentError(f"evidence_kind must be one of {sorted(_ATTACH_KINDS)}",
                                     evidence_kind=intent.evidence_kind)
        if intent.size <= 0:
            raise InvalidIntentError("size must be positive", size=intent.size)
    shas = [getattr(intent, name, None) for name in ("sha256", "photo_sha256",
                                                     "signature_sha256")]
    for sha in shas:
        if sha is not None and not SHA256_RE.match(sha):
            raise InvalidIntentError("attachment hashes are 64 lowercase hex digits", sha=sha)


def _complete_step(ctx: IntentContext, wo: WorkOrder, ev: Evidence) -> list[Step] | None:
    """The order's steps with this evidence filed under its step, or None if no step."""
    if ev.step_key is None:
        return None
    steps = [msgspec.structs.replace(s) for s in wo.steps]
    step = next((s for s in steps if s.key == ev.step_key), None)
    if step is None:
        raise UnknownStepError(f"{wo.type} has no step {ev.step_key!r}", step_key=ev.step_key,
                               steps=[s.key for s in steps])
    step.evidence = [*step.evidence, ev.id]
    kinds = {e.kind for e in ctx.evidence.for_orders([wo.id]).get(wo.id, [])
             if e.step_key == step.key}
    kinds |= {"check"} if kinds & {"valve_operation"} else set()
    if step.done_at is None and set(step.requires) <= kinds:
        # judged on the device's time corrected by its measured skew (fieldtime)
        judged = ctx.judge(ev.device_time, wo, ev.mutation_id, f"step:{step.key}")
        step.done_at, step.done_server_at = judged.at, judged.server_at
        step.done_source = str(judged.source)
    return steps


def record_evidence(ctx: IntentContext, m: Mutation) -> Applied:
    """The handler of every evidence intent."""
    _check(m.intent)
    wo = ctx.workorders.get(ctx.principal, m.intent.work_order_id)
    if wo.status in CLOSED_STATUSES:
        raise WorkOrderClosedError(f"the work order is {wo.status}", work_order_id=wo.id,
                                   status=str(wo.status))
    ev = evidence_of(m.intent, m, ctx)
    if ev is None:  # the intents routed here always carry a record
        raise TypeError(f"{type(m.intent).__name__} carries no evidence record")
    if not ctx.evidence.add(ev):
        return Applied(detail="this evidence id was already recorded")
    steps = _complete_step(ctx, wo, ev)
    if steps is not None and not ctx.workorders.store.update_fields(
            wo.id, wo.fields, steps, ctx.now, wo.version):
        raise InvalidIntentError("work order changed meanwhile", work_order_id=wo.id)
    p = ctx.principal
    ctx.audit.record(ENTITY, wo.id, f"evidence:{ev.kind}", actor_user_id=p.user_id,
                     device_id=p.device_id, server_time=ctx.now, device_time=m.device_time,
                     detail={"evidence_id": ev.id, "step_key": ev.step_key,
                             "attachment_sha256": ev.attachment_sha256})
    ctx.publish(wo)
    return Applied()


HANDLERS: Final[dict[str, Handler[IntentContext]]] = {
    "attach_evidence": record_evidence,
    "add_note": record_evidence,
    "record_reading": record_evidence,
    "record_valve_operation": record_evidence,
    "sign_notice": record_evidence,
}
