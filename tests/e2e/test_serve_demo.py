"""The demo service as a person starts it: `waterops serve --demo`."""

from __future__ import annotations

import pytest

from tests.e2e.api_client import Api
from tests.factories import assert_problem

pytestmark = pytest.mark.e2e


def test_demo_service_answers_with_demo_data(live_server: str) -> None:
    anon = Api(live_server)
    assert anon.health().json()["status"] == "ok"
    assert_problem(anon.list_work_orders(), 401, "unauthenticated")
    anon.close()
    crew = Api(live_server, "wo_demo_crew_a")
    assert crew.me().json()["crew_id"] == "crew-a"
    orders = crew.list_work_orders(limit=100).json()["items"]
    assert orders
    assert {o["crew_id"] for o in orders} == {"crew-a"}
    burst = next(o for o in orders if o["type"] == "burst_repair")
    moved = crew.transition(burst["id"], "en_route")
    assert moved.status_code == 200
    assert moved.json()["status"] == "en_route"
    crew.close()


def test_demo_dispatcher_creates_an_order(live_server: str) -> None:
    dispatcher = Api(live_server, "wo_demo_dispatcher")
    r = dispatcher.create_work_order({
        "type": "line_marking", "crew_id": "crew-b",
        "location": {"type": "LineString", "coordinates": [[117.0, 36.65], [117.002, 36.651]]},
    })
    assert r.status_code == 201, r.text
    assert r.json()["deadlines"][0]["rule"] == "line_marking"
    dispatcher.close()
