"""The desk over HTTP: roles, problem details, the public lookup, statistics as JSON/CSV."""

from __future__ import annotations

import csv
import io
from datetime import datetime, timedelta, timezone

import pytest
from litestar import Litestar
from litestar.testing import TestClient

from server.clock import SteppingClock
from tests.factories import TOKENS, assert_problem, bearer

pytestmark = pytest.mark.integration

API = "/api/v1"
DISPATCHER = bearer(TOKENS["dispatcher"])
SUPERVISOR = bearer(TOKENS["supervisor"])
CREW = bearer(TOKENS["crew_a"])


def test_ticket_lifecycle_over_http(client: TestClient[Litestar], clock: SteppingClock) -> None:
    r = client.post(f"{API}/tickets", headers=DISPATCHER, json={
        "channel": "operations_transfer", "category": "hydrant_fault", "title": "消火栓漏水",
        "unit": "管网所", "crew_id": "crew-a"})
    assert r.status_code == 201, r.text
    t = r.json()
    assert t["status"] == "received"
    assert {d["kind"] for d in t["deadlines"]} == {"transfer_accept", "handle"}
    clock.advance(minutes=10)
    r = client.post(f"{API}/tickets/{t['id']}/accept", headers=CREW, json={})
    assert r.status_code == 200
    assert r.json()["status"] == "accepted"
    r = client.post(f"{API}/tickets/{t['id']}/send-back", headers=CREW, json={"reason": "x"})
    assert_problem(r, 403, "forbidden")  # only the office sends back
    r = client.post(f"{API}/tickets/{t['id']}/reply", headers=CREW, json={"note": "已处理"})
    assert r.status_code == 200
    r = client.get(f"{API}/tickets", headers=SUPERVISOR, params={"status": "replied"})
    assert [i["id"] for i in r.json()["items"]] == [t["id"]]


def test_domain_errors_are_problem_details(client: TestClient[Litestar]) -> None:
    r = client.post(f"{API}/tickets", headers=DISPATCHER, json={
        "channel": "counter", "category": "hotline_general", "title": "x"})
    assert r.status_code == 422
    assert r.headers["content-type"].startswith("application/problem+json")
    assert r.json()["type"].endswith("/unknown-category")
    r = client.get(f"{API}/tickets/nope", headers=DISPATCHER)
    assert r.status_code == 404
    assert r.json()["type"].endswith("/ticket-not-found")
    r = client.post(f"{API}/tickets", headers=DISPATCHER, json={"channel": "fax"})
    assert_problem(r, 400, "validation-failed")


def test_extension_decision_needs_a_supervisor(client: TestClient[Litestar]) -> None:
    t = client.post(f"{API}/tickets", headers=DISPATCHER, json={
        "channel": "counter", "category": "meter_calibration", "title": "校表",
        "crew_id": "crew-a"}).json()
    due = datetime.fromisoformat(t["deadlines"][0]["due_at"].replace("Z", "+00:00"))
    later = (due + timedelta(days=1)).astimezone(timezone(timedelta(hours=8)))
    r = client.post(f"{API}/tickets/{t['id']}/extensions", headers=CREW,
                    json={"reason": "检定所排期", "new_due_at": later.isoformat()})
    assert r.status_code == 200, r.text
    ext = r.json()["extensions"][0]["id"]
    path = f"{API}/tickets/{t['id']}/extensions/{ext}/decision"
    assert_problem(client.post(path, headers=DISPATCHER, json={"approve": True}), 403, "forbidden")
    r = client.post(path, headers=SUPERVISOR, json={"approve": True})
    assert r.status_code == 200
    assert r.json()["extensions"][0]["status"] == "approved"


def test_public_complaint_lookup_needs_no_token_and_shows_nothing_personal(
        client: TestClient[Litestar]) -> None:
    c = client.post(f"{API}/complaints", headers=DISPATCHER, json={
        "channel": "web_wechat", "kind": "billing", "content": "水费异常", "phone": "13812345678",
        "target_unit": "营业所"}).json()
    assert_problem(client.post(f"{API}/complaints", headers=CREW, json={}), 403, "forbidden")
    r = client.get(f"{API}/public/complaints/{c['number']}", params={"phone_last4": "5678"})
    assert r.status_code == 200
    assert set(r.json()) == {"number", "status", "received_at", "contacted_at", "resolved_at",
                             "closed_at"}
    r = client.get(f"{API}/public/complaints/{c['number']}", params={"phone_last4": "1111"})
    assert r.status_code == 404
    assert r.json()["type"].endswith("/complaint-not-found")
    r = client.get(f"{API}/public/complaints/{c['number']}", params={"phone_last4": "12"})
    assert_problem(r, 400, "validation-failed")
    for _ in range(4):
        client.get(f"{API}/public/complaints/{c['number']}", params={"phone_last4": "2222"})
    r = client.get(f"{API}/public/complaints/{c['number']}", params={"phone_last4": "5678"})
    assert_problem(r, 429, "lookup-locked")


