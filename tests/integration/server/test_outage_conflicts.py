"""Overlapping outages over HTTP: the conflict is shown, refused, accepted and notified."""

from __future__ import annotations

from datetime import timedelta

import msgspec
import pytest
from litestar import Litestar
from litestar.testing import TestClient

from geo.geojson import GeoJSONImport
from server.clock import SteppingClock
from server.services import Services
from tests.factories import TOKENS, assert_problem, bearer
from tests.unit.geo.geo_networks import to_layers
from tests.unit.geo.test_geo_overlap import two_feeds

pytestmark = pytest.mark.integration

DISPATCH = bearer(TOKENS["dispatcher"])
SUPERVISE = bearer(TOKENS["supervisor"])
#: the customers of B, C and the ring x1..x7 (one per pipe in the test network)
CONFLICT = sorted(f"c-{p}-0" for p in ["pb1", "pc1", *(f"r{i}" for i in range(1, 7))])


def _outage_on(client: TestClient[Litestar], clock: SteppingClock, pipe: str,
               start_h: float, hours: float = 6) -> str:
    plan = client.post("/api/v1/network/isolations", headers=DISPATCH,
                       json={"pipe_ids": [pipe]})
    assert plan.status_code == 201, plan.text
    start = clock() + timedelta(hours=start_h)
    r = client.post("/api/v1/outages/from-isolation", headers=DISPATCH, json={
        "isolation_id": plan.json()["id"], "kind": "planned", "cause": "更换阀门",
        "start_at": start.isoformat(),
        "expected_restoration_at": (start + timedelta(hours=hours)).isoformat()})
    assert r.status_code == 201, r.text
    return str(r.json()["id"])


@pytest.fixture
def two_jobs(client: TestClient[Litestar], services: Services) -> TestClient[Litestar]:
    services.network.import_geojson(msgspec.convert({"layers": to_layers(two_feeds())},
                                                    GeoJSONImport))
    return client


def test_overlapping_jobs_show_refuse_and_accept_the_conflict(
        two_jobs: TestClient[Litestar], clock: SteppingClock) -> None:
    client = two_jobs
    first = _outage_on(client, clock, "pa", start_h=72)
    ok = client.post(f"/api/v1/outages/{first}/announce", json={}, headers=DISPATCH)
    assert ok.status_code == 200, ok.text  # alone it is clean
    second = _outage_on(client, clock, "pb", start_h=75)  # overlaps the first by 3 h
    shown = client.get(f"/api/v1/outages/{second}/conflicts", headers=DISPATCH).json()
    assert shown["overlapping_outage_ids"] == [first]
    assert shown["conflict_customer_count"] == len(CONFLICT)
    assert shown["combined"]["conflict_customer_ids"] == CONFLICT
    assert len(shown["combined"]["conflict_node_ids"]) == 9
    assert {v["valve_id"] for v in shown["combined"]["valves_to_close"]} == {"va1", "vb1"}

    refused = client.post(f"/api/v1/outages/{second}/announce", json={}, headers=DISPATCH)
    assert refused.status_code == 409
    assert refused.headers["content-type"].startswith("application/problem+json")
    assert refused.json()["type"].endswith("/outage-conflict")
    assert refused.json()["conflict_customers"] == len(CONFLICT)
    not_yours = client.post(f"/api/v1/outages/{second}/announce", headers=DISPATCH,
                            json={"accept_conflict_reason": "同一施工队"})
    assert_problem(not_yours, 403, "override-needs-supervisor")
    accepted = client.post(f"/api/v1/outages/{second}/announce", headers=SUPERVISE,
                           json={"accept_conflict_reason": "同一施工队 一次完成"})
    assert accepted.status_code == 200, accepted.text
    assert accepted.json()["state"] == "announced"
    report = client.get(f"/api/v1/outages/{second}/report", headers=DISPATCH).json()
    told = {row["customer_id"] for row in report["customers"]}
    assert set(CONFLICT) <= told  # the conflict's customers get the announcement too


def test_jobs_at_different_times_do_not_conflict(
        two_jobs: TestClient[Litestar], clock: SteppingClock) -> None:
    client = two_jobs
    first = _outage_on(client, clock, "pa", start_h=72)
    assert client.post(f"/api/v1/outages/{first}/announce", json={},
                       headers=DISPATCH).status_code == 200
    later = _outage_on(client, clock, "pb", start_h=80)  # starts after the first ends
    shown = client.get(f"/api/v1/outages/{later}/conflicts", headers=DISPATCH).json()
    assert shown["overlapping_outage_ids"] == []
    assert shown["conflict_customer_count"] == 0
    assert client.post(f"/api/v1/outages/{later}/announce", json={},
                       headers=DISPATCH).status_code == 200


