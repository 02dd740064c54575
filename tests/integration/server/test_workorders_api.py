"""Work orders over HTTP: lifecycle, deadlines on server time, overdue, stats, audit, sync log."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from litestar import Litestar
from litestar.testing import TestClient

from server.clock import SteppingClock
from server.services import Services
from tests.factories import TOKENS, assert_problem, bearer
from tests.integration.fieldwork.kit import file_required_evidence

pytestmark = pytest.mark.integration

DISPATCH = bearer(TOKENS["dispatcher"])
CREW_A = bearer(TOKENS["crew_a"])
SUPERVISOR = bearer(TOKENS["supervisor"])
BURST = {"type": "burst_repair", "location": {"type": "Point", "coordinates": [117.001, 36.651]},
         "crew_id": "crew-a", "pipe_diameter_mm": 600, "priority": 1}


def _move(client: TestClient[Litestar], wo_id: str, to: str, headers: dict[str, str],
          **extra: object) -> dict[str, Any]:
    r = client.post(f"/api/v1/workorders/{wo_id}/transitions", json={"to": to, **extra},
                    headers=headers)
    assert r.status_code == 200, r.text
    body: dict[str, Any] = r.json()
    return body


def test_burst_repair_walk_meets_its_deadlines_on_server_time(
        client: TestClient[Litestar], clock: SteppingClock,
        services: Services) -> None:
    wo = client.post("/api/v1/workorders", json=BURST, headers=DISPATCH).json()
    assert wo["status"] == "assigned"
    assert wo["number"].startswith("WO20261123-")
    rules = {d["rule"]: d for d in wo["deadlines"]}
    assert set(rules) == {"burst_arrival", "burst_restore_large"}
    clock.advance(minutes=10)
    _move(client, wo["id"], "en_route", CREW_A)
    clock.advance(minutes=15)
    # the tablet's clock is an hour off: kept as data, never used for the deadline
    on_site = _move(client, wo["id"], "on_site", CREW_A,
                    device_time="2026-11-23T00:25:00Z")
    arrival = next(d for d in on_site["deadlines"] if d["rule"] == "burst_arrival")
    assert arrival["met_at"] is not None
    assert arrival["overdue"] is False
    _move(client, wo["id"], "in_progress", CREW_A)
    # the field steps' evidence (tests/integration/fieldwork walk them in detail)
    crew = services.accounts.authenticate(TOKENS["crew_a"])
    assert crew is not None
    file_required_evidence(services, wo["id"], crew)
    clock.advance(hours=50)
    done = _move(client, wo["id"], "completed", CREW_A)
    restore = next(d for d in done["deadlines"] if d["rule"] == "burst_restore_large")
    assert restore["overdue"] is True
    verified = _move(client, wo["id"], "verified", SUPERVISOR)
    assert verified["closed_at"] is not None
    assert verified["version"] == done["version"] + 1
    history = client.get(f"/api/v1/workorders/{wo['id']}/history",
                         headers=SUPERVISOR).json()["items"]
    actions = [h["action"] for h in history]
    assert actions[0] == "create"
    assert actions[-1] == "status:completed->verified"
    on_site_entry = next(h for h in history if h["action"] == "status:en_route->on_site")
    assert on_site_entry["device_time"].startswith("2026-11-23T00:25:00")
    assert on_site_entry["server_time"].startswith("2026-11-23T01:25:00")
    assert on_site_entry["device_id"] is None  # device ids are for admins only
    assert on_site_entry["actor_user_id"] == "crew-a-zhang"
    admin_view = client.get(f"/api/v1/workorders/{wo['id']}/history",
                            headers=bearer(TOKENS["admin"])).json()["items"]
    assert next(h for h in admin_view if h["action"] == "status:en_route->on_site")["device_id"]


def test_overdue_filter_and_timeliness_rate(
        client: TestClient[Litestar], clock: SteppingClock) -> None:
    late = client.post("/api/v1/workorders", json=BURST, headers=DISPATCH).json()
    quick = client.post("/api/v1/workorders", json=BURST, headers=DISPATCH).json()
    _move(client, quick["id"], "en_route", CREW_A)
    _move(client, quick["id"], "on_site", CREW_A)
    clock.advance(minutes=31)
    overdue = client.get("/api/v1/workorders?overdue=true&type=burst_repair",
                         headers=DISPATCH).json()
    ids = {w["id"] for w in overdue["items"]}
    assert late["id"] in ids
    assert quick["id"] not in ids
    report = client.get("/api/v1/stats/timeliness", headers=SUPERVISOR).json()
    arrival = next(r for r in report["rules"] if r["rule"] == "burst_arrival")
    # the demo district's own burst order is late too
    assert (arrival["decided"], arrival["on_time"], arrival["open_overdue"]) == (3, 1, 2)
    assert report["target"] == 0.97
    assert report["meets_target"] is False


def test_cancelled_orders_do_not_count_against_timeliness(
        client: TestClient[Litestar], clock: SteppingClock) -> None:
    def arrivals_decided() -> int:
        report = client.get("/api/v1/stats/timeliness", headers=SUPERVISOR).json()
        return sum(r["decided"] for r in report["rules"] if r["rule"] == "burst_arrival")

    clock.advance(hours=3)
    baseline = arrivals_decided()
    cancelled = client.post("/api/v1/workorders", json=BURST, headers=DISPATCH).json()
    client.post("/api/v1/workorders", json=BURST, headers=DISPATCH)
    _move(client, cancelled["id"], "cancelled", DISPATCH, reason="duplicate report")
    clock.advance(hours=3)
    assert arrivals_decided() == baseline + 1


def test_reassignment_moves_the_order_between_crew_scopes(
        client: TestClient[Litestar], services: Services) -> None:
    wo = client.post("/api/v1/workorders",
                     json={**BURST, "type": "meter_replacement", "customer_id": "cust-00007"},
                     headers=DISPATCH).json()
    r = client.post(f"/api/v1/workorders/{wo['id']}/assignment",
                    json={"crew_id": "crew-b", "reason": "crew-a busy"}, headers=DISPATCH)
    assert r.status_code == 200
    assert r.json()["crew_id"] == "crew-b"
    rows = services.db.execute(
        "SELECT entity, op, scope FROM changes WHERE entity_id IN (?, ?) ORDER BY seq",
        [wo["id"], "cust-00007"]).fetchall()
    assert ("work_order", "remove", "crew:crew-a") in rows
    assert ("work_order", "upsert", "crew:crew-b") in rows
    assert ("customer", "upsert", "crew:crew-b") in rows
    assert_problem(client.get(f"/api/v1/workorders/{wo['id']}", headers=CREW_A), 403,
                   "out-of-scope")


def test_paging_walks_every_order_once(client: TestClient[Litestar], clock: SteppingClock) -> None:
    created = []
    for _ in range(7):
        clock.advance(seconds=1)
        created.append(client.post("/api/v1/workorders", json=BURST, headers=DISPATCH).json()["id"])
    everything = client.get("/api/v1/workorders?limit=500&type=burst_repair",
                            headers=DISPATCH).json()
    assert everything["next_cursor"] is None
    seen: list[str] = []
    url = "/api/v1/workorders?limit=3&type=burst_repair"
    cursor = None
    while True:
        page = client.get(url + (f"&cursor={cursor}" if cursor else ""), headers=DISPATCH).json()
        seen += [w["id"] for w in page["items"]]
        cursor = page["next_cursor"]
        if not cursor:
            break
    assert len(seen) == len(set(seen))  # no order twice
    assert set(created) <= set(seen)
    assert sorted(seen) == sorted(w["id"] for w in everything["items"])  # none left out


def test_working_day_deadline_for_a_removal_spans_the_weekend(
        services: Services, clock: SteppingClock) -> None:
    clock.advance(days=4)  # Friday
    from server.workorders.model import Actor, WorkOrderType
    from tests.factories import order_in

    wo = services.workorders.create(Actor(user_id="disp-wang"),
                                    order_in(WorkOrderType.METER_REMOVAL))
    removal = next(d for d in wo.deadlines if d.rule == "meter_removal")
    assert removal.due_at - removal.starts_at == timedelta(days=2)


def _pull_all(client: TestClient[Litestar], cursor: str | None) -> tuple[
        dict[str, dict[str, Any]], str | None]:
    """Crew A's pulls from ``cursor`` to the end: the work orders upserted, the cursor."""
    orders: dict[str, dict[str, Any]] = {}
    for _ in range(50):
        r = client.post("/api/v1/sync/pull", json={"cursor": cursor, "limit": 200},
                        headers=CREW_A)
        assert r.status_code == 200, r.text
        page = r.json()
        orders.update({row["id"]: row for row in page["upserts"]
                       if row["entity"] == "work_order"})
        cursor = page["cursor"]
        if not page["more"]:
            return orders, cursor
    raise AssertionError("the pull never ended")


def test_the_inspection_on_site_reaches_the_crews_tablet(client: TestClient[Litestar]) -> None:
    """LC §30's clock met by the dispatcher is part of the order the crew holds offline."""
    wo = client.post("/api/v1/workorders", json={**BURST, "crew_id": "crew-a",
                                                 "fields": {"third_party_damage": True}},
                     headers=DISPATCH).json()
    _, cursor = _pull_all(client, None)
    r = client.post(f"/api/v1/workorders/{wo['id']}/inspection-on-site", headers=DISPATCH)
    assert r.status_code == 200, r.text
    pulled, _ = _pull_all(client, cursor)
    assert wo["id"] in pulled
    arrival = next(d for d in pulled[wo["id"]]["data"]["deadlines"]
                   if d["rule"] == "third_party_damage_arrival")
    assert arrival["met_at"] is not None
