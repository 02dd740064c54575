"""Every problem type the API answers is provoked over HTTP against the real service.

One case per catalogue row marked ``http`` (``core.problems``): the answer must carry the
row's status, ``application/problem+json`` and a ``type`` ending in the code, and the
operation that answered must declare that code under that status in the served OpenAPI
document (each operation declares only its own problems, ``server.openapi``). A type added
to the catalogue without a case here (or in ``NOT_YET_PROVOKED``, which may only shrink)
fails ``test_every_http_problem_type_has_a_case``.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from typing import Any, Final

import httpx
import pytest

from core.problems import CATALOGUE
from tests.e2e.servers import serving
from tests.factories import TOKENS

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

Provoke = Callable[[httpx.Client], httpx.Response]
WO: Final = "/api/v1/workorders"
POINT: Final = {"type": "Point", "coordinates": [117.0, 36.65]}
SHA: Final = "a" * 64


def _as(role: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {TOKENS[role]}"}


def _new_order(c: httpx.Client, crew: str = "crew-b", kind: str = "line_marking"
               ) -> dict[str, object]:
    r = c.post(WO, json={"type": kind, "location": POINT, "crew_id": crew},
               headers=_as("dispatcher"))
    assert r.status_code == 201, r.text
    body: dict[str, object] = r.json()
    return body


def _illegal_transition(c: httpx.Client) -> httpx.Response:
    wo = _new_order(c)
    return c.post(f"{WO}/{wo['id']}/transitions", json={"to": "completed"},
                  headers=_as("crew_b"))


def _version_conflict(c: httpx.Client) -> httpx.Response:
    wo = _new_order(c)
    return c.post(f"{WO}/{wo['id']}/transitions",
                  json={"to": "en_route", "expected_version": 999}, headers=_as("crew_b"))


def _out_of_scope(c: httpx.Client) -> httpx.Response:
    wo = _new_order(c, crew="crew-b")
    return c.get(f"{WO}/{wo['id']}", headers=_as("crew_a"))


def _wrong_evidence_kind(c: httpx.Client) -> httpx.Response:
    wo = _new_order(c)
    steps = wo["steps"]
    assert isinstance(steps, list)
    assert steps
    return c.post("/api/v1/fieldwork/steps", json={
        "work_order_id": wo["id"], "step_key": steps[0]["key"],
        "evidence": [{"kind": "no-such-kind"}]}, headers=_as("crew_b"))


def _restore_a_draft_outage(c: httpx.Client) -> httpx.Response:
    r = c.post("/api/v1/outages", json={
        "kind": "planned", "cause": "main replacement", "start_at": "2027-03-01T01:00:00Z",
        "expected_restoration_at": "2027-03-01T05:00:00Z"}, headers=_as("dispatcher"))
    assert r.status_code == 201, r.text
    return c.post(f"/api/v1/outages/{r.json()['id']}/restore", json={},
                  headers=_as("dispatcher"))


def _send_back_without_reason(c: httpx.Client) -> httpx.Response:
    r = c.post("/api/v1/tickets", json={"channel": "counter", "category": "water_quality",
                                        "title": "brown water"}, headers=_as("dispatcher"))
    assert r.status_code == 201, r.text
    return c.post(f"/api/v1/tickets/{r.json()['id']}/send-back", json={"reason": ""},
                  headers=_as("dispatcher"))


def _note(mutation_id: int) -> dict[str, object]:
    return {"id": mutation_id, "device_time": "2026-12-01T00:00:00Z", "intent": {
        "kind": "add_note", "work_order_id": "any", "text": "n",
        "evidence_id": f"ev-{mutation_id}"}}


def _accept_a_supply_nobody_proposed(c: httpx.Client) -> httpx.Response:
    r = c.post("/api/v1/network/isolations", json={"point": [117.0, 36.65],
                                                  "tolerance_m": 1000},
               headers=_as("dispatcher"))
    assert r.status_code in (200, 201), r.text
    return c.post(f"/api/v1/network/isolations/{r.json()['id']}/supply-options/nope/accept",
                  headers=_as("supervisor"))


def _guess_a_complaint_number_until_locked(c: httpx.Client) -> httpx.Response:
    r = c.post("/api/v1/complaints", json={"channel": "counter",
                                           "kind": "quality_discoloured",
                                           "content": "brown water", "phone": "13800001234"},
               headers=_as("dispatcher"))
    assert r.status_code == 201, r.text
    number = r.json()["number"]
    for _ in range(20):
        r = c.get(f"/api/v1/public/complaints/{number}", params={"phone_last4": "0000"})
        if r.status_code != 404:
            break
    return r


def _apply_for_connection(c: httpx.Client, **fields: object) -> httpx.Response:
    return c.post("/api/v1/connections", json={
        "project_type": "platform_small", "channel": "counter", "applicant": "a",
        "phone": "13800001234", "address": "x", "location": [117.0, 36.65], **fields},
        headers=_as("dispatcher"))


def _accept_a_connection_twice(c: httpx.Client) -> httpx.Response:
    r = _apply_for_connection(c)
    assert r.status_code == 201, r.text
    url = f"/api/v1/connections/{r.json()['id']}/acceptance"
    assert c.post(url, json={}, headers=_as("dispatcher")).status_code == 200
    return c.post(url, json={}, headers=_as("dispatcher"))


def _read_on_a_new_route(c: httpx.Client, value: float, **extra: object) -> httpx.Response:
    """The reader reads cust-00002's meter on a new route (the demo's readers crew)."""
    wo = _new_order(c, crew="readers", kind="meter_reading_route")
    r = c.put(f"/api/v1/reading-routes/{wo['id']}/stops",
              json={"customer_ids": ["cust-00002"]}, headers=_as("dispatcher"))
    assert r.status_code == 200, r.text
    meter = r.json()["stops"][0]["meter_no"]
    return c.post("/api/v1/reading-routes/readings", json={
        "work_order_id": wo["id"], "customer_id": "cust-00002", "meter_no": meter,
        "value": value, **extra}, headers=_as("reader"))


def _read_below_the_last(c: httpx.Client, **extra: object) -> httpx.Response:
    assert _read_on_a_new_route(c, 1_000.0).status_code == 200
    return _read_on_a_new_route(c, 999.0, **extra)


def _accept_a_ticket_twice(c: httpx.Client) -> httpx.Response:
    # a ticket taken at the counter is accepted as it is registered
    r = c.post("/api/v1/tickets", json={"channel": "counter", "category": "water_quality",
                                        "title": "brown water"}, headers=_as("dispatcher"))
    assert r.status_code == 201, r.text
    assert r.json()["status"] == "accepted"
    return c.post(f"/api/v1/tickets/{r.json()['id']}/accept", json={},
                  headers=_as("dispatcher"))


def _photo_evidence_of_crew_b(c: httpx.Client) -> tuple[str, str]:
    """(order id, file hash): crew B's tablet pushed a photo step before uploading it."""
    wo = _new_order(c, crew="crew-b")
    push = "/api/v1/sync/push"
    last = c.post(push, json={"mutations": []}, headers=_as("crew_b")).json()["last_applied_id"]
    sha = f"{int(last) + 1:064x}"
    r = c.post(push, headers=_as("crew_b"), json={"mutations": [{
        "id": int(last) + 1, "device_time": "2026-12-01T00:00:00Z", "intent": {
            "kind": "attach_evidence", "work_order_id": wo["id"], "evidence_id": f"ev-{sha}",
            "sha256": sha, "content_type": "image/jpeg", "size": 100}}]})
    assert r.json()["results"][0]["outcome"] == "applied", r.text
    return str(wo["id"]), sha


