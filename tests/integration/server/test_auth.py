"""Who may do what: 401 without a valid device token, 403 for the wrong role or scope."""

from __future__ import annotations

import httpx
import pytest
from litestar import Litestar
from litestar.testing import TestClient

from server.cli.common import OPERATOR
from server.services import Services
from tests.factories import TOKENS, assert_problem, bearer

pytestmark = pytest.mark.integration

NEW_ORDER = {"type": "burst_repair", "location": {"type": "Point", "coordinates": [117.0, 36.65]},
             "crew_id": "crew-a", "pipe_diameter_mm": 300}


def _problem(response: httpx.Response, status: int, code: str) -> None:
    assert_problem(response, status, code)


def test_no_token_is_401_with_a_challenge(client: TestClient[Litestar]) -> None:
    r = client.get("/api/v1/workorders")
    _problem(r, 401, "unauthenticated")
    assert r.headers["www-authenticate"].startswith("Bearer")


def test_a_route_without_a_policy_is_refused_even_with_a_token(
        client: TestClient[Litestar]) -> None:
    """Litestar's own OPTIONS answers name no policy: 401 without a token, 403 with one
    (deny by default; the check is the authentication middleware's, server.guards)."""
    _problem(client.options("/api/v1/workorders"), 401, "unauthenticated")
    _problem(client.options("/api/v1/workorders", headers=bearer(TOKENS["admin"])),
             403, "forbidden")


def test_unknown_token_is_401(client: TestClient[Litestar]) -> None:
    _problem(client.get("/api/v1/workorders", headers=bearer("wo_nope")), 401, "unauthenticated")


def test_revoked_device_is_401(client: TestClient[Litestar], services: Services) -> None:
    issued = services.accounts.register_device("crew-b-liu", "spare tablet")
    assert client.get("/api/v1/users/me", headers=bearer(issued.token)).status_code == 200
    services.accounts.revoke_device(OPERATOR, issued.device_id)
    _problem(client.get("/api/v1/users/me", headers=bearer(issued.token)), 401, "unauthenticated")


@pytest.mark.parametrize("who", ["crew_a", "reader"])
def test_field_roles_cannot_create_orders(client: TestClient[Litestar], who: str) -> None:
    _problem(client.post("/api/v1/workorders", json=NEW_ORDER, headers=bearer(TOKENS[who])),
             403, "forbidden")


def test_dispatcher_creates_and_crew_member_cannot_register_devices(
        client: TestClient[Litestar]) -> None:
    r = client.post("/api/v1/workorders", json=NEW_ORDER, headers=bearer(TOKENS["dispatcher"]))
    assert r.status_code == 201, r.text
    _problem(client.post("/api/v1/devices", json={"user_id": "crew-a-zhang"},
                         headers=bearer(TOKENS["crew_a"])), 403, "forbidden")


def test_a_crew_sees_only_its_own_orders(client: TestClient[Litestar]) -> None:
    r = client.post("/api/v1/workorders", json={**NEW_ORDER, "crew_id": "crew-b"},
                    headers=bearer(TOKENS["dispatcher"]))
    wo_id = r.json()["id"]
    _problem(client.get(f"/api/v1/workorders/{wo_id}", headers=bearer(TOKENS["crew_a"])),
             403, "out-of-scope")
    assert client.get(f"/api/v1/workorders/{wo_id}",
                      headers=bearer(TOKENS["crew_b"])).status_code == 200
    listed = client.get("/api/v1/workorders?limit=500", headers=bearer(TOKENS["crew_a"])).json()
    assert listed["items"]
    assert {w["crew_id"] for w in listed["items"]} == {"crew-a"}
    # asking for another crew's list does not widen a field user's scope
    other = client.get("/api/v1/workorders?crew_id=crew-b",
                       headers=bearer(TOKENS["crew_a"])).json()
    assert {w["crew_id"] for w in other["items"]} <= {"crew-a"}


def test_customer_personal_data_only_through_own_orders(client: TestClient[Litestar]) -> None:
    r = client.post("/api/v1/workorders", json={**NEW_ORDER, "type": "meter_replacement",
                                                "crew_id": "crew-b", "customer_id": "cust-00050"},
                    headers=bearer(TOKENS["dispatcher"]))
    assert r.status_code == 201
    assert client.get("/api/v1/customers/cust-00050",
                      headers=bearer(TOKENS["crew_b"])).json()["phone"]
    _problem(client.get("/api/v1/customers/cust-00050", headers=bearer(TOKENS["crew_a"])),
             403, "out-of-scope")


def test_statistics_are_for_the_office(client: TestClient[Litestar]) -> None:
    _problem(client.get("/api/v1/stats/timeliness", headers=bearer(TOKENS["crew_a"])),
             403, "forbidden")
    assert client.get("/api/v1/stats/timeliness",
                      headers=bearer(TOKENS["supervisor"])).status_code == 200
