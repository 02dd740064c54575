"""The network routes over HTTP: roles, import, isolation, area, customers, problems."""

from __future__ import annotations

from typing import Any

import pytest
from litestar import Litestar
from litestar.testing import TestClient

from tests.factories import TOKENS, assert_problem, bearer
from tests.unit.geo.geo_networks import build, to_layers

pytestmark = pytest.mark.integration

DISPATCH = bearer(TOKENS["dispatcher"])
CREW_A = bearer(TOKENS["crew_a"])
READER = bearer(TOKENS["reader"])
BASE = "/api/v1/network"


def _import(client: TestClient[Litestar]) -> dict[str, Any]:
    net = build({"S": (0, 0), "A": (1, 0), "B": (2, 0), "C": (3, 0)},
                [("p1", "S", "A"), ("p2", "A", "B"), ("p3", "B", "C")],
                [("v1", "p2", "A"), ("v2", "p2", "B")], sources=["S"], customers_per_pipe=2)
    r = client.post(f"{BASE}/import/geojson", json={"layers": to_layers(net)}, headers=DISPATCH)
    assert r.status_code == 201, r.text
    report: dict[str, Any] = r.json()
    return report


def test_only_the_office_imports_a_network(client: TestClient[Litestar]) -> None:
    r = client.post(f"{BASE}/import/geojson", json={"layers": {}}, headers=CREW_A)
    assert_problem(r, 403, "forbidden")
    assert r.headers["content-type"].startswith("application/problem+json")
    before = client.get(f"{BASE}/", headers=READER).json()["network_version"]
    report = _import(client)
    assert report["counts"]["pipes"] == 3
    # the demo district's network was version 1; each import that changes it adds one
    assert client.get(f"{BASE}/", headers=READER).json()["network_version"] == before + 1


def test_crew_isolates_a_break_and_the_office_lists_customers(
        client: TestClient[Litestar]) -> None:
    _import(client)
    r = client.post(f"{BASE}/isolations", json={"point": [117.0015, 36.65003]}, headers=CREW_A)
    assert r.status_code == 201, r.text
    plan = r.json()
    assert plan["broken_pipe_ids"] == ["p2"]
    assert [v["valve"]["valve_id"] for v in plan["valves_to_close"]] == ["v1"]
    assert plan["valves_to_close"][0]["fallback"]["failed_valve_id"] == "v1"
    assert plan["customer_count"] == 4
    area = client.get(f"{BASE}/isolations/{plan['id']}/area", headers=CREW_A)
    assert area.status_code == 200
    assert area.headers["content-type"].startswith("application/geo+json")
    assert area.json()["geometry"]["type"] == "Polygon"
    assert_problem(client.get(f"{BASE}/isolations/{plan['id']}/customers",
                              headers=CREW_A), 403, "forbidden")
    page = client.get(f"{BASE}/isolations/{plan['id']}/customers", params={"limit": 3},
                      headers=DISPATCH).json()
    assert page["total"] == 4
    assert len(page["items"]) == 3
    nxt = client.get(f"{BASE}/isolations/{plan['id']}/customers",
                     params={"limit": 3, "cursor": page["next_cursor"]}, headers=DISPATCH).json()
    assert len(nxt["items"]) == 1
    assert client.get(f"{BASE}/isolations/{plan['id']}", headers=DISPATCH).json() == plan


@pytest.mark.parametrize(("body", "status", "code"), [
    ({"point": [118.0, 37.0]}, 422, "no-pipe-near-point"),
    ({"pipe_ids": ["nope"]}, 404, "pipe-not-found"),
    ({"pipe_ids": ["p2"], "inoperable_valve_ids": ["zz"]}, 404, "valve-not-found"),
    ({}, 400, "isolation-request-invalid"),
])
def test_isolation_problems(client: TestClient[Litestar], body: dict[str, object], status: int,
                            code: str) -> None:
    _import(client)
    r = client.post(f"{BASE}/isolations", json=body, headers=DISPATCH)
    assert r.status_code == status, r.text
    assert r.headers["content-type"].startswith("application/problem+json")
    assert r.json()["type"].endswith(f"/{code}")


