"""Meter readings no dial can show are refused: over HTTP as a 4xx problem, over sync push
as a rejected mutation kept for review; readings are judged on the tablet's time
corrected by its measured skew, with the server's time kept beside it."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from litestar import Litestar
from litestar.testing import TestClient

from server.clock import SteppingClock
from server.services import Services
from sync.client import DeviceClient, HttpTransport, Replica, RetryPolicy
from sync.protocol import AdvanceStatus, Outcome, RecordReading
from tests.factories import TOKENS, assert_problem, bearer
from tests.integration.fieldwork.kit import reading_route

pytestmark = pytest.mark.integration

DISPATCH = bearer(TOKENS["dispatcher"])
READER = bearer(TOKENS["reader"])
CUSTOMER = "cust-00005"


def _route(client: TestClient[Litestar], title: str) -> str:
    return reading_route(client, DISPATCH, CUSTOMER, title)


def _meter(services: Services) -> str:
    customer = services.customers.store.get(CUSTOMER)
    assert customer is not None
    return customer.meter_no or ""


def _read(client: TestClient[Litestar], services: Services, wo_id: str, value: float,
          **extra: object) -> Any:
    return client.post("/api/v1/reading-routes/readings", headers=READER, json={
        "work_order_id": wo_id, "customer_id": CUSTOMER, "meter_no": _meter(services),
        "value": value, **extra})


def _last_month(client: TestClient[Litestar], services: Services, clock: SteppingClock,
                value: float) -> None:
    r = _read(client, services, _route(client, "10 月抄表"), value)
    assert r.status_code == 200, r.text
    clock.advance(days=30)


def test_over_http_an_impossible_reading_is_a_problem_and_is_not_stored(
        client: TestClient[Litestar], services: Services, clock: SteppingClock) -> None:
    _last_month(client, services, clock, 1_238.0)
    november = _route(client, "11 月抄表")
    body = assert_problem(_read(client, services, november, -5.0), 422, "reading-negative")
    assert body["value"] == -5.0
    assert_problem(_read(client, services, november, 100_000.0), 422,
                   "reading-above-register")
    body = assert_problem(_read(client, services, november, 1_237.0), 422,
                          "reading-below-previous")
    assert body["previous"] == 1_238.0
    # a rollover far from the register's top is not believed either
    assert_problem(_read(client, services, november, 20.0, below_reason="rollover"), 422,
                   "rollover-implausible")
    assert_problem(_read(client, services, november, 20.0, below_reason="dial dirty"), 400,
                   "validation-failed")
    route = client.get(f"/api/v1/reading-routes/{november}", headers=DISPATCH).json()
    assert route["readings"] == []  # nothing refused was stored as a fact


def test_over_http_a_changed_meter_or_a_rollover_is_accepted_with_its_reason(
        client: TestClient[Litestar], services: Services, clock: SteppingClock) -> None:
    _last_month(client, services, clock, 99_990.0)
    november = _route(client, "11 月抄表")
    r = _read(client, services, november, 25.0, below_reason="rollover")
    assert r.status_code == 200, r.text
    # 10 m³ to the top of the five-digit register, 25 from zero
    assert (r.json()["usage"], r.json()["flags"], r.json()["below_reason"]) == (
        35.0, ["rollover"], "rollover")
    december = _route(client, "12 月抄表")
    clock.advance(days=30)
    r = _read(client, services, december, 3.0, below_reason="meter_changed")
    assert r.status_code == 200, r.text
    assert (r.json()["usage"], r.json()["flags"]) == (None, ["new_meter"])


def _tablet(client: TestClient[Litestar], clock: SteppingClock, path: Path,
            ahead: timedelta) -> DeviceClient:
    """The reader's tablet, whose clock runs ``ahead`` of the server's."""

    def device_clock() -> datetime:
        return clock() + ahead

    return DeviceClient(Replica(path, synchronous="OFF"),
                        HttpTransport(client, TOKENS["reader"]), clock=device_clock,
                        sleep=lambda _s: None, retry=RetryPolicy(attempts=2))


def test_over_sync_a_reading_below_the_last_is_rejected_and_kept_for_review(
        client: TestClient[Litestar], services: Services, clock: SteppingClock,
        tmp_path: Path) -> None:
    _last_month(client, services, clock, 1_238.0)
    november = _route(client, "11 月抄表")
    tablet = _tablet(client, clock, tmp_path / "reader.db", timedelta(0))
    tablet.pull()
    tablet.record(AdvanceStatus(work_order_id=november, to="in_progress"))
    evidence_id = str(uuid.uuid4())
    typo = tablet.record(RecordReading(work_order_id=november, evidence_id=evidence_id,
                                       value=123.8, meter_no=_meter(services),
                                       customer_id=CUSTOMER))
    tablet.push()
    result = tablet.replica.results()[typo.id]
    assert result.outcome is Outcome.REJECTED
    assert result.reason_code == "reading-below-previous"
    # kept for dispatch: the flag holds what the reader typed
    [flag] = [f for f in services.sync.reviews() if f.work_order_id == november]
    assert flag.reason_code == "reading-below-previous"
    assert flag.payload["value"] == 123.8
    assert flag.payload["evidence_id"] == evidence_id
    route = client.get(f"/api/v1/reading-routes/{november}", headers=DISPATCH).json()
    assert route["readings"] == []
    # the reader corrects it; the same meter's dial, now right, is applied
    fixed = tablet.record(RecordReading(work_order_id=november, evidence_id=str(uuid.uuid4()),
                                        value=1_250.0, meter_no=_meter(services),
                                        customer_id=CUSTOMER))
    tablet.push()
    assert tablet.replica.results()[fixed.id].outcome is Outcome.APPLIED


def test_over_sync_a_reading_is_judged_on_the_tablet_time_corrected_by_its_skew(
        client: TestClient[Litestar], services: Services, clock: SteppingClock,
        tmp_path: Path) -> None:
    _last_month(client, services, clock, 1_238.0)
    november = _route(client, "11 月抄表")
    tablet = _tablet(client, clock, tmp_path / "reader.db", timedelta(minutes=7))
    tablet.pull()  # the skew (+7 min) is measured while there is signal
    tablet.record(AdvanceStatus(work_order_id=november, to="in_progress"))
    clock.advance(minutes=30)
    read_at = clock()
    tablet.record(RecordReading(work_order_id=november, evidence_id=str(uuid.uuid4()),
                                value=1_250.0, meter_no=_meter(services),
                                customer_id=CUSTOMER))
    clock.advance(hours=3)  # back in signal three hours later
    pushed = clock()
    tablet.push()
    [reading] = client.get(f"/api/v1/reading-routes/{november}",
                           headers=DISPATCH).json()["readings"]
    assert reading["time_source"] == "device"
    assert datetime.fromisoformat(reading["read_at"]) == read_at
    assert datetime.fromisoformat(reading["server_time"]) == pushed
    assert datetime.fromisoformat(reading["device_time"]) == read_at + timedelta(minutes=7)
