"""Whether a work order has the evidence its steps require, and what is still missing.

Each step of a work order (``server.workorders.steps``) lists the evidence kinds it needs
(photo, signature, reading, geometry, check, note, document). Evidence is the sync
layer's append-only ``evidence`` rows (``server.workorders.evidence``), each filed under a
step. A step is satisfied when every required kind has at least one row and no row of the
step still waits for its attachment: a photo still uploading counts as missing
("pending"), because a record must never look complete while its photo silently failed
to upload (the sync lessons). A valve operation counts as a ``check`` (it is one).

Some steps are required only in some cases, decided from the order's fields:
a periodic replacement needs the consent step (LC §29); a burst with a shut-off needs the
valve step; a burst that opened a road needs the resurfacing request (JN).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Final

import msgspec

from server.workorders.evidence import Evidence
from server.workorders.model import FieldValue, Step, WorkOrder, WorkOrderType

_T = WorkOrderType
#: evidence kinds that also satisfy another kind
ALSO_COUNTS_AS: Final[dict[str, str]] = {"valve_operation": "check"}


def _flag(name: str, default: bool) -> Callable[[Mapping[str, FieldValue]], bool]:
    def rule(fields: Mapping[str, FieldValue]) -> bool:
        return bool(fields.get(name, default))
    return rule


#: (type, step key) -> rule on the order's fields deciding whether the step is required
CONDITIONAL: Final[dict[tuple[WorkOrderType, str], Callable[[Mapping[str, FieldValue]], bool]]] = {
    (_T.METER_REPLACEMENT, "consent"): _flag("periodic", False),
    (_T.BURST_REPAIR, "valves_closed"): _flag("shutoff", False),
    (_T.BURST_REPAIR, "resurfacing_request"): _flag("road_opened", True),
    # a connection without external works (KF 表1 序号4) opens no road and lays no pipe
    **{(_T.NEW_CONNECTION, key): _flag("external_works", True)
       for key in ("opening", "trench", "bedding", "pipe_laying", "backfill")},
}


class MissingStep(msgspec.Struct, frozen=True, kw_only=True):
    #: the step's key
    key: str
    #: the step's title, for people
    title: str
    #: evidence kinds with no row at all
    missing: list[str]
    #: attachment hashes referenced by the step's evidence but not uploaded yet
    pending: list[str] = msgspec.field(default_factory=list)


def step_required(wo_type: WorkOrderType, step: Step, fields: Mapping[str, FieldValue]) -> bool:
    rule = CONDITIONAL.get((wo_type, step.key))
    return rule(fields) if rule is not None else step.required


def step_gaps(step: Step, evidence: Sequence[Evidence]) -> tuple[list[str], list[str]]:
    """(kinds with no evidence, attachment hashes still pending) of one step."""
    kinds: set[str] = set()
    pending: list[str] = []
    for ev in evidence:
        if ev.step_key != step.key:
            continue
        kinds.add(ev.kind)
        if ev.kind in ALSO_COUNTS_AS:
            kinds.add(ALSO_COUNTS_AS[ev.kind])
        if ev.attachment_pending and ev.attachment_sha256 and ev.attachment_sha256 not in pending:
            pending.append(ev.attachment_sha256)
    return [k for k in step.requires if k not in kinds], pending


def step_satisfied(step: Step, evidence: Sequence[Evidence]) -> bool:
    missing, pending = step_gaps(step, evidence)
    return not missing and not pending


def missing_evidence(wo: WorkOrder, evidence: Sequence[Evidence]) -> list[MissingStep]:
    """Every required step of ``wo`` that lacks evidence, in catalogue order."""
    out: list[MissingStep] = []
    for step in wo.steps:
        if not step_required(wo.type, step, wo.fields):
            continue
        missing, pending = step_gaps(step, evidence)
        if missing or pending:
            out.append(MissingStep(key=step.key, title=step.title, missing=missing,
                                   pending=pending))
    return out
