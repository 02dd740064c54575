"""A computed isolation becomes an outage whose recipients are every affected customer."""

from __future__ import annotations

import pytest
from litestar import Litestar
from litestar.testing import TestClient

from server.clock import SteppingClock
from server.services import Services
from tests.factories import TOKENS, assert_problem, bearer

pytestmark = pytest.mark.integration

DISPATCH = bearer(TOKENS["dispatcher"])


def test_demo_district_has_a_network(services: Services) -> None:
    counts = services.network.summary().counts
    assert counts["pipes"] == 50
    assert counts["valves"] == 50
    assert counts["sources"] == 1
    assert counts["hydrants"] > 0
    assert counts["service_connections"] == 60


def test_emergency_outage_from_an_isolation_reaches_every_affected_customer(
        client: TestClient[Litestar], services: Services, clock: SteppingClock) -> None:
    customer = services.customers.store.get("cust-00007")
    assert customer is not None
    # a break right at the customer's door: the pipe it hangs on is the broken one
    plan = client.post("/api/v1/network/isolations", headers=DISPATCH,
                       json={"point": [customer.lon, customer.lat], "tolerance_m": 400})
    assert plan.status_code == 201, plan.text
    body = plan.json()
    assert body["valves_to_close"]
    assert body["customer_count"] > 0
    start = clock().isoformat()
    end = clock().replace(hour=clock().hour + 4).isoformat()
    r = client.post("/api/v1/outages/from-isolation", headers=DISPATCH, json={
        "isolation_id": body["id"], "kind": "emergency", "cause": "经十路 DN600 爆管",
        "start_at": start, "expected_restoration_at": end})
    assert r.status_code == 201, r.text
    outage = r.json()
    ids = {c.customer_id for c in services.network.affected_customers(
        body["id"], None, 1000).items}
    report = client.get(f"/api/v1/outages/{outage['id']}/report", headers=DISPATCH).json()
    reported = {row["customer_id"] for row in report["customers"]}
    assert reported == ids
    assert len(ids) == body["customer_count"]
    assert "cust-00007" in ids
    assert set(outage["streets"]) == set(body["streets"])


def test_unknown_isolation_is_a_404_problem(
        client: TestClient[Litestar], clock: SteppingClock) -> None:
    r = client.post("/api/v1/outages/from-isolation", headers=DISPATCH, json={
        "isolation_id": "nope", "kind": "planned", "cause": "x",
        "start_at": clock().isoformat(), "expected_restoration_at": clock().isoformat()})
    assert_problem(r, 404, "isolation-not-found")
    assert r.headers["content-type"].startswith("application/problem+json")
