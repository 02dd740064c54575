"""A crew's tablet receives the pipe network around its work orders through the pull."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from litestar import Litestar
from litestar.testing import TestClient
from pyproj import Transformer
from shapely.geometry import LineString, Point

from geo.model import IsolationRequest
from server.accounts.model import Principal
from server.app import create_app
from server.services import Services
from server.workorders.model import Actor, WorkOrderType
from tests.factories import TOKENS, bearer, make_clock, make_services, order_in

pytestmark = pytest.mark.integration


RADIUS_M = 150.0
#: Jinan's Gauss-Kruger zone (CGCS2000 / 3-degree GK CM 117E): metres, for true distances
TO_METRES = Transformer.from_crs("EPSG:4326", "EPSG:4548", always_xy=True)


def metric(coords: list[tuple[float, float]]) -> list[tuple[float, float]]:
    return [TO_METRES.transform(lon, lat) for lon, lat in coords]


def test_first_sync_brings_exactly_the_network_near_the_crews_orders(tmp_path: Path) -> None:
    clock = make_clock()
    svc = make_services(str(tmp_path), clock, sync_network_radius_m=RADIUS_M)
    with TestClient(create_app(svc.settings, clock=clock, services=svc)) as client:
        synced: dict[str, set[str]] = {}
        cursor, more = None, True
        for _ in range(200):
            page = client.post("/api/v1/sync/pull", json={"cursor": cursor, "limit": 20},
                               headers=bearer(TOKENS["crew_a"])).json()
            for row in page["upserts"]:
                synced.setdefault(row["entity"], set()).add(row["id"])
            cursor, more = page["cursor"], page["more"]
            if not more:
                break
        assert not more  # every page was read, not only the first
        orders = client.get("/api/v1/workorders", params={"limit": 500},
                            headers=bearer(TOKENS["crew_a"])).json()["items"]
    open_points = [Point(metric([tuple(o["location"]["coordinates"])])[0]) for o in orders
                   if o["status"] not in ("verified", "cancelled")
                   and o["location"]["type"] == "Point"]
    assert open_points
    distance = {p.id: min(LineString(metric(p.coords)).distance(q) for q in open_points)
                for p in svc.network.store.load_network().pipes}
    svc.close()
    near = {pid for pid, d in distance.items() if d <= RADIUS_M}
    far = {pid for pid, d in distance.items() if d > 2 * RADIUS_M}
    # the test is only meaningful on a network with pipes on both sides of the radius
    assert near
    assert far
    assert near <= synced["pipe"]  # nothing within the radius is missing
    assert not far & synced["pipe"]  # nothing well outside it leaks onto the tablet
    assert synced["valve"]
    assert synced["node"]


def test_a_burst_orders_isolation_plan_reaches_the_crew_with_its_plan_b(
        client: TestClient[Litestar], services: Services) -> None:
    dispatcher = Actor(user_id="disp-wang", role="dispatcher")
    wo = services.workorders.create(dispatcher, order_in(WorkOrderType.BURST_REPAIR))
    plan = services.network.isolate(IsolationRequest(pipe_ids=["P-R2-1"]))
    crew = services.accounts.authenticate(TOKENS["crew_a"])
    assert crew is not None
    services.fieldwork.bursts.attach_plan(_dispatcher(services), wo.id, plan.id)
    plans = {r["id"]: r["data"] for r in _pull_all(client, TOKENS["crew_a"])
             if r["entity"] == "isolation_plan"}
    synced = plans[wo.id]["plan"]
    assert synced["id"] == plan.id
    valves = synced["valves_to_close"]
    assert valves
    assert all("fallback" in v for v in valves)
    # crew B's whole first sync (every page, not only the first) carries no plan of A's
    other = _pull_all(client, TOKENS["crew_b"])
    assert other  # B's own orders and network did arrive
    assert [r["id"] for r in other if r["entity"] == "isolation_plan"] == []


def _pull_all(client: TestClient[Litestar], token: str) -> list[dict[str, Any]]:
    """Every upsert of a device's first sync, page by page until the server says done."""
    rows: list[dict[str, Any]] = []
    cursor = None
    for _ in range(200):
        page = client.post("/api/v1/sync/pull", json={"cursor": cursor, "limit": 50},
                           headers=bearer(token)).json()
        rows += page["upserts"]
        cursor = page["cursor"]
        if not page["more"]:
            return rows
    raise AssertionError("the pull never finished")


def _dispatcher(services: Services) -> Principal:
    """Dispatch attaches isolation plans (policy ``burst.attach_plan``)."""
    found = services.accounts.authenticate(TOKENS["dispatcher"])
    assert found is not None
    return found
