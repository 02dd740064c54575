"""A valve that will not close: plan B's extra customers join the outage and are told."""

from __future__ import annotations

from datetime import timedelta

import pytest

from geo.model import IsolationRequest
from notifications import AnnounceIn
from notifications.model import OutageKind
from server.accounts.model import Principal, Role
from server.clock import SteppingClock
from server.fieldwork.burst import ValveAction, ValveOperationIn
from server.outage_planning import OutageFromIsolationIn, outage_from_isolation
from server.services import Services
from server.workorders.model import Actor, WorkOrderType
from tests.factories import TOKENS, order_in

pytestmark = pytest.mark.integration

CREW = Principal(user_id="crew-a-zhang", name="张师傅", role=Role.CREW_MEMBER, crew_id="crew-a",
                 unit="管网所", device_id=None)


def test_plan_b_customers_get_an_urgent_notice_once(services: Services,
                                                   clock: SteppingClock) -> None:
    customer = services.customers.store.get("cust-00007")
    assert customer is not None
    assert customer.lon is not None
    assert customer.lat is not None
    wo = services.workorders.create(Actor(user_id="disp-wang", role="dispatcher"), order_in(
        WorkOrderType.BURST_REPAIR, lon=customer.lon, lat=customer.lat))
    plan = services.network.isolate(IsolationRequest(point=(customer.lon, customer.lat),
                                                     tolerance_m=400))
    stuck = next(v for v in plan.valves_to_close
                 if v.fallback is not None and v.fallback.extra_customer_ids)
    services.fieldwork.bursts.attach_plan(_dispatcher(services), wo.id, plan.id)
    outage = outage_from_isolation("disp-wang", OutageFromIsolationIn(
        isolation_id=plan.id, kind=OutageKind.EMERGENCY, cause="爆管",
        start_at=clock(), expected_restoration_at=clock() + timedelta(hours=6),
        work_order_id=wo.id), services.network, services.customers.store, services.outages)
    services.outages.announce("disp-wang", "dispatcher", outage.id, AnnounceIn())
    before = {r.customer_id for r in services.outages.store.recipients(outage.id)}
    notices_before = {n.id for n in services.outages.notices(outage.id)}
    clock.advance(minutes=20)

    result = services.fieldwork.bursts.record_valve_operation(CREW, ValveOperationIn(
        work_order_id=wo.id, valve_id=stuck.valve.valve_id, action=ValveAction.INOPERABLE))

    added = set(result.newly_affected)
    assert added
    assert not added & before
    after = {r.customer_id for r in services.outages.store.recipients(outage.id)}
    assert after == before | added
    assert services.outages.get(outage.id).customer_count == len(after)
    new = [n for n in services.outages.notices(outage.id) if n.id not in notices_before]
    assert len(new) == 1
    assert new[0].urgent
    assert new[0].recipients == len(added)
    # the same report again adds nobody and sends nothing more
    services.outages.extend("plan-b", outage.id,
                            [r for r in services.outages.store.recipients(outage.id)
                             if r.customer_id in added], "again")
    assert len(services.outages.notices(outage.id)) == len(notices_before) + 1


def _dispatcher(services: Services) -> Principal:
    """Dispatch attaches isolation plans (policy ``burst.attach_plan``)."""
    found = services.accounts.authenticate(TOKENS["dispatcher"])
    assert found is not None
    return found