def _declare_pushed_photo_without_its_order(c: httpx.Client) -> httpx.Response:
    _wo, sha = _photo_evidence_of_crew_b(c)
    return c.post("/api/v1/sync/attachments", headers=_as("crew_b"), json={
        "sha256": sha, "size": 100, "content_type": "image/jpeg"})


def _declare_pushed_photo_for_another_order(c: httpx.Client) -> httpx.Response:
    _wo, sha = _photo_evidence_of_crew_b(c)
    other = _new_order(c, crew="crew-b")
    return c.post("/api/v1/sync/attachments", headers=_as("crew_b"), json={
        "sha256": sha, "size": 100, "content_type": "image/jpeg", "work_order_id": other["id"]})


CASES: Final[dict[str, Provoke]] = {
    "bad-request": lambda c: c.post(WO, content=b"{not json", headers={
        **_as("dispatcher"), "Content-Type": "application/json"}),
    "validation-failed": lambda c: c.post(WO, json={
        "type": "line_marking", "location": POINT, "colour": "red"}, headers=_as("dispatcher")),
    "bad-input": lambda c: c.post(WO, json={
        "type": "line_marking", "location": {"type": "Point", "coordinates": [517.0, 36.65]}},
        headers=_as("dispatcher")),
    "unauthenticated": lambda c: c.get(WO),
    "forbidden": lambda c: c.post(WO, json={"type": "line_marking", "location": POINT},
                                  headers=_as("reader")),
    "out-of-scope": _out_of_scope,
    "not-found": lambda c: c.get(f"{WO}/no-such-order", headers=_as("dispatcher")),
    "method-not-allowed": lambda c: c.delete(WO, headers=_as("dispatcher")),
    "illegal-transition": _illegal_transition,
    "version-conflict": _version_conflict,
    "payload-too-large": lambda c: c.post(WO, json={
        "type": "line_marking", "location": POINT, "description": "x" * (3 * 1024 * 1024)},
        headers=_as("dispatcher")),
    "too-deeply-nested": lambda c: c.post(WO, content=b"[" * 100 + b"]" * 100, headers={
        **_as("dispatcher"), "Content-Type": "application/json"}),
    "outage-not-found": lambda c: c.get("/api/v1/outages/no-such-outage",
                                        headers=_as("dispatcher")),
    "notice-not-found": lambda c: c.get("/api/v1/notices/no-such-notice",
                                        headers=_as("dispatcher")),
    "sign-in-failed": lambda c: c.post("/api/v1/public/session",
                                       json={"token": "wo_not_a_token"}),
    "ticket-not-found": lambda c: c.get("/api/v1/tickets/nope", headers=_as("dispatcher")),
    "complaint-not-found": lambda c: c.get("/api/v1/complaints/nope",
                                           headers=_as("dispatcher")),
    "connection-not-found": lambda c: c.get("/api/v1/connections/nope",
                                            headers=_as("dispatcher")),
    "service-info-not-found": lambda c: c.get("/api/v1/service-info/nope",
                                              headers=_as("dispatcher")),
    "isolation-not-found": lambda c: c.get("/api/v1/network/isolations/nope",
                                           headers=_as("dispatcher")),
    "outage-task-not-found": lambda c: c.post("/api/v1/outages/tasks/nope/door-notice",
                                              json={"photo_sha256": SHA},
                                              headers=_as("crew_a")),
    "attachment-not-declared": lambda c: c.put(f"/api/v1/sync/attachments/{SHA}?offset=0",
                                               content=b"xx", headers=_as("crew_a")),
    "protocol-version-unsupported": lambda c: c.post("/api/v1/sync/pull", json={"protocol": 99},
                                                     headers=_as("crew_a")),
    "bad-cursor": lambda c: c.post("/api/v1/sync/pull", json={"cursor": "garbage"},
                                   headers=_as("crew_a")),
    "isolation-request-invalid": lambda c: c.post("/api/v1/network/isolations", json={},
                                                  headers=_as("dispatcher")),
    "pipe-not-found": lambda c: c.post("/api/v1/network/isolations",
                                       json={"pipe_ids": ["nope"]}, headers=_as("dispatcher")),
    "no-pipe-near-point": lambda c: c.post("/api/v1/network/isolations", json={
        "point": [117.9, 36.9], "tolerance_m": 1}, headers=_as("dispatcher")),
    "conflict": lambda c: c.post("/api/v1/crews", json={"id": "crew-a", "name": "A again"},
                                 headers=_as("admin")),
    "unknown-category": lambda c: c.post("/api/v1/tickets", json={
        "channel": "counter", "category": "no-such", "title": "t"}, headers=_as("dispatcher")),
    "wrong-work-order-type": lambda c: c.post("/api/v1/bursts/arrival", json={
        "work_order_id": _new_order(c)["id"]}, headers=_as("crew_b")),
    "no-isolation-plan": lambda c: c.get(
        f"/api/v1/bursts/{_new_order(c, kind='burst_repair')['id']}", headers=_as("crew_b")),
    "unknown-crs": lambda c: c.post("/api/v1/network/import/inp", json={
        "inp": "[TITLE]\n", "crs": "EPSG:999999"}, headers=_as("admin")),
    "inp-malformed": lambda c: c.post("/api/v1/network/import/inp", json={
        "inp": "[PIPES]\nP1 bad", "crs": "EPSG:4548"}, headers=_as("admin")),
    "geojson-malformed": lambda c: c.post("/api/v1/network/import/geojson", json={
        "layers": {"pipes": {"type": "FeatureCollection", "features": [{
            "type": "Feature", "geometry": POINT, "properties": {}}]}}}, headers=_as("admin")),
    "unknown-step": lambda c: c.post("/api/v1/fieldwork/steps", json={
        "work_order_id": _new_order(c)["id"], "step_key": "no-such-step",
        "evidence": [{"kind": "check"}]}, headers=_as("crew_b")),
    "evidence-kind-not-required": _wrong_evidence_kind,
    "bad-marked-line": lambda c: c.post("/api/v1/fieldwork/marked-lines", json={
        "work_order_id": _new_order(c)["id"], "fixes": [{"lon": 117.0, "lat": 36.65}]},
        headers=_as("crew_b")),
    "illegal-outage-transition": _restore_a_draft_outage,
    "bad-ticket-input": lambda c: c.post("/api/v1/tickets", json={
        "channel": "counter", "category": "water_quality", "title": ""},
        headers=_as("dispatcher")),
    "reason-required": _send_back_without_reason,
    "attachment-type-refused": lambda c: c.post("/api/v1/sync/attachments", json={
        "sha256": SHA, "size": 10, "content_type": "text/plain",
        "work_order_id": _new_order(c, crew="crew-a")["id"]}, headers=_as("crew_a")),
    "attachment-too-large": lambda c: c.post("/api/v1/sync/attachments", json={
        "sha256": SHA, "size": 10**10, "content_type": "image/jpeg",
        "work_order_id": _new_order(c, crew="crew-a")["id"]}, headers=_as("crew_a")),
    "attachment-order-required": _declare_pushed_photo_without_its_order,
    "attachment-order-mismatch": _declare_pushed_photo_for_another_order,
    "mutation-order": lambda c: c.post("/api/v1/sync/push", json={
        "mutations": [_note(2), _note(1)]}, headers=_as("crew_a")),
    "mutation-gap": lambda c: c.post("/api/v1/sync/push", json={"mutations": [_note(7)]},
                                     headers=_as("crew_b")),
    "supply-option-not-found": _accept_a_supply_nobody_proposed,
    "attachment-declaration-invalid": lambda c: c.post("/api/v1/sync/attachments", json={
        "sha256": "xyz", "size": 10, "content_type": "image/jpeg",
        "work_order_id": _new_order(c, crew="crew-a")["id"]}, headers=_as("crew_a")),
    "time-out-of-range": lambda c: c.get("/api/v1/stats/timeliness",
                                         params={"since": "1999-01-01T00:00:00Z"},
                                         headers=_as("supervisor")),
    "bad-outage": lambda c: c.post("/api/v1/outages", json={
        "kind": "planned", "cause": "main replacement", "start_at": "2027-03-01T05:00:00Z",
        "expected_restoration_at": "2027-03-01T01:00:00Z"}, headers=_as("dispatcher")),
    "lookup-locked": _guess_a_complaint_number_until_locked,
    "estimate-needs-evidence": lambda c: c.post("/api/v1/reading-routes/readings", json={
        "work_order_id": _new_order(c, kind="meter_reading_route")["id"], "customer_id": "c",
        "meter_no": "m", "value": 1.0, "estimated": True}, headers=_as("crew_b")),
    "not-on-route": lambda c: c.post("/api/v1/reading-routes/readings", json={
        "work_order_id": _new_order(c, kind="meter_reading_route")["id"], "customer_id": "c",
        "meter_no": "m", "value": 1.0}, headers=_as("crew_b")),
    "valve-not-found": lambda c: c.post("/api/v1/network/isolations", json={
        "point": [117.0, 36.65], "tolerance_m": 1000, "inoperable_valve_ids": ["nope"]},
        headers=_as("dispatcher")),
    "connection-bad-input": lambda c: _apply_for_connection(c, phone="12"),
    "connection-stage": _accept_a_connection_twice,
    "ticket-state": _accept_a_ticket_twice,
    "reading-negative": lambda c: _read_on_a_new_route(c, -1.0),
    "reading-above-register": lambda c: _read_on_a_new_route(c, 100_000.0),
    "reading-below-previous": _read_below_the_last,
    "rollover-implausible": lambda c: _read_below_the_last(c, below_reason="rollover"),
}