def test_dispatcher_accepts_feeding_the_cut_off_from_another_zone(
        client: TestClient[Litestar], services: Services) -> None:
    from tests.unit.geo.test_geo_supply import two_zones

    services.network.import_geojson(msgspec.convert({"layers": to_layers(two_zones())},
                                                    GeoJSONImport))
    plan = client.post("/api/v1/network/isolations", headers=DISPATCH,
                       json={"pipe_ids": ["p2"]}).json()
    assert [o["valve"]["valve_id"] for o in plan["supply_options"]] == ["nc"]
    before = client.get(f"/api/v1/network/isolations/{plan['id']}/customers",
                        headers=DISPATCH).json()
    assert {c["customer_id"] for c in before["items"]} == {"c-p2-0", "c-p3-0"}
    missing = client.post(f"/api/v1/network/isolations/{plan['id']}/supply-options/v2a/accept",
                          headers=DISPATCH)
    assert missing.status_code == 404
    assert missing.json()["type"].endswith("/supply-option-not-found")
    crew = client.post(f"/api/v1/network/isolations/{plan['id']}/supply-options/nc/accept",
                       headers=bearer(TOKENS["crew_a"]))
    assert_problem(crew, 403, "forbidden")
    ok = client.post(f"/api/v1/network/isolations/{plan['id']}/supply-options/nc/accept",
                     headers=DISPATCH)
    assert ok.status_code == 200, ok.text
    assert ok.json()["accepted_supply_valve_ids"] == ["nc"]
    assert ok.json()["customer_count"] == plan["customer_count"] - 1
    after = client.get(f"/api/v1/network/isolations/{plan['id']}/customers",
                       headers=DISPATCH).json()
    assert {c["customer_id"] for c in after["items"]} == {"c-p2-0"}  # c-p3-0 keeps water


def test_dispatcher_accepts_a_set_of_two_valves_through_a_border_chamber(
        client: TestClient[Litestar], services: Services) -> None:
    from tests.unit.geo.test_geo_supply import chamber_between_zones

    report = services.network.import_geojson(msgspec.convert(
        {"layers": to_layers(chamber_between_zones())}, GeoJSONImport))
    assert report.warning_count == 0  # the chamber is a valid network, not an island
    plan = client.post("/api/v1/network/isolations", headers=DISPATCH,
                       json={"pipe_ids": ["p2"]}).json()
    [option] = plan["supply_options"]
    assert (option["valve"]["valve_id"], [v["valve_id"] for v in option["also_open"]]) \
        == ("nc1", ["nc2"])
    # the second valve of a set does not name an option of its own
    other = client.post(f"/api/v1/network/isolations/{plan['id']}/supply-options/nc2/accept",
                        headers=DISPATCH)
    assert_problem(other, 404, "supply-option-not-found")
    ok = client.post(f"/api/v1/network/isolations/{plan['id']}/supply-options/nc1/accept",
                     headers=DISPATCH)
    assert ok.status_code == 200, ok.text
    assert ok.json()["accepted_supply_valve_ids"] == ["nc1", "nc2"]
    after = client.get(f"/api/v1/network/isolations/{plan['id']}/customers",
                       headers=DISPATCH).json()
    assert {c["customer_id"] for c in after["items"]} == {"c-p2-0"}  # p3 and q3 keep water


def test_an_emergency_is_never_refused_but_its_conflict_customers_are_told(
        two_jobs: TestClient[Litestar], clock: SteppingClock) -> None:
    client = two_jobs
    planned = _outage_on(client, clock, "pa", start_h=72)
    assert client.post(f"/api/v1/outages/{planned}/announce", json={},
                       headers=DISPATCH).status_code == 200
    plan = client.post("/api/v1/network/isolations", headers=DISPATCH,
                       json={"pipe_ids": ["pb"]}).json()
    start = clock() + timedelta(hours=73)  # a burst during the planned job
    burst = client.post("/api/v1/outages/from-isolation", headers=DISPATCH, json={
        "isolation_id": plan["id"], "kind": "emergency", "cause": "爆管",
        "start_at": start.isoformat(),
        "expected_restoration_at": (start + timedelta(hours=4)).isoformat()}).json()["id"]
    r = client.post(f"/api/v1/outages/{burst}/announce", json={}, headers=DISPATCH)
    assert r.status_code == 200, r.text
    report = client.get(f"/api/v1/outages/{burst}/report", headers=DISPATCH).json()
    assert set(CONFLICT) <= {row["customer_id"] for row in report["customers"]}
