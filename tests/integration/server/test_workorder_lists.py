"""The work-order list (issue 19): rows encoded from the store are the records, the
``next`` link walks every order once, overdue comes from the stored ``next_due_at``, and
each filter is answered by an index (EXPLAIN QUERY PLAN on SQLite, EXPLAIN on PostgreSQL).
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import msgspec
import pytest
from litestar import Litestar
from litestar.testing import TestClient

from notifications.model import TaskKind
from server.clock import SteppingClock
from server.services import Services
from server.workorders.model import Status, WorkOrderPage, WorkOrderType
from server.workorders.store import Filters
from tests.factories import TOKENS, bearer
from tests.plans import assert_index_range, is_pg, query_plan

pytestmark = pytest.mark.integration

DISPATCH = bearer(TOKENS["dispatcher"])
CREW_A = bearer(TOKENS["crew_a"])


def _order(crew: str = "crew-a", kind: str = "burst_repair") -> dict[str, Any]:
    return {"type": kind, "location": {"type": "Point", "coordinates": [117.001, 36.651]},
            "crew_id": crew, "pipe_diameter_mm": 600, "priority": 1}


def _walk(client: TestClient[Litestar], url: str,
          headers: dict[str, str]) -> Iterator[dict[str, Any]]:
    """Every page from ``url`` on, following ``next``."""
    next_url: str | None = url
    while next_url is not None:
        r = client.get(next_url, headers=headers)
        assert r.status_code == 200, r.text
        page = r.json()
        assert set(page) == {"items", "next_cursor", "next"}
        assert (page["next"] is None) == (page["next_cursor"] is None)
        yield page
        next_url = page["next"]


def test_a_listed_order_is_the_order_read_by_id(
        client: TestClient[Litestar], clock: SteppingClock) -> None:
    ids = []
    for _ in range(3):
        clock.advance(seconds=7)
        ids.append(client.post("/api/v1/workorders", json=_order(),
                               headers=DISPATCH).json()["id"])
    # one order moves on and meets its arrival deadline, one is left to run late
    for to in ("en_route", "on_site"):
        r = client.post(f"/api/v1/workorders/{ids[0]}/transitions", json={"to": to},
                        headers=CREW_A)
        assert r.status_code == 200, r.text
    clock.advance(hours=30)
    r = client.get("/api/v1/workorders?type=burst_repair&limit=500", headers=DISPATCH)
    assert r.headers["content-type"].startswith("application/json")
    page = msgspec.json.decode(r.content, type=WorkOrderPage)  # the documented type
    listed = {w["id"]: w for w in r.json()["items"]}
    assert set(ids) <= set(listed)
    for wo_id in ids:
        one = client.get(f"/api/v1/workorders/{wo_id}", headers=DISPATCH).json()
        assert listed[wo_id] == one
    late = next(w for w in page.items if w.id == ids[1])
    assert any(d.overdue and d.met_at is None for d in late.deadlines)


def test_next_links_walk_every_order_once_with_the_filters_kept(
        client: TestClient[Litestar], clock: SteppingClock) -> None:
    mine = []
    for i in range(7):
        clock.advance(seconds=1)
        body = _order(crew="crew-a" if i % 2 else "crew-b")
        wo = client.post("/api/v1/workorders", json=body, headers=DISPATCH).json()
        if body["crew_id"] == "crew-a":
            mine.append(wo["id"])
    pages = list(_walk(client, "/api/v1/workorders?crew_id=crew-a&type=burst_repair&limit=2",
                       DISPATCH))
    seen = [w["id"] for p in pages for w in p["items"]]
    assert len(pages) >= 2
    assert all("crew_id=crew-a" in p["next"] for p in pages[:-1])
    assert len(seen) == len(set(seen))
    assert set(mine) <= set(seen)
    assert all(w["crew_id"] == "crew-a" for p in pages for w in p["items"])


def test_overdue_lists_exactly_the_orders_with_a_deadline_not_met_in_time(
        client: TestClient[Litestar], clock: SteppingClock) -> None:
    early, met, late, cancelled = (
        client.post("/api/v1/workorders", json=_order(), headers=DISPATCH).json()["id"]
        for _ in range(4))

    def move(wo_id: str, *steps: str) -> None:
        for to in steps:
            r = client.post(f"/api/v1/workorders/{wo_id}/transitions",
                            json={"to": to, "reason": "duplicate report"},
                            headers=DISPATCH if to == "cancelled" else CREW_A)
            assert r.status_code == 200, r.text

    move(met, "en_route", "on_site")  # arrival met in time
    move(cancelled, "cancelled")
    mine = {early, met, late, cancelled}

    def overdue_ids() -> set[str]:  # of this test's orders (the demo data has its own)
        return mine & {w["id"] for p in _walk(
            client, "/api/v1/workorders?overdue=true&limit=1", DISPATCH) for w in p["items"]}

    assert overdue_ids() == set()
    clock.advance(hours=30)  # past the arrival limit
    move(late, "en_route", "on_site")  # arrival met, but late: it stays overdue
    assert overdue_ids() == {early, late}
    for wo_id in mine:  # the list agrees with each order's own deadlines
        one = client.get(f"/api/v1/workorders/{wo_id}", headers=DISPATCH).json()
        assert any(d["overdue"] for d in one["deadlines"]) == (wo_id in {early, late})


def test_a_cursor_of_the_other_order_or_a_forged_one_is_a_400(
        client: TestClient[Litestar], clock: SteppingClock) -> None:
    for _ in range(3):
        client.post("/api/v1/workorders", json=_order(), headers=DISPATCH)
    clock.advance(hours=30)
    newest = client.get("/api/v1/workorders?limit=1", headers=DISPATCH).json()
    for bad in (newest["next_cursor"], "not-a-cursor", "eHh4"):
        r = client.get(f"/api/v1/workorders?overdue=true&cursor={bad}", headers=DISPATCH)
        assert r.status_code == 400, r.text
        assert r.headers["content-type"].startswith("application/problem+json")
        assert r.json()["type"].endswith("/bad-input")


# -- plans -------------------------------------------------------------------------------

@pytest.mark.parametrize(("filters", "index"), [
    (Filters(crew_id="crew-a", type=WorkOrderType.BURST_REPAIR, status=Status.ASSIGNED),
     "work_orders_crew_type_status"),
    (Filters(crew_id="crew-a"), "work_orders_crew"),
    (Filters(), "work_orders_created"),
])
def test_filtered_pages_read_an_index_in_its_order(services: Services, filters: Filters,
                                                    index: str) -> None:
    sql, params = services.workorders.store.page_sql(filters)
    plan = assert_index_range(services, sql, params, index)
    if not is_pg(services):
        assert "SCAN w\n" not in plan + "\n", plan


@pytest.mark.parametrize(("filters", "index"), [
    (Filters(), "work_orders_next_due"),
    (Filters(crew_id="crew-a"), "work_orders_crew_next_due"),
])
def test_overdue_pages_are_a_range_of_the_next_due_index(
        services: Services, clock: SteppingClock, filters: Filters, index: str) -> None:
    f = msgspec.structs.replace(filters, overdue_at=clock() + timedelta(days=1))
    sql, params = services.workorders.store.page_sql(f)
    plan = query_plan(services, sql, params)
    assert index in plan, plan
    assert "work_order_deadlines" not in sql  # no look at the deadlines at all
    if is_pg(services):
        assert "Seq Scan" not in plan, plan
        assert "Sort" not in plan, plan
    else:
        assert "TEMP B-TREE" not in plan, plan


def test_timeliness_reads_the_deadline_index_alone(services: Services,
                                                   clock: SteppingClock) -> None:
    sql, params = services.workorders.store.timeliness_sql(None, clock(), None)
    plan = query_plan(services, sql, params)
    assert "wod_timeliness" in plan, plan
    if is_pg(services):
        assert "Index Only Scan" in plan, plan
    else:
        assert "COVERING INDEX wod_timeliness" in plan, plan
        assert "TEMP B-TREE" not in plan, plan


def test_no_guard_is_sent_through_the_thread_pool(services: Services,
                                                  clock: SteppingClock) -> None:
    """Issue 19: a plain ``def`` guard costs a thread-pool hop on every request."""
    import inspect

    from litestar.handlers import HTTPRouteHandler

    from server.app import create_app

    app = create_app(services.settings, clock=clock, services=services)
    guards = [g for route in app.routes for h in getattr(route, "route_handlers", ())
              if isinstance(h, HTTPRouteHandler) for g in h.resolve_guards()]
    assert guards
    assert all(inspect.iscoroutinefunction(g) for g in guards), [
        g for g in guards if not inspect.iscoroutinefunction(g)]


@pytest.mark.parametrize("cursor", [False, True])
def test_the_consoles_overdue_page_is_a_range_of_the_open_deadline_index(
        services: Services, clock: SteppingClock, cursor: bool) -> None:
    after = ("2026-11-23T00:00:00.000000Z", "wo", "rule") if cursor else None
    sql, params = services.workorders.store.overdue_deadline_sql(
        Filters(limit=50), clock() + timedelta(days=1), after)
    plan = query_plan(services, sql, params)
    assert "wod_open_due_order" in plan, plan
    if is_pg(services):
        assert "Seq Scan" not in plan, plan
        assert "Sort" not in plan, plan
    else:
        assert "TEMP B-TREE" not in plan, plan


@pytest.mark.parametrize(("kind", "index"), [
    (None, "outage_tasks_outage_order"),
    (TaskKind.DOOR_NOTICE, "outage_tasks_kind_order"),
])
def test_an_outages_task_page_is_a_range_of_an_index_in_its_order(
        services: Services, kind: TaskKind | None, index: str) -> None:
    sql, params = services.outages.store.task_page_sql(
        "OUT-1", kind, ("2026-11-23T00:00:00.000000Z", "T-1"), 101)
    assert_index_range(services, sql, params, index)
