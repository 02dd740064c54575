"""Over HTTP, field facts are judged as over sync: on the device's time corrected by its
skew, measured from the request's ``Date`` header (RFC 9110), else the device's last
measured skew; an untrusted clock is judged on server time and flagged (issue 14)."""

from __future__ import annotations

from datetime import datetime, timedelta
from email.utils import format_datetime
from typing import Any

import pytest
from litestar import Litestar
from litestar.testing import TestClient

from server.clock import SteppingClock
from server.services import Services
from server.workorders.model import Actor, WorkOrderType
from tests.factories import TOKENS, bearer, order_in
from tests.integration.fieldwork.kit import reading_route

pytestmark = pytest.mark.integration

DISPATCH = Actor(user_id="disp-wang", role="dispatcher")
DISPATCH_HTTP = bearer(TOKENS["dispatcher"])
CREW = bearer(TOKENS["crew_a"])
READER = bearer(TOKENS["reader"])
CUSTOMER = "cust-00005"


def _headers(token: dict[str, str], device_clock: datetime | None) -> dict[str, str]:
    """The token, and the ``Date`` a device with this clock sends (None: no header)."""
    if device_clock is None:
        return token
    return {**token, "Date": format_datetime(device_clock, usegmt=True)}


def _move(client: TestClient[Litestar], wo_id: str, to: str, device_time: datetime,
          device_clock: datetime | None) -> None:
    r = client.post(f"/api/v1/workorders/{wo_id}/transitions",
                    json={"to": to, "device_time": device_time.isoformat()},
                    headers=_headers(CREW, device_clock))
    assert r.status_code == 200, r.text


def _arrival(services: Services, wo_id: str) -> tuple[Any, ...]:
    d = next(d for d in services.workorders.get_unchecked(wo_id).deadlines
             if d.rule == "burst_arrival")
    return d.met_at, d.met_server_at, d.met_source, d.overdue


def _route(client: TestClient[Litestar]) -> str:
    return reading_route(client, DISPATCH_HTTP, CUSTOMER)


def _read(client: TestClient[Litestar], services: Services, wo_id: str,
          device_time: datetime, device_clock: datetime | None) -> dict[str, Any]:
    customer = services.customers.store.get(CUSTOMER)
    assert customer is not None
    r = client.post("/api/v1/reading-routes/readings", headers=_headers(READER, device_clock),
                    json={"work_order_id": wo_id, "customer_id": CUSTOMER,
                          "meter_no": customer.meter_no or "", "value": 1_250.0,
                          "device_time": device_time.isoformat()})
    assert r.status_code == 200, r.text
    body: dict[str, Any] = r.json()
    return body


def _untrusted(services: Services, wo_id: str) -> list[str]:
    return [f.kind for f in services.sync.reviews()
            if f.work_order_id == wo_id and f.reason_code == "device-time-untrusted"]


def test_an_arrival_and_a_reading_sent_two_hours_late_with_a_correct_date_keep_device_time(
        client: TestClient[Litestar], services: Services, clock: SteppingClock) -> None:
    wo = services.workorders.create(DISPATCH, order_in(WorkOrderType.BURST_REPAIR))
    route = _route(client)
    left, arrived = clock() + timedelta(minutes=10), clock() + timedelta(minutes=20)
    read_at = clock() + timedelta(minutes=30)
    clock.advance(hours=2, minutes=30)  # no signal on site: everything is sent later
    _move(client, wo.id, "en_route", left, clock())
    _move(client, wo.id, "on_site", arrived, clock())
    assert _arrival(services, wo.id) == (arrived, clock(), "device", False)
    reading = _read(client, services, route, read_at, clock())
    assert reading["time_source"] == "device"
    assert datetime.fromisoformat(reading["read_at"]) == read_at
    assert datetime.fromisoformat(reading["server_time"]) == clock()
    assert _untrusted(services, wo.id) == _untrusted(services, route) == []


def test_a_clock_an_hour_off_is_judged_on_server_time_and_flagged_for_review(
        client: TestClient[Litestar], services: Services, clock: SteppingClock) -> None:
    off = timedelta(hours=1)  # the tablet's clock runs an hour fast: device_time and Date
    wo = services.workorders.create(DISPATCH, order_in(WorkOrderType.BURST_REPAIR))
    route = _route(client)
    arrived, read_at = clock() + timedelta(minutes=20), clock() + timedelta(minutes=25)
    clock.advance(hours=2)
    _move(client, wo.id, "en_route", arrived + off, clock() + off)
    _move(client, wo.id, "on_site", arrived + off, clock() + off)
    assert _arrival(services, wo.id) == (clock(), clock(), "server", True)
    assert _untrusted(services, wo.id) == ["advance_status", "advance_status"]
    reading = _read(client, services, route, read_at + off, clock() + off)
    assert (reading["time_source"], datetime.fromisoformat(reading["read_at"])) == (
        "server", clock())
    assert _untrusted(services, route) == ["record_reading"]


def test_without_a_date_server_time_decides_until_sync_has_measured_the_skew(
        client: TestClient[Litestar], services: Services, clock: SteppingClock) -> None:
    fast = timedelta(minutes=5)  # the tablet's clock runs 5 minutes fast
    first = services.workorders.create(DISPATCH, order_in(WorkOrderType.BURST_REPAIR))
    route = _route(client)
    arrived, read_at = clock() + timedelta(minutes=20), clock() + timedelta(minutes=25)
    clock.advance(hours=2)
    # no Date and no sync history: the clock was never measured, so nothing to distrust
    _move(client, first.id, "en_route", arrived + fast, None)
    _move(client, first.id, "on_site", arrived + fast, None)
    assert _arrival(services, first.id) == (clock(), clock(), "server", True)
    reading = _read(client, services, route, read_at + fast, None)
    assert reading["time_source"] == "server"
    assert _untrusted(services, first.id) == _untrusted(services, route) == []
    # a pull measures the skew; later requests without a Date are corrected by it
    second = services.workorders.create(DISPATCH, order_in(WorkOrderType.BURST_REPAIR))
    r = client.post("/api/v1/sync/pull", headers=CREW,
                    json={"device_time": (clock() + fast).isoformat()})
    assert r.status_code == 200, r.text
    arrived = clock() + timedelta(minutes=20)
    clock.advance(hours=2)
    _move(client, second.id, "en_route", arrived + fast, None)
    _move(client, second.id, "on_site", arrived + fast, None)
    assert _arrival(services, second.id) == (arrived, clock(), "device", False)
