"""The network routes over HTTP: roles, import, isolation, area, customers, problems."""

from __future__ import annotations

import pytest
from litestar.testing import TestClient

from tests.factories import TOKENS, bearer
from tests.unit.geo.geo_networks import build, to_layers

pytestmark = pytest.mark.integration

DISPATCH = bearer(TOKENS["dispatcher"])
CREW_A = bearer(TOKENS["crew_a"])
READER = bearer(TOKENS["reader"])
BASE = "/api/v1/network"


def _import(client: TestClient) -> dict[str, object]:  # type: ignore[type-arg]
    net = build({"S": (0, 0), "A": (1, 0), "B": (2, 0), "C": (3, 0)},
                [("p1", "S", "A"), ("p2", "A", "B"), ("p3", "B", "C")],
                [("v1", "p2", "A"), ("v2", "p2", "B")], sources=["S"], customers_per_pipe=2)
    r = client.post(f"{BASE}/import/geojson", json={"layers": to_layers(net)}, headers=DISPATCH)
    assert r.status_code == 201, r.text
    return r.json()  # type: ignore[no-any-return]


def test_only_the_office_imports_a_network(client: TestClient) -> None:  # type: ignore[type-arg]
    r = client.post(f"{BASE}/import/geojson", json={"layers": {}}, headers=CREW_A)
    assert r.status_code == 403
    assert r.headers["content-type"].startswith("application/problem+json")
    before = client.get(f"{BASE}/", headers=READER).json()["network_version"]
    report = _import(client)
    assert report["counts"]["pipes"] == 3  # type: ignore[index]
    # the demo district's network was version 1; each import that changes it adds one
    assert client.get(f"{BASE}/", headers=READER).json()["network_version"] == before + 1


def test_crew_isolates_a_break_and_the_office_lists_customers(
        client: TestClient) -> None:  # type: ignore[type-arg]
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
    assert client.get(f"{BASE}/isolations/{plan['id']}/customers",
                      headers=CREW_A).status_code == 403
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
def test_isolation_problems(client: TestClient, body: dict[str, object], status: int,  # type: ignore[type-arg]
                            code: str) -> None:
    _import(client)
    r = client.post(f"{BASE}/isolations", json=body, headers=DISPATCH)
    assert r.status_code == status, r.text
    assert r.headers["content-type"].startswith("application/problem+json")
    assert r.json()["type"].endswith(f"/{code}")


def test_a_bad_network_is_rejected_with_located_issues(
        client: TestClient) -> None:  # type: ignore[type-arg]
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


def test_area_of_an_unknown_isolation_is_404(client: TestClient) -> None:  # type: ignore[type-arg]
    _import(client)
    r = client.get(f"{BASE}/isolations/nope/area", headers=DISPATCH)
    assert r.status_code == 404
    assert r.json()["type"].endswith("/isolation-not-found")
