"""Every problem type the API answers is provoked over HTTP against the real service.

One case per catalogue row marked ``http`` (``core.problems``): the answer must carry the
row's status, ``application/problem+json`` and a ``type`` ending in the code
(``tests.factories.assert_problem``), and the operation that answered must declare that
code under that status in the served OpenAPI document (each operation declares only its
own problems, ``server.openapi``). A type added to the catalogue without a case here
(or in ``NOT_PROVOKED`` with the reason no request can provoke it; that may only shrink)
fails ``test_every_http_problem_type_has_a_case``.

The server is the demo with three settings a deployment uses too: 127.0.0.1 is a trusted
proxy (so a case can spend an address's budget of its own through X-Forwarded-For), a
small tokenless budget (so spending it takes few requests) and a service area.
"""

from __future__ import annotations

import hashlib
import json
import re
import subprocess
import sys
import tempfile
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, Final

import httpx
import pytest

from core.problems import CATALOGUE
from tests.e2e.servers import serving
from tests.factories import TOKENS, assert_problem

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

Provoke = Callable[[httpx.Client], httpx.Response]
WO: Final = "/api/v1/workorders"
POINT: Final = {"type": "Point", "coordinates": [117.0, 36.65]}
SHA: Final = "a" * 64
#: the demo network's box (Jinan), so an import elsewhere is refused (WGS84 lon/lat)
SERVICE_AREA: Final = "116.2,36.0,117.9,37.3"
#: tokenless requests per minute and address the test server allows
PUBLIC_BUDGET: Final = 40


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


