"""The served OpenAPI document is a contract a generated client can rely on (issue 15)."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
from litestar import Litestar
from litestar.testing import TestClient

from core.problems import CATALOGUE
from server.app import create_app
from tests.factories import TOKENS, bearer, make_clock, make_services, served_openapi

pytestmark = pytest.mark.integration

METHODS = ("get", "put", "post", "delete", "patch")


@pytest.fixture(scope="module")
def document(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """The served document, built once for the module (it depends on no data)."""
    return served_openapi(tmp_path_factory.mktemp("openapi"))


def _operations(doc: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    return [(path, method, op) for path, item in doc["paths"].items()
            for method, op in item.items() if method in METHODS]


def test_every_operation_is_described_tagged_and_short_named(document: dict[str, Any]) -> None:
    ops = _operations(document)
    assert len(ops) > 100
    ids = [op["operationId"] for _, _, op in ops]
    assert len(ids) == len(set(ids))
    for path, method, op in ops:
        where = f"{method.upper()} {path}"
        assert re.fullmatch(r"[a-z][A-Za-z]+", op["operationId"]), where
        assert op.get("description", "").strip(), where
        assert op.get("tags"), where
    named = {(p, m): op["operationId"] for p, m, op in ops}
    assert named[("/api/v1/workorders", "get")] == "listOrders"
    assert named[("/api/v1/workorders", "post")] == "createWorkOrder"
    assert named[("/api/v1/workorders/{wo_id}/transitions", "post")] == "transition"


def _declared(doc: dict[str, Any], method: str, path: str) -> dict[int, set[str]]:
    """Status -> the problem codes the operation's answer of that status names."""
    out: dict[int, set[str]] = {}
    for status, answer in doc["paths"][path][method]["responses"].items():
        if "application/problem+json" in answer.get("content", {}):
            named = answer["description"].split("one of: ", 1)[1]
            out[int(status)] = set(named.split(", "))
    return out


def test_every_operation_declares_its_problem_answers(document: dict[str, Any]) -> None:
    problem = document["components"]["schemas"]["Problem"]
    assert {"type", "title", "status", "detail", "instance"} <= set(problem["properties"])
    for path, method, op in _operations(document):
        where = f"{method.upper()} {path}"
        declared = _declared(document, method, path)
        assert declared.get(500) == {"internal-error"}, where
        for status, answer in op["responses"].items():
            if int(status) >= 400:
                content = answer["content"]
                assert list(content) == ["application/problem+json"], (where, status)
                assert content["application/problem+json"]["schema"] == {
                    "$ref": "#/components/schemas/Problem"}
        # each status names only codes of that status, and only codes answered over HTTP
        for status, codes in declared.items():
            assert all(CATALOGUE[c].status == status and CATALOGUE[c].http for c in codes), (
                where, status, codes)


def test_a_public_route_never_asks_for_credentials(document: dict[str, Any]) -> None:
    public = [(p, m, op) for p, m, op in _operations(document) if not op.get("security")]
    assert {op["operationId"] for _, _, op in public} >= {
        "health", "geojson", "ical", "statusPublicComplaint", "verifyPublicNotice"}
    for path, method, op in public:
        declared = _declared(document, method, path)
        assert declared[429] == {"too-many-requests"} | (
            {"lookup-locked"} if op["operationId"] == "statusPublicComplaint" else set()) | (
            {"connection-lookup-locked"} if op["operationId"] == "statusPublicConnection"
            else set()), path
        if op["operationId"] == "signIn":  # its own failures: wrong secret, another site
            assert declared[401] == {"sign-in-failed"}
            assert declared[403] == {"forbidden"}
        else:
            assert 401 not in declared, path
            assert 403 not in declared, path
    # a route behind a token answers 401 without one
    assert _declared(document, "get", "/api/v1/workorders")[401] == {"unauthenticated"}


