"""'Repairs without shutting the water off' (JN 10.3.4, target >= 90 %, pipe-network leaks
excepted) from the crews' valve logs."""

from __future__ import annotations

from datetime import timedelta

import msgspec
import pytest

from geo.model import IsolationRequest
from server.accounts.model import Principal, Role
from server.clock import SteppingClock
from server.fieldwork.burst import ValveAction, ValveOperationIn
from server.services import Services
from server.workorders.model import Actor, Status, TransitionIn, WorkOrderType
from tests.factories import TOKENS, order_in
from tests.integration.fieldwork.kit import file_required_evidence

pytestmark = pytest.mark.integration

CREW = Principal(user_id="crew-a-zhang", name="张师傅", role=Role.CREW_MEMBER, crew_id="crew-a",
                 unit="管网所", device_id=None)


def _finish(services: Services, wo_id: str) -> None:
    for to in (Status.EN_ROUTE, Status.ON_SITE, Status.IN_PROGRESS):
        services.workorders.transition(CREW, wo_id, TransitionIn(to=to))
    file_required_evidence(services, wo_id, CREW)
    services.workorders.transition(CREW, wo_id, TransitionIn(to=Status.COMPLETED))


def _repair(services: Services, repair_of: str | None) -> str:
    data = order_in(WorkOrderType.BURST_REPAIR)
    if repair_of is not None:
        data = msgspec.structs.replace(data, fields={"repair_of": repair_of})
    return services.workorders.create(Actor(user_id="disp-wang", role="dispatcher"), data).id


def test_a_repair_with_a_closed_valve_counts_as_shut_off(services: Services,
                                                         clock: SteppingClock) -> None:
    since = clock() - timedelta(hours=1)
    dispatcher = Actor(user_id="disp-wang", role="dispatcher")
    kept_on = services.workorders.create(dispatcher, msgspec.structs.replace(
        order_in(WorkOrderType.BURST_REPAIR), fields={"repair_of": "valve"}))
    shut = services.workorders.create(dispatcher, msgspec.structs.replace(
        order_in(WorkOrderType.BURST_REPAIR), fields={"repair_of": "hydrant"}))
    plan = services.network.isolate(IsolationRequest(pipe_ids=["P-R2-1"]))
    services.fieldwork.bursts.attach_plan(_dispatcher(services), shut.id, plan.id)
    for valve in plan.valves_to_close:
        services.fieldwork.bursts.record_valve_operation(CREW, ValveOperationIn(
            work_order_id=shut.id, valve_id=valve.valve.valve_id, action=ValveAction.CLOSED))
    _finish(services, kept_on.id)
    _finish(services, shut.id)
    clock.advance(hours=1)
    report = services.tickets.stats.report(since=since)
    row = next(r for r in report.rows if r.metric == "repair_without_shutoff")
    assert (row.decided, row.achieved) == (2, 1)
    assert row.meets_target is False


def test_jn_10_3_4_pipe_network_leaks_are_outside_the_rate(services: Services,
                                                          clock: SteppingClock) -> None:
    """JN 10.3.4 "不停水维修率应达到90%（供水管网漏水除外）": two pipe-network leak repairs
    (both shut off) do not count at all; of the valve and meter-well repairs, one of two
    kept the water on; one repair that does not say what it repaired is unknown."""
    since = clock() - timedelta(hours=1)
    leaks = [_repair(services, "pipe_network_leak") for _ in range(2)]
    valve = _repair(services, "valve")
    well = _repair(services, "meter_well")
    unsaid = _repair(services, None)
    plan = services.network.isolate(IsolationRequest(pipe_ids=["P-R2-1"]))
    for wo_id in [*leaks, well]:
        services.fieldwork.bursts.attach_plan(_dispatcher(services), wo_id, plan.id)
        for v in plan.valves_to_close:
            services.fieldwork.bursts.record_valve_operation(CREW, ValveOperationIn(
                work_order_id=wo_id, valve_id=v.valve.valve_id, action=ValveAction.CLOSED))
    for wo_id in [*leaks, valve, well, unsaid]:
        _finish(services, wo_id)
    clock.advance(hours=1)
    row = next(r for r in services.tickets.stats.report(since=since).rows
               if r.metric == "repair_without_shutoff")
    assert (row.total, row.decided, row.achieved, row.unknown) == (3, 2, 1, 1)
    assert row.rate == 0.5
    assert row.clause.startswith("JN 10.3.4")


def _dispatcher(services: Services) -> Principal:
    """Dispatch attaches isolation plans (policy ``burst.attach_plan``)."""
    found = services.accounts.authenticate(TOKENS["dispatcher"])
    assert found is not None
    return found