#: HTTP problem types that have no provoking case yet; this set may only shrink
NOT_YET_PROVOKED: Final = frozenset({
    "attachment-hash-mismatch", "attachment-not-yours", "attachment-offset-mismatch",
    "attachment-quota-exceeded", "bad-photo", "bad-signature", "calendar-notice-incomplete",
    "calendar-out-of-range", "complaint-state", "connection-documents-missing",
    "connection-limit-out-of-range", "connection-lookup-locked", "consent-missing",
    "coordinates-invalid", "customer-file-invalid", "delivery-not-found", "device-reinstalled",
    "device-token-required", "evidence-missing", "extension-refused", "internal-error",
    "layer-file-unreadable", "lead-time-too-short", "network-empty", "network-invalid",
    "network-outside-service-area", "no-cjk-font", "no-estimate-to-explain",
    "no-main-near-point", "outage-conflict", "override-needs-supervisor",
    "override-reason-missing", "photo-not-uploaded", "removal-refused", "rule-violation",
    "supervisor-required", "too-many-requests", "unsupported-media-type", "valve-not-in-plan",
    "work-order-closed",
})


@pytest.fixture(scope="module")
def api(tmp_path_factory: pytest.TempPathFactory) -> Iterator[httpx.Client]:
    data_dir = tmp_path_factory.mktemp("problems")
    with serving(["--demo", "--data-dir", str(data_dir)]) as (_proc, url), \
            httpx.Client(base_url=url, timeout=60) as client:
        yield client


