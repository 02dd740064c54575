"""Issue 15: every list answers the same envelope and pages the same way.

For each list endpoint: ``{"items", "next_cursor", "next"}``; following ``next`` one row
at a time yields exactly the rows of one big page, in the same order; a forged cursor is
a 400 problem. The demo data plus a few rows made here give each list several items:
an outage of customers with no phone (door tasks) announced and delayed (notices), work
orders whose deadlines pass (the console's overdue list, their history).
"""

from __future__ import annotations

import base64
from datetime import timedelta
from typing import Any

import pytest
from litestar import Litestar
from litestar.testing import TestClient

from server.clock import SteppingClock
from server.services import Services
from tests.factories import TOKENS, assert_problem, bearer

pytestmark = pytest.mark.integration

ADMIN = bearer(TOKENS["admin"])
SUPERVISOR = bearer(TOKENS["supervisor"])

#: (path with its filters, who asks); each is one of the API's lists
LISTS = [
    ("/api/v1/users", ADMIN),
    ("/api/v1/crews", ADMIN),
    ("/api/v1/workorders?type=burst_repair", SUPERVISOR),
    ("/api/v1/workorders?overdue=true", SUPERVISOR),
    ("/api/v1/customers", SUPERVISOR),
    ("/api/v1/tickets", SUPERVISOR),
    ("/api/v1/complaints", SUPERVISOR),
    ("/api/v1/connections", SUPERVISOR),
    ("/api/v1/connections/overdue", SUPERVISOR),
    ("/api/v1/service-info", SUPERVISOR),
    ("/api/v1/outages", SUPERVISOR),
    ("/api/v1/alerts", SUPERVISOR),
    ("/api/v1/deadlines/overdue", SUPERVISOR),
    ("/api/v1/deadlines/reminders", SUPERVISOR),
    ("/api/v1/sync/reviews?open=false", SUPERVISOR),
    # the lists of one record ({outage}, {wo}: made by ``populated``)
    ("/api/v1/outages/{outage}/tasks", SUPERVISOR),
    ("/api/v1/outages/{outage}/notices", SUPERVISOR),
    ("/api/v1/console/outages/{outage}/door-tasks", SUPERVISOR),
    ("/api/v1/console/overdue", SUPERVISOR),
    ("/api/v1/workorders/{wo}/history", SUPERVISOR),
    # walked over a tablet's evidence in tests/integration/console/test_console_api.py
    ("/api/v1/console/workorders/{wo}/evidence", SUPERVISOR),
    ("/api/v1/fieldwork/{wo}/notices", SUPERVISOR),
]
#: lists ``populated`` gives at least two items, so walking them pages for real
SEVERAL = {p for p, _ in LISTS[-7:-2]}


def _key(item: dict[str, Any]) -> str:
    return str(item.get("id", item.get("item_id", item)))