def test_each_operation_declares_only_its_own_statuses(document: dict[str, Any]) -> None:
    health = _declared(document, "get", "/api/v1/public/health")
    assert set(health) == {429, 500}  # no body, no parameters, no credentials, no state
    listing = _declared(document, "get", "/api/v1/workorders")
    assert 404 not in listing  # no path parameter
    assert 413 not in listing  # a read: no body is measured
    assert 409 not in listing
    assert "bad-input" in listing[400]  # its cursor
    transition = _declared(document, "post", "/api/v1/workorders/{wo_id}/transitions")
    assert {"illegal-transition", "version-conflict"} <= transition[409]
    assert "outage-conflict" not in transition[409]  # another route's conflict
    assert "not-found" in transition[404]
    assert {"validation-failed", "bad-request"} <= transition[400]
    assert 409 not in _declared(document, "get", "/api/v1/workorders/{wo_id}")
    # a policy every role has, on a read, refuses nobody
    assert 403 not in _declared(document, "get", "/api/v1/sync/info")
    # the use case's own errors are named by the route, and only by it
    announce = _declared(document, "post", "/api/v1/outages/{outage_id}/announce")
    assert "lead-time-too-short" in announce[422]
    assert "outage-not-found" in announce[404]
    statuses = {s for p, m, _ in _operations(document) for s in _declared(document, m, p)}
    assert statuses >= {400, 401, 403, 404, 409, 413, 422, 429, 500}


def _provoked(client: TestClient[Litestar], document: dict[str, Any],
              method: str, path: str, url: str, **kwargs: Any) -> None:
    """The answer to ``url`` is a problem its operation (``path``) declares, by code."""
    r = client.request(method.upper(), url, **kwargs)
    code = r.json()["type"].rsplit("/", 1)[-1]
    assert code in _declared(document, method, path).get(r.status_code, set()), (
        r.status_code, code)


def test_what_a_request_provokes_is_declared(client: TestClient[Litestar],
                                             document: dict[str, Any]) -> None:
    dispatcher = bearer(TOKENS["dispatcher"])
    r = client.post("/api/v1/workorders", headers=dispatcher, json={
        "type": "line_marking", "location": {"type": "Point", "coordinates": [117.0, 36.65]},
        "crew_id": "crew-b"})
    assert r.status_code == 201, r.text
    wo = r.json()["id"]
    path = "/api/v1/workorders/{wo_id}/transitions"
    # completing an order that has not started: illegal-transition (409)
    _provoked(client, document, "post", path, f"/api/v1/workorders/{wo}/transitions",
              json={"to": "completed"}, headers=bearer(TOKENS["crew_b"]))
    _provoked(client, document, "post", path, f"/api/v1/workorders/{wo}/transitions",
              json={"to": "en_route", "expected_version": 999},
              headers=bearer(TOKENS["crew_b"]))
    _provoked(client, document, "get", "/api/v1/workorders/{wo_id}",
              "/api/v1/workorders/no-such-order", headers=dispatcher)
    _provoked(client, document, "get", "/api/v1/workorders", "/api/v1/workorders")
    _provoked(client, document, "get", "/api/v1/workorders", "/api/v1/workorders",
              params={"cursor": "garbage"}, headers=dispatcher)
    _provoked(client, document, "get", "/api/v1/outages/{outage_id}",
              "/api/v1/outages/no-such-outage", headers=dispatcher)
    _provoked(client, document, "get", "/api/v1/stats/timeliness", "/api/v1/stats/timeliness",
              params={"since": "1999-01-01T00:00:00Z"}, headers=bearer(TOKENS["supervisor"]))


def test_every_parameter_is_described(document: dict[str, Any]) -> None:
    missing = [(m.upper(), p, prm["name"]) for p, m, op in _operations(document)
               for prm in op.get("parameters", []) if not prm.get("description", "").strip()]
    assert missing == []