@pytest.fixture(scope="module")
def declared(api: httpx.Client) -> dict[tuple[str, str], dict[int, set[str]]]:
    """(method, path template) -> status -> the problem codes the document declares."""
    doc: dict[str, Any] = api.get("/schema/openapi.json").json()
    out: dict[tuple[str, str], dict[int, set[str]]] = {}
    for path, item in doc["paths"].items():
        for method, op in item.items():
            if not isinstance(op, dict) or "responses" not in op:
                continue
            out[(method.upper(), path)] = {
                int(status): set(answer["description"].split("one of: ", 1)[1].split(", "))
                for status, answer in op["responses"].items()
                if "application/problem+json" in answer.get("content", {})}
    return out


def _operation(declared: dict[tuple[str, str], dict[int, set[str]]], method: str,
               path: str) -> dict[int, set[str]] | None:
    """The declared problems of the operation a request to ``path`` reached (None: no such).

    A literal segment wins over a parameter (``/notices/public-key``, ``/notices/{doc_id}``).
    """
    for (m, template), statuses in sorted(declared.items(), key=lambda kv: kv[0][1].count("{")):
        pattern = re.sub(r"\\\{[^}]+\\\}", "[^/]+", re.escape(template))
        if m == method and re.fullmatch(pattern, path):
            return statuses
    return None


