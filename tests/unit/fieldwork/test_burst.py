"""Valves closed against the isolation plan, and plan B for inoperable valves."""

from __future__ import annotations

from datetime import UTC, datetime

import msgspec
import pytest

from geo.model import Fallback, IsolationPlan, ValveAction, ValveToClose
from server.fieldwork.burst import ValveAction as Op
from server.fieldwork.burst import ValveOperation, apply_inoperable, check_valves

pytestmark = pytest.mark.unit

AT = datetime(2026, 11, 23, 1, 0, tzinfo=UTC)


def _valve(vid: str) -> ValveAction:
    return ValveAction(valve_id=vid, pipe_id="p", node_id="n", lon=117.0, lat=36.65)


def plan() -> IsolationPlan:
    return IsolationPlan(
        id="plan-1", computed_at="2026-11-23T01:00:00Z", network_version=1,
        broken_pipe_ids=["p1"], customer_count=40,
        valves_to_close=[
            ValveToClose(valve=_valve("V1"), fallback=Fallback(
                failed_valve_id="V1", extra_valves=[_valve("V4"), _valve("V5")],
                extra_pipe_count=3, extra_customer_count=2, extra_customer_ids=["c9", "c10"])),
            ValveToClose(valve=_valve("V2")),
            ValveToClose(valve=_valve("V3"), fallback=Fallback(
                failed_valve_id="V3", extra_valves=[_valve("V6")], extra_pipe_count=1,
                extra_customer_count=1, extra_customer_ids=["c11"])),
        ])


def op(valve: str, action: Op) -> ValveOperation:
    return ValveOperation(id=valve + action, work_order_id="w", valve_id=valve, action=action,
                          server_time=AT)


def test_without_failures_the_plan_is_the_original() -> None:
    working = apply_inoperable(plan(), [])
    assert working.valves_to_close == ["V1", "V2", "V3"]
    assert working.revision == 1


def test_inoperable_valve_switches_to_its_plan_b() -> None:
    working = apply_inoperable(plan(), ["V1"])
    assert working.valves_to_close == ["V2", "V3", "V4", "V5"]
    assert working.extra_customer_ids == ["c9", "c10"]
    assert working.revision == 2


def test_two_failures_combine_their_fallbacks() -> None:
    working = apply_inoperable(plan(), ["V1", "V3"])
    assert set(working.valves_to_close) == {"V2", "V4", "V5", "V6"}
    assert working.extra_customer_ids == ["c9", "c10", "c11"]


def test_failure_without_fallback_needs_a_new_plan() -> None:
    working = apply_inoperable(plan(), ["V2"])
    assert working.unplanned_failures == ["V2"]
    check = check_valves(working, [op("V1", Op.CLOSED), op("V3", Op.CLOSED)])
    assert check.still_open == []
    assert check.complete is False


def test_valve_check_reports_open_extra_and_complete() -> None:
    working = apply_inoperable(plan(), [])
    partial = check_valves(working, [op("V1", Op.CLOSED), op("V9", Op.CLOSED)])
    assert partial.still_open == ["V2", "V3"]
    assert partial.not_in_plan == ["V9"]
    assert not partial.complete
    done = check_valves(working, [op(v, Op.CLOSED) for v in ("V1", "V2", "V3")])
    assert done.complete


def test_a_reopened_valve_is_no_longer_closed() -> None:
    working = apply_inoperable(plan(), [])
    ops = [op(v, Op.CLOSED) for v in ("V1", "V2", "V3")] + [op("V2", Op.OPENED)]
    assert check_valves(working, ops).still_open == ["V2"]


def test_a_seized_valve_the_plan_never_needed_is_said_so_and_changes_nothing() -> None:
    working = apply_inoperable(plan(), ["V9"])
    assert working.not_needed == ["V9"]
    assert working.valves_to_close == ["V1", "V2", "V3"]
    assert working.revision == 1
    # a plan-B valve is needed once its plan B is in force, whatever the order reported
    later = apply_inoperable(plan(), ["V4", "V1"])
    assert later.not_needed == []
    assert "V4" not in later.valves_to_close


def test_plan_b_nodes_are_carried_into_the_working_plan() -> None:
    p = plan()
    first = p.valves_to_close[0]
    assert first.fallback is not None
    p = msgspec.structs.replace(p, valves_to_close=[
        msgspec.structs.replace(first, fallback=msgspec.structs.replace(
            first.fallback, extra_node_ids=["J7"])), *p.valves_to_close[1:]])
    assert apply_inoperable(p, ["V1"]).extra_node_ids == ["J7"]