def _note(mutation_id: int, text: str = "n") -> dict[str, object]:
    return {"id": mutation_id, "device_time": "2026-12-01T00:00:00Z", "intent": {
        "kind": "add_note", "work_order_id": "any", "text": text,
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


def _server_now(c: httpx.Client) -> datetime:
    """The server's clock, read off a record it stamps (the test never reads its own)."""
    return datetime.fromisoformat(str(_new_order(c)["created_at"]))


def _device_of(c: httpx.Client, user: str = "crew-b-liu") -> dict[str, str]:
    """The headers of a newly registered tablet of ``user``: its uploads, quotas and
    mutation numbering are its own, whatever other cases did."""
    r = c.post("/api/v1/devices", json={"user_id": user}, headers=_as("admin"))
    assert r.status_code == 201, r.text
    return {"Authorization": f"Bearer {r.json()['token']}"}


#: the start of a JPEG: the server sniffs uploads, so bytes must pass for an image
JPEG_MAGIC: Final = b"\xff\xd8\xff\xe0"


def _declare(c: httpx.Client, device: dict[str, str], wo_id: str, size: int,
             sha: str) -> None:
    r = c.post("/api/v1/sync/attachments", headers=device, json={
        "sha256": sha, "size": size, "content_type": "image/jpeg", "work_order_id": wo_id})
    assert r.status_code == 200, r.text


def _upload(c: httpx.Client, device: dict[str, str], wo_id: str, data: bytes,
            sha: str | None = None, offset: int = 0) -> tuple[str, httpx.Response]:
    """Declare ``data`` (as ``sha``, default its real hash) and send it from ``offset``."""
    sha = sha or hashlib.sha256(data).hexdigest()
    _declare(c, device, wo_id, len(data), sha)
    return sha, c.put(f"/api/v1/sync/attachments/{sha}", params={"offset": offset},
                      content=data, headers=device)


def _upload_with_a_wrong_hash(c: httpx.Client) -> httpx.Response:
    return _upload(c, _device_of(c), str(_new_order(c)["id"]), JPEG_MAGIC + b"x" * 16,
                   sha="c" * 64)[1]


def _upload_from_the_wrong_offset(c: httpx.Client) -> httpx.Response:
    return _upload(c, _device_of(c), str(_new_order(c)["id"]), JPEG_MAGIC + b"o" * 16,
                   offset=5)[1]


def _upload_into_another_devices_declaration(c: httpx.Client) -> httpx.Response:
    wo_id = str(_new_order(c)["id"])
    data = JPEG_MAGIC + b"y" * 16
    sha = hashlib.sha256(data).hexdigest()
    _declare(c, _device_of(c), wo_id, len(data), sha)
    return c.put(f"/api/v1/sync/attachments/{sha}", params={"offset": 0}, content=data,
                 headers=_device_of(c))


def _declare_past_the_device_quota(c: httpx.Client) -> httpx.Response:
    """Unfinished declarations of one tablet add up past its quota (100 MB by default),
    each under the per-file limit (25 MB); nothing is uploaded."""
    device, wo_id, size = _device_of(c), str(_new_order(c)["id"]), 25 * 1024 * 1024
    for i in range(4):
        _declare(c, device, wo_id, size, f"d{i:063x}")
    return c.post("/api/v1/sync/attachments", headers=device, json={
        "sha256": f"d{4:063x}", "size": size, "content_type": "image/jpeg",
        "work_order_id": wo_id})


def _attach_an_unreadable_photo(c: httpx.Client) -> httpx.Response:
    device, wo_id = _device_of(c), str(_new_order(c)["id"])
    sha, r = _upload(c, device, wo_id, JPEG_MAGIC + b"no image follows")
    assert r.status_code == 200, r.text
    return c.post("/api/v1/fieldwork/photos", headers=device, json={
        "work_order_id": wo_id, "step_key": "marks_photos", "sha256": sha})


def _reuse_a_mutation_id(c: httpx.Client) -> httpx.Response:
    device = _device_of(c)
    r = c.post("/api/v1/sync/push", json={"mutations": [_note(1)]}, headers=device)
    assert r.status_code == 200, r.text
    return c.post("/api/v1/sync/push", json={"mutations": [_note(1, "other content")]},
                  headers=device)


def _extend_to_an_earlier_time(c: httpx.Client) -> httpx.Response:
    r = c.post("/api/v1/tickets", json={"channel": "counter", "category": "water_quality",
                                        "title": "brown water"}, headers=_as("dispatcher"))
    assert r.status_code == 201, r.text
    return c.post(f"/api/v1/tickets/{r.json()['id']}/extensions", json={
        "reason": "parts on order", "new_due_at": "2001-01-01T00:00:00Z"},
        headers=_as("dispatcher"))


def _handle_a_suggestion_nobody_made(c: httpx.Client) -> httpx.Response:
    r = c.post("/api/v1/complaints", json={"channel": "counter", "kind": "quality_discoloured",
                                           "content": "brown water", "phone": "13800001234"},
               headers=_as("dispatcher"))
    assert r.status_code == 201, r.text
    return c.post(f"/api/v1/complaints/{r.json()['id']}/suggestion-handled", json={},
                  headers=_as("dispatcher"))


def _commit_to_a_limit_outside_the_range(c: httpx.Client) -> httpx.Response:
    r = _apply_for_connection(c)
    assert r.status_code == 201, r.text
    return c.post(f"/api/v1/connections/{r.json()['id']}/acceptance",
                  json={"committed_limit": 1000}, headers=_as("dispatcher"))


def _guess_a_connection_number_until_locked(c: httpx.Client) -> httpx.Response:
    r = _apply_for_connection(c)
    assert r.status_code == 201, r.text
    number = r.json()["number"]
    for _ in range(20):
        r = c.get(f"/api/v1/public/connections/{number}", params={"phone_last4": "0000"},
                  headers=_from_address("198.51.100.7"))
        if r.status_code != 404:
            break
    return r


def _from_address(address: str) -> dict[str, str]:
    """A request relayed by the trusted proxy (the server trusts 127.0.0.1, see ``api``)
    for ``address``: per-address budgets of one case do not spill into another."""
    return {"X-Forwarded-For": address}


def _spend_the_public_budget(c: httpx.Client) -> httpx.Response:
    """121 tokenless requests from one address within the minute (budget 120)."""
    r = c.get("/api/v1/public/health", headers=_from_address("203.0.113.9"))
    for _ in range(PUBLIC_BUDGET):
        r = c.get("/api/v1/public/health", headers=_from_address("203.0.113.9"))
        if r.status_code == 429:
            break
    return r


def _complete_without_evidence(c: httpx.Client) -> httpx.Response:
    wo = _new_order(c)
    for to in ("en_route", "on_site", "in_progress"):
        r = c.post(f"{WO}/{wo['id']}/transitions", json={"to": to}, headers=_as("crew_b"))
        assert r.status_code == 200, r.text
    return c.post(f"{WO}/{wo['id']}/transitions", json={"to": "completed"},
                  headers=_as("crew_b"))


def _step_on_a_cancelled_order(c: httpx.Client) -> httpx.Response:
    wo = _new_order(c)
    r = c.post(f"{WO}/{wo['id']}/transitions", json={"to": "cancelled", "reason": "duplicate"},
               headers=_as("dispatcher"))
    assert r.status_code == 200, r.text
    return c.post("/api/v1/fieldwork/steps", json={
        "work_order_id": wo["id"], "step_key": "contractor_request",
        "evidence": [{"kind": "check"}]}, headers=_as("crew_b"))


def _remove_a_disputed_meter(c: httpx.Client) -> httpx.Response:
    # the demo's customer 14 has a property dispute (server.demo: i % 97 == 13)
    r = c.post(WO, json={"type": "meter_removal", "location": POINT, "crew_id": "crew-b",
                         "customer_id": "cust-00014"}, headers=_as("dispatcher"))
    assert r.status_code == 201, r.text
    return c.post(f"/api/v1/fieldwork/{r.json()['id']}/removal-check", headers=_as("crew_b"))


def _operate_a_valve_outside_the_plan(c: httpx.Client) -> httpx.Response:
    burst = _new_order(c, kind="burst_repair")
    iso = c.post("/api/v1/network/isolations", json={"point": [117.0, 36.65],
                                                    "tolerance_m": 1000},
                 headers=_as("dispatcher"))
    assert iso.status_code == 201, iso.text
    r = c.put(f"/api/v1/bursts/{burst['id']}/plan", json={"isolation_id": iso.json()["id"]},
              headers=_as("dispatcher"))
    assert r.status_code == 200, r.text
    return c.post("/api/v1/bursts/valve-operations", json={
        "work_order_id": burst["id"], "valve_id": "no-such-valve", "action": "closed"},
        headers=_as("crew_b"))


def _sign_a_replacement_notice(c: httpx.Client, signature: dict[str, object] | None = None,
                               **notice: object) -> httpx.Response:
    wo = _new_order(c, kind="meter_replacement")
    return c.post("/api/v1/notices", headers=_as("crew_b"), json={
        "work_order_id": wo["id"],
        "signature": signature or {"width": 100, "height": 50, "strokes": [[[1, 1], [5, 5]]]},
        "notice": {"type": "meter_replacement_notice", "account_no": "370100000001",
                   "account_name": "a", "address": "x", "meter_location": "k",
                   "diameter_mm": 15, "old_meter_no": "old", "final_reading": 1.0,
                   "new_meter_no": "new", "initial_reading": 0.0, "crew_id": "crew-b",
                   "performed_at": "2026-12-01T00:00:00Z", "position": [117.0, 36.65],
                   **notice}})


def _outage_starting_soon(c: httpx.Client) -> str:
    now = _server_now(c)
    r = c.post("/api/v1/outages", json={
        "kind": "planned", "cause": "valve swap",
        "start_at": (now + timedelta(hours=2)).isoformat(),
        "expected_restoration_at": (now + timedelta(hours=4)).isoformat()},
        headers=_as("dispatcher"))
    assert r.status_code == 201, r.text
    return str(r.json()["id"])


def _announce_soon(c: httpx.Client, role: str, **body: object) -> httpx.Response:
    return c.post(f"/api/v1/outages/{_outage_starting_soon(c)}/announce", json=body,
                  headers=_as(role))


def _door_notice_with_a_photo_never_uploaded(c: httpx.Client) -> httpx.Response:
    # a customer with no number and no WeChat: the service's outbox worker turns the
    # notice into a door-notice task for a crew (an emergency: quiet hours hold none)
    r = c.post("/api/v1/outages", json={
        "kind": "emergency", "cause": "burst main", "start_at": "2027-06-10T00:00:00Z",
        "expected_restoration_at": "2027-06-10T06:00:00Z",
        "recipients": [{"customer_id": "C-DOOR", "address": "经十路1号", "channels": ["sms"]}]},
        headers=_as("dispatcher"))
    assert r.status_code == 201, r.text
    outage = r.json()["id"]
    assert c.post(f"/api/v1/outages/{outage}/announce", json={},
                  headers=_as("dispatcher")).status_code == 200
    door: list[dict[str, Any]] = []
    waited = threading.Event()
    for _ in range(600):  # bounded: the worker passes every few seconds
        door = [t for t in c.get(f"/api/v1/outages/{outage}/tasks?limit=1000",
                                 headers=_as("dispatcher")).json()["items"]
                if t["kind"] == "door_notice"]
        if door:
            break
        waited.wait(0.2)
    assert door, "the outbox worker made no door-notice task"
    return c.post(f"/api/v1/outages/tasks/{door[0]['id']}/door-notice",
                  json={"photo_sha256": SHA}, headers=_as("dispatcher"))


def _import_pipes(c: httpx.Client, coords: list[list[float]]) -> httpx.Response:
    """A GeoJSON import of one pipe: refused before it replaces the demo network."""
    return c.post("/api/v1/network/import/geojson", headers=_as("admin"), json={"layers": {
        "pipes": {"type": "FeatureCollection", "features": [{
            "type": "Feature", "geometry": {"type": "LineString", "coordinates": coords},
            "properties": {"id": "X1", "diameter_mm": 100}}]}}})



# -- types only a server set up otherwise answers: each case starts its own ---------------
CLI_PASSWORD: Final = "a long enough secret"  # noqa: S105 - a test password


@contextmanager
def _own_server(*, demo: bool = True, env: dict[str, str] | None = None
                ) -> Iterator[tuple[httpx.Client, Path]]:
    """A server of its own (its data folder, ``env``), for a type the shared demo server
    cannot answer; the response a case returns is read before the server stops."""
    with tempfile.TemporaryDirectory(prefix="problems-own-") as tmp:
        data = Path(tmp)
        args = [*(["--demo"] if demo else []), "--no-workers", "--data-dir", str(data)]
        with serving(args, env) as (_proc, url), \
                httpx.Client(base_url=url, timeout=60) as client:
            yield client, data


def _cli(data: Path, *args: str) -> dict[str, Any]:
    """``waterops ARGS --data-dir DATA --json``: what an operator types on the server."""
    done = subprocess.run([sys.executable, "-m", "server.cli", *args, "--data-dir", str(data),
                           "--json"], capture_output=True, text=True, timeout=120,
                          check=False, cwd=str(Path(__file__).resolve().parents[2]))
    assert done.returncode == 0, done.stdout + done.stderr
    body: dict[str, Any] = json.loads(done.stdout)
    return body


def _isolate_without_a_network(_c: httpx.Client) -> httpx.Response:
    # a new installation: accounts made with the CLI, no network imported yet
    with _own_server(demo=False) as (c, data):
        _cli(data, "accounts", "add-user", "disp-new", "新调度员", "--role", "dispatcher")
        token = str(_cli(data, "accounts", "register-device", "disp-new")["token"])
        r = c.post("/api/v1/network/isolations", json={"point": [117.0, 36.65]},
                   headers={"Authorization": f"Bearer {token}"})
        r.read()
        return r


def _posting_without_its_font(_c: httpx.Client) -> httpx.Response:
    # the operator named a CJK font that is not there: only that font is tried
    with _own_server(env={"WATEROPS_PDF_FONT": "/nonexistent/waterops-font.ttc"}) as (c, _d):
        outage = c.post("/api/v1/outages", headers=_as("dispatcher"), json={
            "kind": "planned", "cause": "valve replacement",
            "start_at": "2027-06-10T00:00:00Z", "expected_restoration_at": "2027-06-10T06:00:00Z"})
        assert outage.status_code == 201, outage.text
        r = c.get(f"/api/v1/console/outages/{outage.json()['id']}/posting.pdf",
                  headers=_as("dispatcher"))
        r.read()
        return r


def _sync_with_a_password_session(_c: httpx.Client) -> httpx.Response:
    # a crew member signed in to the console by password (set with the CLI) has no device
    with _own_server() as (c, data):
        _cli(data, "console", "set-password", "crew-a-zhang", "--password", CLI_PASSWORD)
        session = c.post("/api/v1/public/session",
                         json={"user_id": "crew-a-zhang", "password": CLI_PASSWORD})
        assert session.status_code == 200, session.text
        r = c.post("/api/v1/sync/pull", json={"cursor": None, "limit": 20},
                   headers={"X-CSRF-Token": session.json()["csrf_token"]})
        r.read()
        return r


#: planned jobs far enough ahead for their 24-48 h notice (as the other cases' outages)
JOBS_FROM: Final = datetime.fromisoformat("2027-06-07T00:00:00+00:00")


def _announce_into_another_outage(_c: httpx.Client) -> httpx.Response:
    # a network with two feeds: two jobs whose closures together cut off a third area
    from tests.unit.geo.geo_networks import to_layers
    from tests.unit.geo.test_geo_overlap import two_feeds

    with _own_server() as (c, _d):
        imported = c.post("/api/v1/network/import/geojson", headers=_as("admin"),
                          json={"layers": to_layers(two_feeds())})
        assert imported.status_code in (200, 201), imported.text
        outages = []
        for pipe, start_h in (("pa", 72), ("pb", 75)):  # the second overlaps by 3 h
            plan = c.post("/api/v1/network/isolations", headers=_as("dispatcher"),
                          json={"pipe_ids": [pipe]})
            assert plan.status_code == 201, plan.text
            start = JOBS_FROM + timedelta(hours=start_h)
            made = c.post("/api/v1/outages/from-isolation", headers=_as("dispatcher"), json={
                "isolation_id": plan.json()["id"], "kind": "planned", "cause": "更换阀门",
                "start_at": start.isoformat(),
                "expected_restoration_at": (start + timedelta(hours=6)).isoformat()})
            assert made.status_code == 201, made.text
            outages.append(made.json()["id"])
        first = c.post(f"/api/v1/outages/{outages[0]}/announce", json={},
                       headers=_as("dispatcher"))
        assert first.status_code == 200, first.text
        r = c.post(f"/api/v1/outages/{outages[1]}/announce", json={},
                   headers=_as("dispatcher"))
        r.read()
        return r


STRICT_DOCUMENTS: Final = (
    'name = "strictdocs"\ntitle = "no 容缺受理"\n\n[connections]\n'
    'accept_missing_documents = false\n\n[connections.types.single_meter]\n'
    'zero_documents = false\ndocuments = ["id_card", "property_deed"]\n')


def _accept_with_documents_missing(_c: httpx.Client) -> httpx.Response:
    # a utility's own profile that accepts no application with documents missing
    with tempfile.TemporaryDirectory(prefix="problems-policy-") as policies:
        (Path(policies) / "strictdocs.toml").write_text(STRICT_DOCUMENTS, encoding="utf-8")
        env = {"WATEROPS_POLICY_DIR": policies, "WATEROPS_POLICY_PROFILE": "strictdocs"}
        with _own_server(env=env) as (c, _d):
            applied = c.post("/api/v1/connections", headers=_as("dispatcher"), json={
                "project_type": "single_meter", "channel": "counter", "applicant": "王伟",
                "phone": "138 1234 5678", "address": "历山路 18 号",
                "location": [117.02, 36.66], "documents": ["id_card"]})
            assert applied.status_code == 201, applied.text
            r = c.post(f"/api/v1/connections/{applied.json()['id']}/acceptance",
                       json={"crew_id": "crew-a"}, headers=_as("dispatcher"))
            r.read()
            return r


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
    "attachment-hash-mismatch": _upload_with_a_wrong_hash,
    "attachment-not-yours": _upload_into_another_devices_declaration,
    "attachment-offset-mismatch": _upload_from_the_wrong_offset,
    "attachment-quota-exceeded": _declare_past_the_device_quota,
    "bad-photo": _attach_an_unreadable_photo,
    "bad-signature": lambda c: _sign_a_replacement_notice(
        c, signature={"width": 0, "height": 50, "strokes": [[[1, 1], [5, 5]]]}),
    "consent-missing": lambda c: _sign_a_replacement_notice(c, periodic=True),
    "calendar-notice-incomplete": lambda c: c.post("/api/v1/calendar/years", json={
        "year": 2027, "notice": "no holidays listed", "holidays": []}, headers=_as("admin")),
    "complaint-state": _handle_a_suggestion_nobody_made,
    "connection-limit-out-of-range": _commit_to_a_limit_outside_the_range,
    "connection-lookup-locked": _guess_a_connection_number_until_locked,
    "coordinates-invalid": lambda c: _import_pipes(c, [[500.0, 36.0], [501.0, 36.0]]),
    "customer-file-invalid": lambda c: c.post("/api/v1/customers/import", content=b"id,name\n",
                                              headers={**_as("admin"),
                                                       "Content-Type": "text/csv"}),
    "delivery-not-found": lambda c: c.post("/api/v1/outages/receipts",
                                           json={"msg_id": "999999999"}, headers=_as("admin")),
    "device-reinstalled": _reuse_a_mutation_id,
    "evidence-missing": _complete_without_evidence,
    "extension-refused": _extend_to_an_earlier_time,
    "lead-time-too-short": lambda c: _announce_soon(c, "dispatcher"),
    "network-invalid": lambda c: _import_pipes(c, [[117.0, 36.6], [117.001, 36.6]]),
    "network-outside-service-area": lambda c: _import_pipes(c, [[100.0, 30.0], [100.01, 30.0]]),
    "no-estimate-to-explain": lambda c: c.post(
        f"/api/v1/reading-routes/{_new_order(c, 'readers', 'meter_reading_route')['id']}"
        "/estimates-explained", json={"note": "phoned"}, headers=_as("dispatcher")),
    "override-needs-supervisor": lambda c: _announce_soon(c, "dispatcher",
                                                          override_reason="burst risk"),
    "override-reason-missing": lambda c: _announce_soon(c, "supervisor", override_reason=" "),
    "photo-not-uploaded": _door_notice_with_a_photo_never_uploaded,
    "network-empty": _isolate_without_a_network,
    "no-cjk-font": _posting_without_its_font,
    "device-token-required": _sync_with_a_password_session,
    "connection-documents-missing": _accept_with_documents_missing,
    "outage-conflict": _announce_into_another_outage,
    "removal-refused": _remove_a_disputed_meter,
    "rule-violation": lambda c: c.post(WO, json={
        "type": "line_marking", "location": POINT, "reported_at": "2099-01-01T00:00:00Z"},
        headers=_as("dispatcher")),
    "too-many-requests": _spend_the_public_budget,
    "valve-not-in-plan": _operate_a_valve_outside_the_plan,
    "work-order-closed": _step_on_a_cancelled_order,
}

#: HTTP problem types no request to the demo server can provoke, each with the reason
#: (and where it is provoked instead); this set may only shrink
NOT_PROVOKED: Final[dict[str, str]] = {
    "internal-error": "only a bug answers it: tests/e2e/test_schemathesis.py plants one",
}


@pytest.fixture(scope="module")
def api(tmp_path_factory: pytest.TempPathFactory) -> Iterator[httpx.Client]:
    data_dir = tmp_path_factory.mktemp("problems")
    env = {"WATEROPS_TRUSTED_PROXIES": '["127.0.0.1"]',
           "WATEROPS_SERVICE_AREA": SERVICE_AREA,
           "WATEROPS_PUBLIC_REQUESTS_PER_MINUTE": str(PUBLIC_BUDGET)}
    with serving(["--demo", "--data-dir", str(data_dir)], env) as (_proc, url), \
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
    assert http_types >= set(NOT_PROVOKED)
    assert not set(CASES) & set(NOT_PROVOKED), "a provoked type is still listed as missing"
    assert http_types - set(CASES) - set(NOT_PROVOKED) == set(), (
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
    body = assert_problem(r, row.status, code)
    assert body["title"] == row.title