def test_types_are_exact(document: dict[str, Any]) -> None:
    text = json.dumps(document)
    assert '{"type": "integer"}, {"type": "number"}' not in text
    for path in ("/api/v1/sync/pull", "/api/v1/sync/push"):
        ok = document["paths"][path]["post"]["responses"]["200"]["content"]
        assert set(ok) == {"application/json", "application/msgpack"}
        ref = ok["application/json"]["schema"]["$ref"]
        assert ref.endswith(("/PullResponse", "/PushResponse"))
        assert ok["application/msgpack"]["schema"]["$ref"] == ref


def _undescribed(document: dict[str, Any]) -> dict[str, list[str]]:
    """Schema -> its properties without a description."""
    out: dict[str, list[str]] = {}
    for name, schema in document["components"]["schemas"].items():
        missing = [k for k, v in (schema.get("properties") or {}).items()
                   if not str(v.get("description", "")).strip()]
        if missing:
            out[name] = missing
    return out


def test_every_schema_property_is_described(document: dict[str, Any]) -> None:
    """From the Structs' ``#:`` comments or ``Meta(description=...)`` (server.fielddoc): a
    field added without one fails here, with its schema's name."""
    schemas = document["components"]["schemas"]
    assert len(schemas) > 200
    assert sum(len(s.get("properties") or {}) for s in schemas.values()) > 1000
    assert _undescribed(document) == {}
    # a schema takes its class docstring; an enum's, what each commented value means
    assert schemas["Problem"]["description"].startswith("An RFC 9457 problem details body")
    assert "`cut_off`: loses every path to a source" in schemas["AffectedZone"]["description"]


OUTAGE = {"kind": "planned", "cause": "main replacement",
          "start_at": "2027-03-01T01:00:00Z", "expected_restoration_at": "2027-03-01T05:00:00Z"}
RING = [[117.0, 36.6], [117.1, 36.6], [117.1, 36.7], [117.0, 36.6]]


@pytest.mark.parametrize("body", [
    {**OUTAGE, "colour": "red"},
    {**OUTAGE, "area": {"type": "Circle", "center": [117.0, 36.6]}},
    {**OUTAGE, "area": {"type": "Polygon", "coordinates": [RING[:3]]}},
    {**OUTAGE, "area": {"type": "Polygon", "coordinates": [[[917.0, 36.6], *RING[1:3],
                                                             [917.0, 36.6]]]}},
    {**OUTAGE, "area": {"type": "Polygon", "coordinates": [RING], "extra": 1}},
    {**OUTAGE, "recipients": [{"customer_id": "c-1", "mood": "angry"}]},
])
def test_outage_bodies_are_decoded_strictly(client: TestClient[Litestar],
                                            body: dict[str, Any]) -> None:
    r = client.post("/api/v1/outages", json=body, headers=bearer(TOKENS["dispatcher"]))
    assert r.status_code == 400, r.text
    assert r.headers["content-type"].startswith("application/problem+json")
    assert r.json()["type"].endswith("/validation-failed")


def test_a_polygon_area_is_accepted(client: TestClient[Litestar]) -> None:
    body = {**OUTAGE, "area": {"type": "Polygon", "coordinates": [RING]}}
    r = client.post("/api/v1/outages", json=body, headers=bearer(TOKENS["dispatcher"]))
    assert r.status_code == 201, r.text
    assert r.json()["area"]["coordinates"] == [RING]


def test_the_document_is_the_same_at_every_build(document: dict[str, Any],
                                                  tmp_path: Path) -> None:
    # no generated examples (random values, times of the build): a client generated
    # today and tomorrow from the same code is the same client
    svc = make_services(str(tmp_path), make_clock(), demo=False)
    try:
        with TestClient(create_app(svc.settings, clock=make_clock(), services=svc)) as client:
            again = client.get("/schema/openapi.json").json()
    finally:
        svc.close()
    assert json.dumps(again, sort_keys=True) == json.dumps(document, sort_keys=True)