def test_a_bad_network_is_rejected_with_located_issues(
        client: TestClient[Litestar]) -> None:
    net = build({"S": (0, 0), "A": (1, 0)}, [("p1", "S", "A")], [("v9", "p1", "A")],
                sources=["S"])
    layers = to_layers(net)
    layers["valves"]["features"][0]["properties"]["pipe_id"] = "ghost"  # type: ignore[index]
    r = client.post(f"{BASE}/import/geojson", json={"layers": layers}, headers=DISPATCH)
    assert r.status_code == 422
    problem = r.json()
    assert problem["type"].endswith("/network-invalid")
    assert problem["issues"][0]["code"] == "valve-unknown-pipe"
    assert problem["issues"][0]["entity_id"] == "v9"


def test_area_of_an_unknown_isolation_is_404(client: TestClient[Litestar]) -> None:
    _import(client)
    r = client.get(f"{BASE}/isolations/nope/area", headers=DISPATCH)
    assert r.status_code == 404
    assert r.json()["type"].endswith("/isolation-not-found")


INP_GK = """[JUNCTIONS]
 J1 10 1
[RESERVOIRS]
 R1 50
[PIPES]
 P1 R1 J1 100 200 100 0 Open
[COORDINATES]
 R1 {x0} {y0}
 J1 {x1} {y0}
[OPTIONS]
 Units LPS
[END]
"""


@pytest.mark.parametrize(("inp", "crs", "code"), [
    # GK eastings/northings of Jinan read as degrees: nowhere on Earth
    (INP_GK.format(x0=500000, x1=500100, y0=4060000), "EPSG:4326", "coordinates-invalid"),
    # a mercator number far outside the projection's domain
    (INP_GK.format(x0=1e30, x1=1e30 + 100, y0=4060000), "EPSG:4548", "coordinates-invalid"),
    (INP_GK.format(x0=500000, x1=500100, y0=4060000), "EPSG:99999", "unknown-crs"),
    (INP_GK.format(x0=500000, x1=500100, y0=4060000), "local:117,95", "unknown-crs"),
])
def test_impossible_coordinates_are_a_problem_never_a_500(
        client: TestClient[Litestar], inp: str, crs: str, code: str) -> None:
    r = client.post(f"{BASE}/import/inp", json={"inp": inp, "crs": crs}, headers=DISPATCH)
    assert r.status_code in (400, 422), r.text
    assert r.headers["content-type"].startswith("application/problem+json")
    assert r.json()["type"].endswith(f"/{code}")


def test_import_warnings_are_paged_for_the_office(client: TestClient[Litestar]) -> None:
    net = build({"S": (0, 0), "A": (1, 0)}, [("p1", "S", "A")], [], sources=["S"])
    layers = to_layers(net)
    layers["valves"] = {"type": "FeatureCollection", "features": [
        {"type": "Feature", "geometry": {"type": "Point", "coordinates": [117.5, 36.9 + k / 1e4]},
         "properties": {"id": f"far{k}"}} for k in range(7)]}
    r = client.post(f"{BASE}/import/geojson", json={"layers": layers}, headers=DISPATCH)
    assert r.status_code == 201, r.text
    report = r.json()
    assert report["warning_count"] == 7
    version = report["network_version"]
    page = client.get(f"{BASE}/imports/{version}/warnings?limit=5", headers=DISPATCH).json()
    assert [w["entity_id"] for w in page["items"]] == [f"far{k}" for k in range(5)]
    rest = client.get(f"{BASE}/imports/{version}/warnings?limit=5&cursor={page['next_cursor']}",
                      headers=DISPATCH).json()
    assert [w["entity_id"] for w in rest["items"]] == ["far5", "far6"]
    assert rest["next_cursor"] is None
    assert_problem(client.get(f"{BASE}/imports/{version}/warnings",
                              headers=CREW_A), 403, "forbidden")
    strict = client.post(f"{BASE}/import/geojson", json={"layers": layers, "strict": True},
                         headers=DISPATCH)
    assert strict.status_code == 422
    assert strict.json()["type"].endswith("/network-invalid")
