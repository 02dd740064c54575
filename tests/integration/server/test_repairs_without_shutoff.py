"""'Repairs without shutting the water off' (JN, target >= 90 %) from the crews' valve logs."""

from __future__ import annotations

from datetime import timedelta

import pytest

from geo.model import IsolationRequest
from server.accounts.model import Principal, Role
from server.clock import SteppingClock
from server.fieldwork.burst import ValveAction, ValveOperationIn
from server.services import Services
from server.workorders.model import Actor, Status, TransitionIn, WorkOrderType
from tests.factories import order_in
from tests.integration.fieldwork.kit import file_required_evidence

pytestmark = pytest.mark.integration

CREW = Principal(user_id="crew-a-zhang", name="张师傅", role=Role.CREW_MEMBER, crew_id="crew-a",
                 unit="管网所", device_id=None)


def _finish(services: Services, wo_id: str) -> None:
    for to in (Status.EN_ROUTE, Status.ON_SITE, Status.IN_PROGRESS):
        services.workorders.transition(CREW, wo_id, TransitionIn(to=to))
    file_required_evidence(services, wo_id, CREW)
    services.workorders.transition(CREW, wo_id, TransitionIn(to=Status.COMPLETED))


def test_a_repair_with_a_closed_valve_counts_as_shut_off(services: Services,
                                                         clock: SteppingClock) -> None:
    since = clock() - timedelta(hours=1)
    dispatcher = Actor(user_id="disp-wang", role="dispatcher")
    kept_on = services.workorders.create(dispatcher, order_in(WorkOrderType.BURST_REPAIR))
    shut = services.workorders.create(dispatcher, order_in(WorkOrderType.BURST_REPAIR))
    plan = services.network.isolate(IsolationRequest(pipe_ids=["P-R2-1"]))
    services.fieldwork.bursts.attach_plan(CREW, shut.id, plan)
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
