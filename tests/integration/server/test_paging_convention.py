"""Issue 15: every list answers the same envelope and pages the same way.

For each list endpoint: ``{"items", "next_cursor", "next"}``; following ``next`` one row
at a time yields exactly the rows of one big page, in the same order; a forged cursor is
a 400 problem. The demo data plus a few rows made here give each list several items.
"""

from __future__ import annotations

from typing import Any

import pytest
from litestar import Litestar
from litestar.testing import TestClient

from server.clock import SteppingClock
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
]


def _key(item: dict[str, Any]) -> str:
    return str(item.get("id", item.get("item_id", item)))


@pytest.fixture
def populated(client: TestClient[Litestar], clock: SteppingClock) -> TestClient[Litestar]:
    """A few rows in the lists the demo leaves short, then a day later (deadlines due)."""
    for i in range(3):
        clock.advance(seconds=5)
        r = client.post("/api/v1/workorders", headers=SUPERVISOR, json={
            "type": "burst_repair", "crew_id": "crew-a", "pipe_diameter_mm": 300,
            "location": {"type": "Point", "coordinates": [117.001 + i / 1000, 36.651]}})
        assert r.status_code == 201, r.text
        r = client.post("/api/v1/service-info", headers=SUPERVISOR, json={
            "category": "prices", "title": f"水价调整 {i}"})
        assert r.status_code in (200, 201), r.text
    clock.advance(days=2)
    scan = client.post("/api/v1/deadlines/scan", headers=SUPERVISOR)
    assert scan.status_code == 200, scan.text
    return client


@pytest.mark.parametrize(("path", "headers"), LISTS, ids=[p for p, _ in LISTS])
def test_every_list_pages_the_same_way(populated: TestClient[Litestar], path: str,
                                       headers: dict[str, str]) -> None:
    client = populated
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


@pytest.mark.parametrize(("path", "headers"), LISTS, ids=[p for p, _ in LISTS])
def test_a_forged_cursor_is_a_400_problem(client: TestClient[Litestar], path: str,
                                          headers: dict[str, str]) -> None:
    sep = "&" if "?" in path else "?"
    r = client.get(f"{path}{sep}cursor=%%%not-ours", headers=headers)
    assert_problem(r, 400, "bad-input")
    assert r.headers["content-type"].startswith("application/problem+json")