def test_every_http_problem_type_has_a_case() -> None:
    http_types = {code for code, row in CATALOGUE.items() if row.http}
    assert set(CASES) <= http_types
    assert http_types >= NOT_YET_PROVOKED
    assert not set(CASES) & NOT_YET_PROVOKED, "a provoked type is still listed as missing"
    assert http_types - set(CASES) - NOT_YET_PROVOKED == set(), (
        "a new HTTP problem type needs a case in CASES")


@pytest.mark.parametrize("code", sorted(CASES))
def test_problem_type_over_http(api: httpx.Client, code: str,
                                declared: dict[tuple[str, str], dict[int, set[str]]]) -> None:
    r = CASES[code](api)
    row = CATALOGUE[code]
    operation = _operation(declared, r.request.method, r.request.url.path)
    if code != "method-not-allowed":  # answered for a method the path has no operation for
        assert operation is not None, r.request.url.path
        assert code in operation.get(row.status, set()), (
            f"{r.request.method} {r.request.url.path} does not declare {code}")
    assert r.status_code == row.status, r.text
    assert r.headers["content-type"].startswith("application/problem+json")
    body = r.json()
    assert str(body["type"]).rsplit("/", 1)[-1] == code
    assert body["status"] == row.status
    assert body["title"] == row.title
