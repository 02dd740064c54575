"""Inputs that once took the service down are bounded 4xx problems now."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from litestar import Litestar
from litestar.testing import TestClient

from server.app import create_app
from server.services import Services
from tests.factories import TOKENS, assert_problem, bearer, make_clock, make_services
from tests.integration.notifications.gateway import AlertGroup, alert_group

pytestmark = pytest.mark.integration

DISPATCH = {**bearer(TOKENS["dispatcher"]), "Content-Type": "application/json"}
CREW = {**bearer(TOKENS["crew_a"]), "Content-Type": "application/json"}


def _deep(n: int) -> bytes:
    return b"[" * n + b"]" * n


@pytest.mark.parametrize(("path", "headers", "body"), [
    ("/api/v1/workorders", DISPATCH,
     b'{"type":"line_marking","location":{"type":"Point","coordinates":[117,36.6]},'
     b'"fields":{"a":' + _deep(100_000) + b"}}"),
    ("/api/v1/sync/push", CREW,
     b'{"mutations":[{"id":1,"device_time":"2026-11-23T01:00:00Z","intent":{"kind":'
     b'"update_fields","work_order_id":"x","base_version":1,"fields":{"a":' + _deep(5000)
     + b"}}}]}"),
    ("/api/v1/outages", DISPATCH, b'{"kind":"planned","area":' + _deep(3000) + b"}"),
    ("/api/v1/complaints", DISPATCH, b'{"content":' + _deep(200) + b"}"),
    ("/api/v1/network/isolations", DISPATCH, b'{"pipe_ids":' + _deep(70) + b"}"),
])
def test_deeply_nested_json_is_a_400_problem(client: TestClient[Litestar], path: str,
                                              headers: dict[str, str], body: bytes) -> None:
    r = client.post(path, content=body, headers=headers)
    assert r.status_code == 400, r.text
    assert r.headers["content-type"].startswith("application/problem+json")
    assert r.json()["type"].endswith("/too-deeply-nested")


def test_brackets_inside_strings_do_not_count(client: TestClient[Litestar]) -> None:
    body = {"type": "line_marking", "crew_id": "crew-b", "title": "[" * 500 + '"{' * 10,
            "location": {"type": "Point", "coordinates": [117.0, 36.65]}}
    r = client.post("/api/v1/workorders", content=json.dumps(body), headers=DISPATCH)
    assert r.status_code == 201, r.text


@pytest.mark.parametrize("columns", [10_000_000, 15, 0, -3])
def test_print_job_width_is_bounded(client: TestClient[Litestar], columns: int) -> None:
    r = client.get(f"/api/v1/notices/any-notice/escpos?columns={columns}", headers=DISPATCH)
    assert_problem(r, 400, "validation-failed")
    assert r.headers["content-type"].startswith("application/problem+json")


@pytest.mark.parametrize("tolerance", [0, -5, 1e9])
def test_isolation_tolerance_must_be_positive_and_bounded(
        client: TestClient[Litestar], tolerance: float) -> None:
    r = client.post("/api/v1/network/isolations", headers=DISPATCH,
                    json={"point": [117.0, 36.65], "tolerance_m": tolerance})
    assert_problem(r, 400, "validation-failed")
    assert r.headers["content-type"].startswith("application/problem+json")


@pytest.fixture
def held() -> Iterator[AlertGroup]:
    with alert_group(held=True) as group:
        yield group


def test_a_water_quality_alert_is_not_sent_inside_the_request(tmp_path: Path,
                                                              held: AlertGroup) -> None:
    clock = make_clock()
    svc: Services = make_services(str(tmp_path), clock, alert_group_url=held.url)
    body = {"channel": "web_wechat", "kind": "quality_odour", "content": "自来水有异味",
            "phone": "13812345678", "compound": "燕山小区", "target_unit": "管网所"}
    try:
        with TestClient(create_app(svc.settings, clock=clock, services=svc)) as client:
            for _ in range(10):
                clock.advance(minutes=5)
                r = client.post("/api/v1/complaints", json=body, headers=DISPATCH)
                assert r.status_code == 201, r.text
            # the tenth complaint raised the alert and its request has returned, while the
            # group's gateway is still holding the send: the request did not wait for it
            alert = svc.tickets.watch.store.alerts(1)[0]
            assert alert["attempts"] == 0
            assert alert["sent_at"] is None
            held.release.set()
            assert svc.background is not None
            svc.background.shutdown(wait=True)  # the background send finishes
        assert len(held.posts) == 1
        assert svc.tickets.watch.store.alerts(1)[0]["sent_at"] is not None
    finally:
        svc.close()


@pytest.mark.parametrize(("method", "path"), [
    ("GET", "/api/v1/network/imports/1/warnings?cursor=19681423381095251968"),
    ("GET", "/api/v1/network/imports/99999999999999999999/warnings"),
    ("POST", "/api/v1/sync/reviews/99999999999999999999/resolution"),
])
def test_an_integer_past_what_a_store_keeps_is_a_400_problem(
        client: TestClient[Litestar], method: str, path: str) -> None:
    # found by schemathesis: SQLite refused to bind it, which answered time-out-of-range
    r = client.request(method, path, json={"resolution": "x"} if method == "POST" else None,
                       headers=bearer(TOKENS["admin"]))
    assert_problem(r, 400, "validation-failed")
