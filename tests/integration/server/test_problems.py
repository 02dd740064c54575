"""Bad input gets a 4xx problem-details body, never a 500, and nothing accepted is lost."""

from __future__ import annotations

import httpx
import pytest
from litestar import Litestar
from litestar.testing import TestClient

from tests.factories import TOKENS, bearer

pytestmark = pytest.mark.integration

DISPATCH = bearer(TOKENS["dispatcher"])
GOOD = {"type": "line_marking", "location": {"type": "Point", "coordinates": [117.0, 36.65]},
        "crew_id": "crew-b"}


def _is_problem(r: httpx.Response, status: int) -> dict[str, object]:
    assert r.status_code == status, r.text
    assert r.headers["content-type"].startswith("application/problem+json")
    body: dict[str, object] = r.json()
    assert {"type", "title", "status", "detail"} <= body.keys()
    return body


@pytest.mark.parametrize(
    ("raw", "code"),
    [
        (b"{not json", "bad-request"),
        (b'{"type": "line_marking", "location": {"type": "Point", "coordinates": "x"}}',
         "validation-failed"),
        (b'{"type": "teleport", "location": {"type": "Point", "coordinates": [1, 2]}}',
         "validation-failed"),
        (b'{"type": "line_marking", "location": {"type": "Point", "coordinates": [1, 2]},'
         b' "colour": "red"}', "validation-failed"),
        (b'[]', "validation-failed"),
    ],
)
def test_malformed_bodies_are_400(client: TestClient[Litestar], raw: bytes, code: str) -> None:
    r = client.post("/api/v1/workorders", content=raw,
                    headers={**DISPATCH, "Content-Type": "application/json"})
    body = _is_problem(r, 400)
    assert str(body["type"]).endswith("/" + code)


def test_oversize_body_is_413(client: TestClient[Litestar]) -> None:
    huge = {**GOOD, "description": "x" * (3 * 1024 * 1024)}
    body = _is_problem(client.post("/api/v1/workorders", json=huge, headers=DISPATCH), 413)
    assert str(body["type"]).endswith("/payload-too-large")


def test_coordinates_outside_wgs84_are_400(client: TestClient[Litestar]) -> None:
    bad = {**GOOD, "location": {"type": "Point", "coordinates": [517.0, 36.65]}}
    body = _is_problem(client.post("/api/v1/workorders", json=bad, headers=DISPATCH), 400)
    assert body["field"] == "location"


def test_unknown_ids_are_404(client: TestClient[Litestar]) -> None:
    _is_problem(client.get("/api/v1/workorders/nope", headers=DISPATCH), 404)
    body = _is_problem(client.post("/api/v1/workorders", json={**GOOD, "crew_id": "ghosts"},
                                   headers=DISPATCH), 404)
    assert body["crew_id"] == "ghosts"


def test_illegal_transition_is_409_with_reason_and_order_unchanged(
        client: TestClient[Litestar]) -> None:
    wo = client.post("/api/v1/workorders", json=GOOD, headers=DISPATCH).json()
    r = client.post(f"/api/v1/workorders/{wo['id']}/transitions", json={"to": "completed"},
                    headers=bearer(TOKENS["crew_b"]))
    body = _is_problem(r, 409)
    assert str(body["type"]).endswith("/illegal-transition")
    assert body["current_status"] == "assigned"
    assert "en_route" in str(body["detail"])
    after = client.get(f"/api/v1/workorders/{wo['id']}", headers=DISPATCH).json()
    assert after["status"] == "assigned"
    assert after["version"] == wo["version"]


def test_stale_version_is_409(client: TestClient[Litestar]) -> None:
    wo = client.post("/api/v1/workorders", json=GOOD, headers=DISPATCH).json()
    crew = bearer(TOKENS["crew_b"])
    ok = client.post(f"/api/v1/workorders/{wo['id']}/transitions",
                     json={"to": "en_route", "expected_version": 1}, headers=crew)
    assert ok.status_code == 200
    stale = client.post(f"/api/v1/workorders/{wo['id']}/transitions",
                        json={"to": "on_site", "expected_version": 1}, headers=crew)
    assert str(_is_problem(stale, 409)["type"]).endswith("/version-conflict")


@pytest.mark.parametrize("query", ["limit=0", "limit=abc", "cursor=%%%", "status=flying"])
def test_bad_query_parameters_are_400(client: TestClient[Litestar], query: str) -> None:
    _is_problem(client.get(f"/api/v1/workorders?{query}", headers=DISPATCH), 400)


def test_unknown_route_is_a_404_problem(client: TestClient[Litestar]) -> None:
    _is_problem(client.get("/api/v1/no-such-thing", headers=DISPATCH), 404)


def test_future_report_time_is_422(client: TestClient[Litestar]) -> None:
    body = _is_problem(client.post("/api/v1/workorders",
                                   json={**GOOD, "reported_at": "2030-01-01T00:00:00Z"},
                                   headers=DISPATCH), 422)
    assert str(body["type"]).endswith("/rule-violation")


def test_openapi_schema_is_served(client: TestClient[Litestar]) -> None:
    schema = client.get("/schema/openapi.json").json()
    assert "/api/v1/workorders" in schema["paths"]