def test_service_statistics_as_json_and_csv(
        client: TestClient[Litestar], clock: SteppingClock) -> None:
    since = (clock() - timedelta(days=1)).isoformat()
    for minutes in (60, 180):  # one urgent ticket on time, one late
        t = client.post(f"{API}/tickets", headers=DISPATCHER, json={
            "channel": "counter", "category": "urgent", "title": "紧急", "unit": "管网所"}).json()
        clock.advance(minutes=minutes)
        client.post(f"{API}/tickets/{t['id']}/resolve", headers=DISPATCHER, json={})
    r = client.get(f"{API}/stats/service", headers=SUPERVISOR,
                   params={"since": since, "group_by": "unit"})
    assert r.status_code == 200
    row = next(x for x in r.json()["rows"]
               if x["source"] == "ticket" and x["rule"] == "ticket_urgent")
    assert (row["group"], row["decided"], row["achieved"], row["rate"]) == ("管网所", 2, 1, 0.5)
    assert row["target"] == 0.97
    assert row["meets_target"] is False
    r = client.get(f"{API}/stats/service/csv", headers=SUPERVISOR, params={"since": since})
    assert r.headers["content-type"] == "text/csv; charset=utf-8"
    assert r.content.startswith(b"\xef\xbb\xbf")  # the mark a Chinese Excel needs
    rows = list(csv.DictReader(io.StringIO(r.content.decode("utf-8-sig"))))
    assert any(x["rule"] == "ticket_urgent" and x["rate"] == "0.5000" for x in rows)
    r = client.get(f"{API}/stats/service", headers=CREW, params={"since": since})
    assert_problem(r, 403, "forbidden")
    r = client.get(f"{API}/stats/service", headers=SUPERVISOR,
                   params={"since": since, "group_by": "colour"})
    assert_problem(r, 400, "bad-ticket-input")


@pytest.mark.parametrize(("since", "until", "field", "value"), [
    ("0001-01-01T00:00:00+14:00", "2026-06-01T00:00:00Z", "since", "0001-01-01T00:00:00+14:00"),
    ("0900-01-01T00:00:00Z", "2026-06-01T00:00:00Z", "since", "0900-01-01T00:00:00+00:00"),
    ("2026-01-01T00:00:00+14:00", "9999-12-31T23:59:59-12:00", "until",
     "9999-12-31T23:59:59-12:00"),
])
def test_stats_period_out_of_range_names_the_field_and_value_sent(
        client: TestClient[Litestar], since: str, until: str, field: str, value: str) -> None:
    # checked as given, not after rounding to local days (which moved 0900-01-01T00:00Z
    # to 16:00Z in the answer)
    r = client.get(f"{API}/stats/service", headers=SUPERVISOR,
                   params={"since": since, "until": until})
    body = assert_problem(r, 422, "time-out-of-range")
    assert (body["field"], body["value"]) == (field, value)
    ok = client.get(f"{API}/stats/service", headers=SUPERVISOR, params={
        "since": "2026-12-31T00:00:00+14:00", "until": "2027-01-01T00:00:00-12:00"})
    assert ok.status_code == 200


def test_scan_and_overdue_over_http(client: TestClient[Litestar], clock: SteppingClock) -> None:
    t = client.post(f"{API}/tickets", headers=DISPATCHER, json={
        "channel": "counter", "category": "urgent", "title": "紧急", "unit": "管网所"}).json()
    clock.advance(hours=3)
    assert_problem(client.post(f"{API}/deadlines/scan", headers=CREW), 403, "forbidden")
    r = client.post(f"{API}/deadlines/scan", headers=SUPERVISOR)
    assert r.status_code == 200
    assert any(x["item_id"] == t["id"] and x["level"] == "escalate" for x in r.json()["reminders"])
    r = client.get(f"{API}/deadlines/overdue", headers=DISPATCHER)
    assert any(x["item_id"] == t["id"] for x in r.json()["items"])
    r = client.get(f"{API}/deadlines/reminders", headers=SUPERVISOR)
    assert any(x["item_id"] == t["id"] for x in r.json()["items"])
