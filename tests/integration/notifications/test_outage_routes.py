"""Outages over HTTP: the app from ``create_app`` with channels aimed at a local gateway."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import icalendar
import pytest
from litestar import Litestar
from litestar.testing import TestClient

from server.app import create_app
from server.clock import SteppingClock
from server.services import Services
from tests.factories import TOKENS, assert_problem, bearer, make_clock, make_services
from tests.integration.notifications.conftest import channel_urls
from tests.integration.notifications.gateway import Gateway

pytestmark = pytest.mark.integration


@pytest.fixture
def wired(tmp_path: Path, gateway: Gateway) -> Iterator[tuple[TestClient[Litestar], Services,
                                                            SteppingClock]]:
    clock = make_clock()
    urls = channel_urls(gateway)
    svc = make_services(str(tmp_path), clock, channels={"sms": urls["sms"] + "&rate=0",
                                                         "wechat": urls["wechat"]},
                        alert_group_url=urls["alert"])
    app = create_app(svc.settings, clock=clock, services=svc)
    with TestClient(app) as client:
        yield client, svc, clock
    svc.close()


def body(clock: SteppingClock, hours: float, n: int = 3) -> dict[str, object]:
    start = clock() + timedelta(hours=hours)
    return {
        "kind": "planned", "cause": "管网改造", "title": "经十路改造",
        "start_at": start.isoformat(),
        "expected_restoration_at": (start + timedelta(hours=6)).isoformat(),
        "recipients": [{"customer_id": f"R{i}", "name": f"住户{i}", "phone": f"1380000000{i}",
                        "address": f"经十路{i}号", "compound": "绿景小区", "street": "经十路",
                        "channels": ["sms"]} for i in range(n)],
    }


def test_lead_time_refusal_is_a_422_problem_and_supervisor_overrides(
        wired: tuple[TestClient[Litestar], Services, SteppingClock]) -> None:
    client, _, clock = wired
    disp, sup = bearer(TOKENS["dispatcher"]), bearer(TOKENS["supervisor"])
    created = client.post("/api/v1/outages", json=body(clock, 10), headers=disp)
    assert created.status_code == 201, created.text
    oid = created.json()["id"]
    refused = client.post(f"/api/v1/outages/{oid}/announce", json={}, headers=disp)
    assert refused.status_code == 422
    assert refused.headers["content-type"].startswith("application/problem+json")
    problem = refused.json()
    assert problem["type"].endswith("/lead-time-too-short")
    assert problem["required_lead_h"] == 48.0  # the strict profile: LC asks 48 h
    forbidden = client.post(f"/api/v1/outages/{oid}/announce",
                            json={"override_reason": "抢修前置"}, headers=disp)
    assert forbidden.status_code == 403
    assert forbidden.json()["type"].endswith("/override-needs-supervisor")
    ok = client.post(f"/api/v1/outages/{oid}/announce",
                     json={"override_reason": "抢修前置"}, headers=sup)
    assert ok.status_code == 200
    assert ok.json()["override_reason"] == "抢修前置"
    assert ok.json()["override_by"]
    assert ok.json()["state"] == "announced"
    crew = client.post(f"/api/v1/outages/{oid}/announce", json={},
                       headers=bearer(TOKENS["crew_a"]))
    assert_problem(crew, 403, "forbidden")


def test_notices_flow_to_the_gateway_and_the_report_proves_it(
        wired: tuple[TestClient[Litestar], Services, SteppingClock],
        gateway: Gateway) -> None:
    client, svc, clock = wired
    disp = bearer(TOKENS["dispatcher"])
    oid = client.post("/api/v1/outages", json=body(clock, 50), headers=disp).json()["id"]
    assert client.post(f"/api/v1/outages/{oid}/announce", json={},
                       headers=disp).json()["state"] == "announced"
    summary = svc.outages.worker().drain()
    assert summary.sent == 3
    assert sorted(gateway.recipients("/sms/", "phone")) == [
        "13800000000", "13800000001", "13800000002"]
    msg_id = gateway.bodies("/sms/")[0]["msg_id"]
    dlr = client.post("/api/v1/outages/receipts", json={"msg_id": msg_id}, headers=disp)
    assert dlr.status_code == 200
    assert dlr.json()["delivered_at"] is not None
    report = client.get(f"/api/v1/outages/{oid}/report", headers=disp).json()
    assert report["notices"][0]["notified"] == 3
    assert report["notices"][0]["late"] == 0
    csv_text = client.get(f"/api/v1/outages/{oid}/report.csv", headers=disp)
    assert csv_text.headers["content-type"] == "text/csv; charset=utf-8"
    assert csv_text.content.startswith(b"\xef\xbb\xbf")
    assert len(csv_text.text.strip().splitlines()) == 4
    feed = client.get("/api/v1/public/outages/feed.geojson")
    assert feed.status_code == 200
    assert feed.json()["features"][0]["id"] == oid
    ics = client.get("/api/v1/public/outages/feed.ics")
    assert ics.headers["content-type"].startswith("text/calendar")
    assert len(icalendar.Calendar.from_ical(ics.content).walk("VEVENT")) == 1


def test_unknown_outage_is_404_and_bad_times_400(
        wired: tuple[TestClient[Litestar], Services, SteppingClock]) -> None:
    client, _, clock = wired
    disp = bearer(TOKENS["dispatcher"])
    missing = client.get("/api/v1/outages/OUT-nope", headers=disp)
    assert missing.status_code == 404
    assert missing.json()["type"].endswith("/outage-not-found")
    bad = body(clock, 50)
    bad["expected_restoration_at"] = bad["start_at"]
    wrong = client.post("/api/v1/outages", json=bad, headers=disp)
    assert wrong.status_code == 400
    assert wrong.json()["type"].endswith("/bad-outage")


def test_sms_cost_is_shown_before_announcing(
        wired: tuple[TestClient[Litestar], Services, SteppingClock]) -> None:
    client, _, clock = wired
    disp = bearer(TOKENS["dispatcher"])
    oid = client.post("/api/v1/outages", json=body(clock, 72, n=4), headers=disp).json()["id"]
    cost = client.get(f"/api/v1/outages/{oid}/sms-cost", headers=disp)
    assert cost.status_code == 200, cost.text
    c = cost.json()
    assert c["text"].startswith("【城市供水】停水通知")
    assert c["sms_recipients"] == 4  # every recipient prefers SMS
    assert c["messages"] == 4 * c["segments"]
    assert c["segments"] == -(-len(c["text"]) // 67)
    assert_problem(client.get("/api/v1/outages/nope/sms-cost", headers=disp),
                   404, "outage-not-found")
    assert_problem(client.get(f"/api/v1/outages/{oid}/sms-cost",
                              headers=bearer(TOKENS["crew_a"])), 403, "forbidden")
