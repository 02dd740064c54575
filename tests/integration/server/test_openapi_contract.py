"""The served OpenAPI document is a contract a generated client can rely on (issue 15)."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest
from litestar.testing import TestClient

from core.problems import CATALOGUE
from server.openapi import PROBLEM_STATUSES
from tests.factories import TOKENS, bearer

pytestmark = pytest.mark.integration

METHODS = ("get", "put", "post", "delete", "patch")
#: schemas whose every property is described so far (the rest: issue 15, second half)
DESCRIBED = ("WorkOrder", "WorkOrderIn", "Problem")


@pytest.fixture
def document(client: TestClient) -> dict[str, Any]:  # type: ignore[type-arg]
    r = client.get("/schema/openapi.json")
    assert r.status_code == 200
    body: dict[str, Any] = r.json()
    return body


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


def test_every_operation_declares_its_problem_answers(document: dict[str, Any]) -> None:
    problem = document["components"]["schemas"]["Problem"]
    assert {"type", "title", "status", "detail", "instance"} <= set(problem["properties"])
    for path, method, op in _operations(document):
        for status in PROBLEM_STATUSES:
            answer = op["responses"].get(str(status))
            assert answer is not None, f"{method.upper()} {path} {status}"
            content = answer["content"]
            assert list(content) == ["application/problem+json"], (path, status)
            assert content["application/problem+json"]["schema"] == {
                "$ref": "#/components/schemas/Problem"}
    # the description names the catalogue's codes of that status
    answer_409 = document["paths"]["/api/v1/workorders/{wo_id}/transitions"]["post"][
        "responses"]["409"]
    assert "illegal-transition" in answer_409["description"]
    assert "version-conflict" in answer_409["description"]
    assert all(CATALOGUE[c].status == 409 for c in ("illegal-transition", "version-conflict"))


def test_types_are_exact(document: dict[str, Any]) -> None:
    text = json.dumps(document)
    assert '{"type": "integer"}, {"type": "number"}' not in text
    for path in ("/api/v1/sync/pull", "/api/v1/sync/push"):
        ok = document["paths"][path]["post"]["responses"]["200"]["content"]
        assert set(ok) == {"application/json", "application/msgpack"}
        ref = ok["application/json"]["schema"]["$ref"]
        assert ref.endswith(("/PullResponse", "/PushResponse"))
        assert ok["application/msgpack"]["schema"]["$ref"] == ref


@pytest.mark.parametrize("name", DESCRIBED)
def test_the_core_schemas_describe_every_property(document: dict[str, Any], name: str) -> None:
    schema = document["components"]["schemas"][name]
    missing = [k for k, v in schema["properties"].items() if "description" not in v]
    assert missing == []


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
def test_outage_bodies_are_decoded_strictly(client: TestClient,  # type: ignore[type-arg]
                                            body: dict[str, Any]) -> None:
    r = client.post("/api/v1/outages", json=body, headers=bearer(TOKENS["dispatcher"]))
    assert r.status_code == 400, r.text
    assert r.headers["content-type"].startswith("application/problem+json")
    assert r.json()["type"].endswith("/validation-failed")


def test_a_polygon_area_is_accepted(client: TestClient) -> None:  # type: ignore[type-arg]
    body = {**OUTAGE, "area": {"type": "Polygon", "coordinates": [RING]}}
    r = client.post("/api/v1/outages", json=body, headers=bearer(TOKENS["dispatcher"]))
    assert r.status_code == 201, r.text
    assert r.json()["area"]["coordinates"] == [RING]
