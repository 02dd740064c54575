"""Burst repair on site: the valves actually closed, checked against the isolation plan.

JN asks to work out the valves to close (minimum outage area), then close them; field
testers find double-digit percentages of valves stuck. ``geo`` ships each plan with a
precomputed plan B per valve (``Fallback``: the extra valves to close and the extra
customers who lose water if that valve fails), so an offline crew's report of a stuck
valve turns into a new plan at once, without a round of network analysis.

``apply_inoperable`` is the pure rule: the working plan is the original valves minus the
failed ones plus each failure's extra valves (transitively: a fallback valve that fails
too brings its own fallback when the plan has one), and the affected customers grow by
each fallback's customers. ``check_valves`` compares the crew's operations with the
working plan.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

import msgspec

from core.time import TimeChecked
from geo.model import IsolationPlan


class ValveAction(StrEnum):
    CLOSED = "closed"
    OPENED = "opened"
    #: the crew could not operate it (stuck, buried, broken spindle)
    INOPERABLE = "inoperable"


class ValveOperationIn(msgspec.Struct, TimeChecked, frozen=True, kw_only=True,
               forbid_unknown_fields=True):
    """``record_valve_operation``: what the crew did to one valve."""

    #: the burst-repair work order
    work_order_id: str
    #: the valve operated, by its id in the network
    valve_id: str
    #: `closed`, `opened` or `inoperable` (the crew could not operate it)
    action: ValveAction
    #: how many turns the crew counted, if they did
    turns: float | None = None
    #: what the crew notes
    note: str = ""
    #: when it was done on the device (RFC 3339); defaults to the server's time
    device_time: datetime | None = None
    #: the device's own id for the operation, so a retried push records it once
    operation_id: str | None = None


class ValveOperation(msgspec.Struct, frozen=True, kw_only=True):
    #: the operation's id
    id: str
    #: the burst-repair work order
    work_order_id: str
    #: the valve operated
    valve_id: str
    #: what was done to it
    action: ValveAction
    #: when the server received it (UTC)
    server_time: datetime
    #: the device's clock when it was done, as sent
    device_time: datetime | None = None
    #: how many turns the crew counted, if they did
    turns: float | None = None
    #: what the crew noted
    note: str = ""


class WorkingPlan(msgspec.Struct, frozen=True, kw_only=True):
    """The plan in force after the failures reported so far."""

    #: the isolation plan in force
    plan_id: str
    #: how many failures changed the plan (0: the original plan)
    revision: int
    #: the valves to close now, by id
    valves_to_close: list[str]
    #: the valves reported inoperable, in reported order
    inoperable: list[str]
    #: customers added by plan B, beyond the original plan's
    extra_customer_ids: list[str]
    #: failed valves that had no precomputed fallback: dispatch must re-plan
    unplanned_failures: list[str] = msgspec.field(default_factory=list)
    #: failed valves the plan never needed: nothing changes (the crew is told so)
    not_needed: list[str] = msgspec.field(default_factory=list)
    #: nodes added by plan B (a junction valved on every side shows here, not in pipes)
    extra_node_ids: list[str] = msgspec.field(default_factory=list)


class ValveCheck(msgspec.Struct, frozen=True, kw_only=True):
    #: the working plan's revision checked against
    plan_revision: int
    #: the valves the working plan closes
    valves_to_close: list[str]
    #: of those, the ones recorded closed
    closed: list[str]
    #: of those, the ones not yet recorded closed
    still_open: list[str]
    #: closed although the plan does not name them (flagged for dispatch)
    not_in_plan: list[str]
    #: the valves reported inoperable
    inoperable: list[str]
    #: True when every valve to close is recorded closed
    complete: bool


def apply_inoperable(plan: IsolationPlan, inoperable: list[str]) -> WorkingPlan:
    """The working plan once the valves in ``inoperable`` failed (order as reported)."""
    fallbacks = {v.valve.valve_id: v.fallback for v in plan.valves_to_close}
    required: dict[str, None] = dict.fromkeys(v.valve.valve_id for v in plan.valves_to_close)
    extra_customers: dict[str, None] = {}
    failed: dict[str, None] = dict.fromkeys(inoperable)
    unplanned: list[str] = []
    extra_nodes: dict[str, None] = {}
    changes = 0
    for valve_id in failed:
        if valve_id not in required:
            continue
        changes += 1
        del required[valve_id]
        fallback = fallbacks.get(valve_id)
        if fallback is None:
            unplanned.append(valve_id)
            continue
        for extra in fallback.extra_valves:
            fallbacks.setdefault(extra.valve_id, None)
            if extra.valve_id not in failed:
                required.setdefault(extra.valve_id, None)
        extra_customers.update(dict.fromkeys(fallback.extra_customer_ids))
        extra_nodes.update(dict.fromkeys(fallback.extra_node_ids))
    # a fallback valve reported failed after it joined the plan: drop it as well
    for valve_id in failed:
        required.pop(valve_id, None)
    # neither in the plan nor in a plan B that came into force: it was never needed
    not_needed = [v for v in failed if v not in fallbacks]
    return WorkingPlan(plan_id=plan.id, revision=1 + changes,
                       valves_to_close=list(required), inoperable=list(failed),
                       extra_customer_ids=list(extra_customers), unplanned_failures=unplanned,
                       not_needed=not_needed, extra_node_ids=list(extra_nodes))


def check_valves(working: WorkingPlan, operations: list[ValveOperation]) -> ValveCheck:
    """Which planned valves are closed now (the last operation of each valve counts)."""
    last: dict[str, ValveAction] = {}
    for op in operations:
        last[op.valve_id] = op.action
    closed = [v for v, a in last.items() if a is ValveAction.CLOSED]
    planned = set(working.valves_to_close)
    still_open = [v for v in working.valves_to_close if last.get(v) is not ValveAction.CLOSED]
    return ValveCheck(
        plan_revision=working.revision, valves_to_close=list(working.valves_to_close),
        closed=closed, still_open=still_open,
        not_in_plan=[v for v in closed if v not in planned],
        inoperable=list(working.inoperable),
        complete=not still_open and not working.unplanned_failures,
    )
