"""No list slips out of the paging convention (issue 15, docs/api.md "Paging").

The served OpenAPI document names every GET's answer; one that is a bare JSON array is a
list that does not page. Each such list must be in ``BARE`` with the reason it is whole
(the same reasons docs/api.md gives), so a new unpaged list fails here until it pages or
is argued for. Every GET that answers the envelope takes ``limit`` and ``cursor``.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any, Final

import pytest

from tests.factories import served_openapi

pytestmark = pytest.mark.integration

#: GET path -> why it answers a whole array (each reason is in docs/api.md "Paging")
BARE: Final = {
    "/api/v1/console/isolations/{isolation_id}/breakdown":
        "a summary of one isolation: one count per compound and customer category",
    "/api/v1/console/crews":
        "the utility's crew roster for the assignment picker, tens of rows",
}
ENVELOPE: Final = {"items", "next_cursor", "next"}
DOCS: Final = Path(__file__).resolve().parents[3] / "docs" / "api.md"


@pytest.fixture(scope="module")
def document(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """The served document, built once for the module (it depends on no data)."""
    return served_openapi(tmp_path_factory.mktemp("openapi-lists"))


def _resolve(doc: dict[str, Any], schema: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in schema:
        schema = doc["components"]["schemas"][schema["$ref"].rsplit("/", 1)[-1]]
    return schema


def _answers(doc: dict[str, Any]) -> Iterator[tuple[str, dict[str, Any], dict[str, Any]]]:
    """(path, operation, JSON schema of a 2xx answer) of every GET."""
    for path, item in doc["paths"].items():
        op = item.get("get")
        if op is None:
            continue
        for status, response in op.get("responses", {}).items():
            if not status.startswith("2"):
                continue
            for media, body in response.get("content", {}).items():
                if "json" in media and "schema" in body:
                    yield path, op, _resolve(doc, body["schema"])


def _is_array(schema: dict[str, Any]) -> bool:
    variants = schema.get("oneOf", schema.get("anyOf", [schema]))
    return any(v.get("type") == "array" for v in variants)


def test_no_get_answers_a_bare_array_unless_it_says_why(document: dict[str, Any]) -> None:
    bare = {path for path, _, schema in _answers(document) if _is_array(schema)}
    assert bare - BARE.keys() == set(), (
        "these GETs answer a bare array: page them (server/paging.py) or add them to BARE "
        "and docs/api.md with the reason")
    assert BARE.keys() - bare == set(), "these now page: take them out of BARE and the docs"


def test_every_bare_list_and_its_reason_is_in_the_docs() -> None:
    text = " ".join(DOCS.read_text(encoding="utf-8").split())  # wrapped lines read as one
    for path, reason in BARE.items():
        assert f"`{path.removeprefix('/api/v1')}`" in text, path
        assert reason in text, reason


def test_every_envelope_takes_limit_and_cursor(document: dict[str, Any]) -> None:
    paged = [(path, op) for path, op, schema in _answers(document)
             if set(schema.get("properties", {})) >= ENVELOPE]
    assert len(paged) >= 20
    for path, op in paged:
        query = {p["name"] for p in op.get("parameters", []) if p.get("in") == "query"}
        assert {"limit", "cursor"} <= query, path
