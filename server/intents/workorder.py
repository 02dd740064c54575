"""Intents that change the work order itself: its status and its free fields.

``advance_status`` goes through ``WorkOrderService.transition`` (state machine, scope,
deadlines, audit with device time). Reaching the status the order already has is a
``merged`` no-op, because two crew members on one order often both tap "on site".

``update_fields`` merges field by field against the version the edit was based on:
fields nobody touched since then are simply set (``applied``, or ``merged`` when other
fields changed meanwhile); a field set by someone else since the base version is a
``conflict``: the later server-applied edit (this one) wins and the overwritten value is
kept in the audit history.
"""

from __future__ import annotations

from typing import Final

import msgspec

from server.errors import VersionConflictError
from server.intents.context import IntentContext
from server.intents.errors import InvalidIntentError, WorkOrderClosedError
from server.workorders.model import CLOSED_STATUSES, Status, TransitionIn
from server.workorders.service import ENTITY
from sync.protocol import AdvanceStatus, Mutation, Outcome, UpdateFields
from sync.push import Applied, Handler

MAX_FIELDS: Final = 50


def advance_status(ctx: IntentContext, m: Mutation) -> Applied:
    intent = m.intent
    if not isinstance(intent, AdvanceStatus):  # the handler table routes by tag
        raise TypeError(f"{type(intent).__name__} routed to advance_status")
    try:
        target = Status(intent.to)
    except ValueError as exc:
        raise InvalidIntentError(f"unknown status {intent.to!r}", to=intent.to) from exc
    wo = ctx.workorders.get(ctx.principal, intent.work_order_id)
    if wo.status is target:
        return Applied(outcome=Outcome.MERGED, detail=f"already {target}")
    judged = ctx.field_time(m, wo)
    ctx.workorders.transition(ctx.principal, wo.id, TransitionIn(
        to=target, reason=intent.reason, device_time=m.device_time), field_time=judged)
    return Applied(detail="" if judged.review_reason is None else judged.review_reason)


def update_fields(ctx: IntentContext, m: Mutation) -> Applied:
    intent = m.intent
    if not isinstance(intent, UpdateFields):  # the handler table routes by tag
        raise TypeError(f"{type(intent).__name__} routed to update_fields")
    if not intent.fields or len(intent.fields) > MAX_FIELDS:
        raise InvalidIntentError(f"send 1 to {MAX_FIELDS} fields", count=len(intent.fields))
    wo = ctx.workorders.get(ctx.principal, intent.work_order_id)
    if wo.status in CLOSED_STATUSES:
        raise WorkOrderClosedError(f"the work order is {wo.status}", work_order_id=wo.id,
                                   status=str(wo.status))
    if not 1 <= intent.base_version <= wo.version:
        raise InvalidIntentError("base_version is not a version this order had",
                                 base_version=intent.base_version, version=wo.version)
    versions = ctx.evidence.field_versions(wo.id)
    overwritten = {f: wo.fields.get(f) for f in intent.fields
                   if versions.get(f, 0) > intent.base_version}
    merged = {**wo.fields, **intent.fields}
    if not ctx.workorders.store.update_fields(wo.id, merged, wo.steps, ctx.now, wo.version):
        raise VersionConflictError("work order changed meanwhile", work_order_id=wo.id)
    ctx.evidence.set_field_versions(wo.id, list(intent.fields), wo.version + 1)
    p = ctx.principal
    ctx.audit.record(ENTITY, wo.id, "fields", actor_user_id=p.user_id, device_id=p.device_id,
                     server_time=ctx.now, device_time=m.device_time,
                     detail={"set": msgspec.to_builtins(intent.fields),
                             "base_version": intent.base_version,
                             "overwritten": msgspec.to_builtins(overwritten)})
    ctx.publish(wo)
    if overwritten:
        return Applied(outcome=Outcome.CONFLICT,
                       detail="later edit won over: " + ", ".join(sorted(overwritten)))
    if wo.version > intent.base_version:
        return Applied(outcome=Outcome.MERGED, detail="merged with other fields' edits")
    return Applied()


HANDLERS: Final[dict[str, Handler[IntentContext]]] = {
    "advance_status": advance_status,
    "update_fields": update_fields,
}