@pytest.fixture
def populated(client: TestClient[Litestar], clock: SteppingClock,
              services: Services) -> tuple[TestClient[Litestar], dict[str, str]]:
    """A few rows in the lists the demo leaves short, then a day later (deadlines due);
    the ids of the outage and order whose own lists are paged."""
    dispatcher = bearer(TOKENS["dispatcher"])
    start = clock() + timedelta(hours=1)
    outage = client.post("/api/v1/outages", headers=dispatcher, json={
        "kind": "emergency", "cause": "爆管", "start_at": start.isoformat(),
        "expected_restoration_at": (start + timedelta(hours=4)).isoformat(),
        "recipients": [{"customer_id": f"P{i}", "name": f"住户{i}", "address": f"经十路{i}号",
                        "compound": "绿景小区", "street": "经十路", "channels": []}
                       for i in range(4)]})
    assert outage.status_code == 201, outage.text
    oid = outage.json()["id"]
    r = client.post(f"/api/v1/outages/{oid}/announce", json={}, headers=dispatcher)
    assert r.status_code == 200, r.text
    services.outages.worker().drain()  # no phone, no WeChat: a door task each
    r = client.post(f"/api/v1/outages/{oid}/delay", headers=dispatcher, json={
        "expected_restoration_at": (start + timedelta(hours=6)).isoformat(),
        "reason": "管件未到"})
    assert r.status_code == 200, r.text
    orders = []
    for i in range(3):
        clock.advance(seconds=5)
        r = client.post("/api/v1/workorders", headers=SUPERVISOR, json={
            "type": "burst_repair", "crew_id": "crew-a", "pipe_diameter_mm": 300,
            "location": {"type": "Point", "coordinates": [117.001 + i / 1000, 36.651]}})
        assert r.status_code == 201, r.text
        orders.append(r.json()["id"])
        r = client.post("/api/v1/service-info", headers=SUPERVISOR, json={
            "category": "prices", "title": f"水价调整 {i}"})
        assert r.status_code in (200, 201), r.text
    clock.advance(days=2)
    scan = client.post("/api/v1/deadlines/scan", headers=SUPERVISOR)
    assert scan.status_code == 200, scan.text
    r = client.post(f"/api/v1/workorders/{orders[0]}/transitions", headers=SUPERVISOR,
                    json={"to": "cancelled", "reason": "重复报修"})
    assert r.status_code == 200, r.text
    return client, {"outage": oid, "wo": orders[0]}


@pytest.mark.parametrize(("path", "headers"), LISTS, ids=[p for p, _ in LISTS])
def test_every_list_pages_the_same_way(populated: tuple[TestClient[Litestar], dict[str, str]],
                                       path: str, headers: dict[str, str]) -> None:
    client, ids = populated
    several = path in SEVERAL
    path = path.format(**ids)
    sep = "&" if "?" in path else "?"
    whole = client.get(f"{path}{sep}limit=500", headers=headers)
    assert whole.status_code == 200, whole.text
    everything = whole.json()
    assert {"items", "next_cursor", "next"} <= set(everything)
    assert everything["next_cursor"] is None
    assert everything["next"] is None
    walked: list[dict[str, Any]] = []
    url: str | None = f"{path}{sep}limit=1"
    pages = 0
    while url is not None:
        r = client.get(url, headers=headers)
        assert r.status_code == 200, r.text
        page = r.json()
        assert len(page["items"]) <= 1
        assert (page["next"] is None) == (page["next_cursor"] is None)
        walked += page["items"]
        url = page["next"]
        pages += 1
        assert pages <= len(everything["items"]) + 1  # it ends
    assert [_key(i) for i in walked] == [_key(i) for i in everything["items"]]
    assert len(walked) >= 2 or not several, "too short a list to show paging"


@pytest.mark.parametrize(("path", "headers"), LISTS, ids=[p for p, _ in LISTS])
def test_a_forged_cursor_is_a_400_problem(request: pytest.FixtureRequest, path: str,
                                          headers: dict[str, str]) -> None:
    # the lists of one record need that record (else a 404 before the cursor is read)
    client: TestClient[Litestar]
    if "{" in path:
        client, ids = request.getfixturevalue("populated")
        path = path.format(**ids)
    else:
        client = request.getfixturevalue("client")
    sep = "&" if "?" in path else "?"
    r = client.get(f"{path}{sep}cursor=%%%not-ours", headers=headers)
    assert_problem(r, 400, "bad-input")
    assert r.headers["content-type"].startswith("application/problem+json")
    # well-formed base64 of a key with a NUL in each part count a list uses: PostgreSQL
    # refuses NUL in a text parameter, so this was a 500 there
    for parts in (1, 2, 3):
        nul = base64.urlsafe_b64encode("|".join(["a\x00"] * parts).encode()).decode()
        assert_problem(client.get(f"{path}{sep}cursor={nul}", headers=headers), 400,
                       "bad-input")
