"""A bad time from a tablet or a form is refused at the edge and never becomes a poison row.

Years 1, 900 and 9999 and offsets of +-14:00 used to be stored in a form that could not be
read back (``strftime("%Y")`` does not pad), after which every pull of the crew, every
outage list and every report answered 500.
"""

from __future__ import annotations

import uuid

import pytest
from litestar import Litestar
from litestar.testing import TestClient

from server.services import Services
from server.workorders.model import Actor
from tests.factories import TOKENS, assert_problem, bearer, order_in

pytestmark = pytest.mark.integration

CREW = bearer(TOKENS["crew_a"])
DISPATCH = bearer(TOKENS["dispatcher"])
BAD = ["0001-01-01T00:00:00+14:00", "0900-05-01T10:00:00+08:00",
       "9999-12-31T23:00:00-14:00", "1999-12-31T23:59:59Z"]
GOOD = ["2027-01-01T00:30:00+14:00", "2027-01-01T00:30:00-14:00"]


def _note(wo_id: str, mid: int, device_time: str) -> dict[str, object]:
    return {"id": mid, "device_time": device_time,
            "intent": {"kind": "add_note", "work_order_id": wo_id,
                       "evidence_id": str(uuid.uuid4()), "text": "valve box flooded"}}


def test_bad_device_times_are_rejected_kept_for_review_and_the_crew_still_pulls(
        client: TestClient[Litestar], services: Services) -> None:
    wo = services.workorders.create(Actor(user_id="disp-wang", role="dispatcher"),
                                    order_in(crew_id="crew-a"))
    times = BAD + GOOD
    muts = [_note(wo.id, i + 1, t) for i, t in enumerate(times)]
    r = client.post("/api/v1/sync/push", json={"mutations": muts, "device_time": BAD[0]},
                    headers=CREW)
    assert r.status_code == 200, r.text
    results = r.json()["results"]
    assert [x["outcome"] for x in results] == ["rejected"] * len(BAD) + ["applied"] * len(GOOD)
    assert {x["reason_code"] for x in results[:len(BAD)]} == {"time-out-of-range"}
    reviews = client.get("/api/v1/sync/reviews", headers=DISPATCH)
    assert reviews.status_code == 200, reviews.text
    kept = {f["mutation_id"] for f in reviews.json()["items"]
            if f["reason_code"] == "time-out-of-range"}
    assert kept == {1, 2, 3, 4}
    pull = client.post("/api/v1/sync/pull", json={}, headers=CREW)
    assert pull.status_code == 200, pull.text
    assert client.get("/api/v1/workorders", headers=DISPATCH).status_code == 200


@pytest.mark.parametrize("when", BAD)
def test_a_bad_time_on_a_form_is_a_4xx_and_stores_nothing(
        client: TestClient[Litestar], when: str) -> None:
    body = {"type": "line_marking", "crew_id": "crew-b", "reported_at": when,
            "location": {"type": "Point", "coordinates": [117.0, 36.65]}}
    before = len(client.get("/api/v1/workorders", headers=DISPATCH).json())
    r = client.post("/api/v1/workorders", json=body, headers=DISPATCH)
    assert_problem(r, 400, "validation-failed")
    assert r.headers["content-type"].startswith("application/problem+json")
    assert len(client.get("/api/v1/workorders", headers=DISPATCH).json()) == before


@pytest.mark.parametrize("when", BAD)
def test_an_outage_with_a_bad_time_is_refused_and_the_feeds_stay_up(
        client: TestClient[Litestar], when: str) -> None:
    body = {"kind": "planned", "cause": "main replacement", "start_at": when,
            "expected_restoration_at": "2027-01-02T00:00:00Z",
            "recipients": []}
    r = client.post("/api/v1/outages", json=body, headers=DISPATCH)
    assert 400 <= r.status_code < 500, r.text
    assert client.get("/api/v1/outages", headers=DISPATCH).status_code == 200
    assert client.get("/api/v1/public/outages/feed.geojson").status_code == 200
