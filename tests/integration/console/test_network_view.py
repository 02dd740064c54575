"""The console's network layers: a bounding box, and never more pipes than the bound.

A synthetic grid larger than ``MAP_PIPES_MAX`` replaces the demo network in a real SQLite
store (or PostgreSQL with ``WATEROPS_TEST_DATABASE_URL``); the expected answers are
counted here from the grid itself, not by the code under test.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any, Final

import pytest
from litestar.testing import TestClient

from geo.model import Network, Pipe
from server.app import create_app
from server.console.views import MAP_PIPES_MAX
from server.services import Services
from tests.factories import GRID_ORIGIN, GRID_STEP, assert_problem, bearer, grid_network

pytestmark = pytest.mark.integration

#: 75 * 40 nodes, 74 * 40 + 75 * 39 = 5885 pipes, ~90 x 110 m cells from (117.0, 36.6)
COLS: Final = 75
ROWS: Final = 40
STEP: Final = GRID_STEP
LON0, LAT0 = GRID_ORIGIN
GRID: Final = grid_network(COLS, ROWS)


@pytest.fixture
def city(services: Services, clock: Any) -> Iterator[TestClient[Any]]:
    services.network.store.replace_layers(GRID, {"nodes", "pipes", "valves", "hydrants",
                                                 "sources", "service_connections"},
                                          clock(), 32650)
    with TestClient(create_app(services.settings, clock=clock, services=services)) as c:
        yield c


def _meets(p: Pipe, box: tuple[float, float, float, float]) -> bool:
    w, s, e, n = box
    lons = [x for x, _ in p.coords]
    lats = [y for _, y in p.coords]
    return min(lons) <= e and max(lons) >= w and min(lats) <= n and max(lats) >= s


def _get(client: TestClient[Any], query: str = "", token: str = "wo_demo_dispatcher") -> Any:
    return client.get(f"/api/v1/console/network{query}", headers=bearer(token))


def test_the_whole_city_is_bounded_and_shows_its_largest_pipes(city: TestClient[Any]) -> None:
    assert len(GRID.pipes) > MAP_PIPES_MAX
    body = _get(city).json()
    sent = body["pipes"]["features"]
    assert len(sent) == MAP_PIPES_MAX
    assert body["truncated"] is True
    assert body["pipes_total"] == len(GRID.pipes)
    w = LON0
    assert body["extent"] == pytest.approx([w, LAT0, LON0 + (COLS - 1) * STEP,
                                            LAT0 + (ROWS - 1) * STEP])
    sent_ids = {f["properties"]["id"] for f in sent}
    left_out = [p.diameter_mm for p in GRID.pipes if p.id not in sent_ids]
    assert min(f["properties"]["diameter_mm"] for f in sent) >= max(left_out)
    assert len(body["valves"]["features"]) <= MAP_PIPES_MAX


def test_a_bbox_returns_exactly_the_pipes_that_meet_it(city: TestClient[Any]) -> None:
    box = (117.0105, 36.6105, 117.0205, 36.6155)  # 10 x 5 cells inside the grid
    body = _get(city, "?bbox=" + ",".join(map(str, box))).json()
    expected = {p.id for p in GRID.pipes if _meets(p, box)}
    assert 0 < len(expected) < 200
    assert {f["properties"]["id"] for f in body["pipes"]["features"]} == expected
    assert body["truncated"] is False
    assert body["pipes_total"] == len(expected)
    w, s, e, n = box
    valves = {f["properties"]["id"] for f in body["valves"]["features"]}
    assert valves == {v.id for v in GRID.valves if w <= v.lon <= e and s <= v.lat <= n}


def test_a_smaller_limit_bounds_a_busy_bbox(city: TestClient[Any]) -> None:
    box = "117.0,36.6,117.05,36.63"
    body = _get(city, f"?bbox={box}&limit=300").json()
    assert len(body["pipes"]["features"]) == 300
    assert body["truncated"] is True
    assert body["pipes_total"] > 300


@pytest.mark.parametrize(("query", "code"), [
    # the box is text the view parses; the limit a bounded query parameter
    *((q, "bad-input") for q in ["?bbox=117,36", "?bbox=a,b,c,d", "?bbox=118,36,117,37",
                                 "?bbox=100,30,110,40", "?bbox=nan,36,117,37"]),
    *((q, "validation-failed") for q in [f"?limit={MAP_PIPES_MAX + 1}", "?limit=0"])])
def test_a_bad_bbox_or_limit_is_a_400_problem(city: TestClient[Any], query: str,
                                              code: str) -> None:
    assert_problem(_get(city, query), 400, code)


def test_meter_readers_do_not_read_the_network_layers(city: TestClient[Any]) -> None:
    assert_problem(_get(city, token="wo_demo_reader"), 403, "forbidden")
    assert _get(city, "?bbox=117.0,36.6,117.01,36.61", token="wo_demo_crew_a").status_code == 200


def test_a_store_without_a_network_answers_empty_layers(services: Services,
                                                         clock: Any) -> None:
    services.network.store.replace_layers(Network(), {"nodes", "pipes", "valves", "hydrants",
                                                      "sources", "service_connections"},
                                          datetime(2026, 11, 23, tzinfo=UTC), 32650)
    with TestClient(create_app(services.settings, clock=clock, services=services)) as c:
        body = _get(c).json()
    assert body["extent"] is None
    assert body["pipes"]["features"] == []
