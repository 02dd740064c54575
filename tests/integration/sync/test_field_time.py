"""An offline crew is judged on when it arrived, not on when its tablet found signal."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from litestar import Litestar
from litestar.testing import TestClient

from server.clock import SteppingClock
from server.services import Services
from server.workorders.model import Actor, WorkOrderType
from sync.client import DeviceClient, HttpTransport, Replica, RetryPolicy
from sync.protocol import AddNote, AdvanceStatus
from tests.factories import TOKENS, order_in

pytestmark = pytest.mark.integration

DISPATCH = Actor(user_id="disp-wang", role="dispatcher")


def _tablet(client: TestClient[Litestar], services: Services, path: Path,
            offset: timedelta) -> DeviceClient:
    clock: SteppingClock = services.clock  # type: ignore[assignment]

    def device_clock() -> datetime:
        return clock() + offset

    return DeviceClient(Replica(path, synchronous="OFF"),
                        HttpTransport(client, TOKENS["crew_a"]), clock=device_clock,
                        sleep=lambda _s: None, retry=RetryPolicy(attempts=2))


def _arrival(services: Services, wo_id: str) -> tuple[object, ...]:
    d = next(d for d in services.workorders.get_unchecked(wo_id).deadlines
             if d.rule == "burst_arrival")
    return d.met_at, d.met_server_at, d.met_source, d.overdue


@pytest.mark.parametrize("offset", [timedelta(0), timedelta(minutes=5), timedelta(minutes=-7)])
def test_a_crew_on_site_in_20_minutes_that_pushes_2_hours_later_is_on_time(
        client: TestClient[Litestar], services: Services, clock: SteppingClock,
        tmp_path: Path, offset: timedelta) -> None:
    wo = services.workorders.create(DISPATCH, order_in(WorkOrderType.BURST_REPAIR))
    tablet = _tablet(client, services, tmp_path / "t.db", offset)
    tablet.pull()  # the skew is measured here, while there is signal
    clock.advance(minutes=10)
    tablet.record(AdvanceStatus(work_order_id=wo.id, to="en_route"))
    clock.advance(minutes=10)
    arrived = clock()
    tablet.record(AdvanceStatus(work_order_id=wo.id, to="on_site"))
    clock.advance(hours=2)
    pushed = clock()
    tablet.push()
    met_at, met_server_at, source, overdue = _arrival(services, wo.id)
    assert source == "device"
    assert met_server_at == pushed
    assert abs((met_at - arrived).total_seconds()) < 1  # type: ignore[operator]
    assert overdue is False


def test_a_clock_far_off_is_judged_on_server_time_and_flagged(
        client: TestClient[Litestar], services: Services, clock: SteppingClock,
        tmp_path: Path) -> None:
    wo = services.workorders.create(DISPATCH, order_in(WorkOrderType.BURST_REPAIR))
    tablet = _tablet(client, services, tmp_path / "t.db", timedelta(hours=-3))
    tablet.pull()
    clock.advance(minutes=20)
    tablet.record(AdvanceStatus(work_order_id=wo.id, to="en_route"))
    tablet.record(AdvanceStatus(work_order_id=wo.id, to="on_site"))
    clock.advance(hours=2)
    tablet.push()
    met_at, met_server_at, source, overdue = _arrival(services, wo.id)
    assert (source, met_at, overdue) == ("server", met_server_at, True)
    flags = [f for f in services.sync.reviews() if f.work_order_id == wo.id]
    assert {f.reason_code for f in flags} == {"device-time-untrusted"}


def test_a_step_done_offline_keeps_its_device_time_beside_the_server_time(
        client: TestClient[Litestar], services: Services, clock: SteppingClock,
        tmp_path: Path) -> None:
    wo = services.workorders.create(DISPATCH, order_in(WorkOrderType.BURST_REPAIR))
    tablet = _tablet(client, services, tmp_path / "t.db", timedelta(minutes=3))
    tablet.pull()
    clock.advance(minutes=25)
    surveyed = clock()
    tablet.record(AddNote(work_order_id=wo.id, evidence_id=str(uuid.uuid4()),
                          text="DN300 铸铁管纵向裂缝", step_key="survey"))
    clock.advance(hours=3)
    tablet.push()
    step = next(s for s in services.workorders.get_unchecked(wo.id).steps if s.key == "survey")
    assert step.done_source == "device"
    assert step.done_server_at == clock()
    assert step.done_at is not None
    assert abs((step.done_at - surveyed).total_seconds()) < 1
