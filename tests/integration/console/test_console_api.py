"""The console's HTTP side: sign-in sessions with CSRF, crew positions, reports, SSE.

Real app (``TestClient(create_app(...))``), real SQLite file, stepping clock.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import msgspec
import pytest
from litestar import Litestar
from litestar.testing import TestClient

from server.clock import SteppingClock
from server.services import Services
from tests.factories import bearer, pdf_text

pytestmark = pytest.mark.integration
Client = TestClient[Litestar]


def _problem(r: Any, status: int, code: str) -> None:
    assert r.status_code == status, r.text
    assert r.headers["content-type"].startswith("application/problem+json")
    assert r.json()["type"].endswith("/" + code)


def _sign_in(client: Any, **body: str) -> dict[str, Any]:
    r = client.post("/api/v1/public/session", json=body)
    assert r.status_code == 200, r.text
    session: dict[str, Any] = r.json()
    return session


def test_a_device_token_opens_an_httponly_strict_session(client: Client) -> None:
    r = client.post("/api/v1/public/session", json={"token": "wo_demo_dispatcher"})
    cookie = r.headers["set-cookie"]
    assert "waterops_session=" in cookie
    assert "HttpOnly" in cookie
    assert "SameSite=strict" in cookie
    assert "wo_demo_dispatcher" not in cookie
    me = client.get("/api/v1/console/session").json()
    assert me["user_id"] == "disp-wang"
    assert me["role"] == "dispatcher"
    assert me["csrf_token"] == r.json()["csrf_token"]
    assert client.get("/api/v1/workorders").status_code == 200


def test_writes_with_the_cookie_need_the_csrf_token(client: Client) -> None:
    info = _sign_in(client, token="wo_demo_dispatcher")
    order = {"type": "burst_repair", "location": {"type": "Point", "coordinates": [117.0, 36.65]},
             "pipe_diameter_mm": 300, "title": "csrf check"}
    _problem(client.post("/api/v1/workorders", json=order), 403, "forbidden")
    _problem(client.post("/api/v1/workorders", json=order,
                         headers={"X-CSRF-Token": "guessed"}), 403, "forbidden")
    r = client.post("/api/v1/workorders", json=order,
                    headers={"X-CSRF-Token": info["csrf_token"]})
    assert r.status_code == 201, r.text
    assert r.json()["pipe_diameter_mm"] == 300


def test_bearer_calls_need_no_csrf_token(client: Client) -> None:
    r = client.get("/api/v1/console/session", headers=bearer("wo_demo_crew_a"))
    assert r.json()["crew_id"] == "crew-a"
    assert r.json()["csrf_token"] == ""


def test_password_sign_in_and_wrong_passwords(client: Client, services: Services) -> None:
    services.sessions.set_password("sup-li", "a long enough secret")
    _problem(client.post("/api/v1/public/session",
                         json={"user_id": "sup-li", "password": "not it at all"}),
             401, "sign-in-failed")
    _problem(client.post("/api/v1/public/session",
                         json={"user_id": "nobody", "password": "a long enough secret"}),
             401, "sign-in-failed")
    _problem(client.post("/api/v1/public/session", json={}), 401, "sign-in-failed")
    _problem(client.post("/api/v1/public/session", json={"token": 5}), 400, "validation-failed")
    assert _sign_in(client, user_id="sup-li", password="a long enough secret")["role"] == \
        "supervisor"


def test_sync_with_a_password_session_asks_for_the_device_token(client: Client,
                                                                  services: Services) -> None:
    # a crew member signed in to the console by password has no device: sync is a
    # device's (its mutation numbers, epochs and skew belong to one tablet)
    services.sessions.set_password("crew-a-zhang", "a long enough secret")
    info = _sign_in(client, user_id="crew-a-zhang", password="a long enough secret")
    assert info["crew_id"] == "crew-a"
    _problem(client.post("/api/v1/sync/pull", json={"cursor": None, "limit": 20},
                         headers={"X-CSRF-Token": info["csrf_token"]}),
             400, "device-token-required")


def test_short_passwords_are_refused(services: Services) -> None:
    from server.errors import RuleViolationError
    with pytest.raises(RuleViolationError):
        services.sessions.set_password("sup-li", "short")


def test_sign_out_and_expiry_end_the_session(client: Client, clock: SteppingClock) -> None:
    info = _sign_in(client, token="wo_demo_dispatcher")
    r = client.delete("/api/v1/console/session", headers={"X-CSRF-Token": info["csrf_token"]})
    assert r.status_code == 200
    _problem(client.get("/api/v1/console/session"), 401, "unauthenticated")
    _sign_in(client, token="wo_demo_dispatcher")
    clock.advance(hours=12, seconds=1)
    _problem(client.get("/api/v1/console/session"), 401, "unauthenticated")


def test_revoking_the_device_ends_its_sessions(client: Client, services: Services) -> None:
    issued = services.accounts.register_device("disp-wang", "browser")
    _sign_in(client, token=issued.token)
    services.accounts.revoke_device(services.accounts.authenticate("wo_demo_admin"),  # type: ignore[arg-type]
                                    issued.device_id)
    _problem(client.get("/api/v1/console/session"), 401, "unauthenticated")
    _problem(client.post("/api/v1/public/session", json={"token": issued.token}),
             401, "sign-in-failed")


def _push_fix(client: Client, token: str, taken: str, lon: float = 117.0,
              accuracy: float | None = 3.0) -> Any:
    return client.post("/api/v1/sync/push", headers=bearer(token), json={
        "protocol": 1, "mutations": [],
        "positions": [{"taken_at": taken, "lon": lon, "lat": 36.65, "accuracy_m": accuracy}]})


def test_positions_come_through_sync_and_only_office_roles_see_them(
        client: Client, clock: SteppingClock) -> None:
    now = clock()
    r = _push_fix(client, "wo_demo_crew_a", (now - timedelta(seconds=20)).isoformat())
    assert r.status_code == 200, r.text
    r = _push_fix(client, "wo_demo_crew_b", (now - timedelta(minutes=3)).isoformat(), lon=117.01)
    assert r.status_code == 200
    crews = {c["id"]: c for c in client.get("/api/v1/console/crews",
                                            headers=bearer("wo_demo_dispatcher")).json()}
    a = crews["crew-a"]["positions"]
    b = crews["crew-b"]["positions"]
    assert [(p["user_name"], p["live"], p["accuracy_m"]) for p in a] == [("张师傅", True, 3.0)]
    assert [(p["live"], round(p["age_s"])) for p in b] == [(False, 180)]
    assert crews["crew-a"]["open_orders"] > 0
    _problem(client.get("/api/v1/console/crews", headers=bearer("wo_demo_crew_a")),
             403, "forbidden")


def test_fixes_outside_shift_or_retention_are_not_kept(client: Client, services: Services,
                                                       clock: SteppingClock) -> None:
    now = clock()  # 09:00 Shanghai; the default shift is 07:00-20:00
    for taken in (now - timedelta(hours=4),      # 05:00 local: before the shift
                  now - timedelta(days=8),       # beyond the 7-day retention
                  now + timedelta(hours=1)):     # a device clock far ahead
        assert _push_fix(client, "wo_demo_crew_a", taken.isoformat()).status_code == 200
    assert services.positions.store.count() == 0
    # the same fix pushed twice (a retried push) is kept once
    for _ in range(2):
        _push_fix(client, "wo_demo_crew_a", now.isoformat())
    assert services.positions.store.count() == 1
    # out of shift the console shows no positions at all
    clock.advance(hours=12)  # 21:00 local
    crews = client.get("/api/v1/console/crews", headers=bearer("wo_demo_dispatcher")).json()
    assert all(c["positions"] == [] for c in crews)


def test_bad_positions_are_400(client: Client, clock: SteppingClock) -> None:
    r = _push_fix(client, "wo_demo_crew_a", clock().isoformat(), lon=200.0)
    _problem(r, 400, "validation-failed")
    r = client.post("/api/v1/sync/push", headers=bearer("wo_demo_crew_a"), json={
        "protocol": 1, "positions": [{"taken_at": "2026-11-23T09:00:00", "lon": 117, "lat": 36}]})
    _problem(r, 400, "validation-failed")


def test_network_layers_for_the_map(client: Client) -> None:
    layers = client.get("/api/v1/console/network", headers=bearer("wo_demo_crew_a")).json()
    pipes = layers["pipes"]["features"]
    assert pipes
    assert {f["geometry"]["type"] for f in pipes} == {"LineString"}
    assert {300, 600} <= {int(f["properties"]["diameter_mm"]) for f in pipes}
    assert layers["valves"]["features"][0]["properties"]["operable"] is True
    assert layers["sources"]["features"]
    assert {f["properties"]["name"] for f in layers["compounds"]["features"]} >= {"燕山小区"}


def test_config_carries_the_basemap_and_server_time(tmp_path: Any, clock: SteppingClock) -> None:
    from server.app import create_app
    from tests.factories import make_services
    svc = make_services(str(tmp_path), clock, console_tile_url="https://t.example/{z}/{x}/{y}",
                        console_tile_datum="gcj02")
    with TestClient(create_app(svc.settings, clock=clock, services=svc)) as c:
        cfg = c.get("/api/v1/console/config", headers=bearer("wo_demo_dispatcher")).json()
    svc.close()
    assert cfg["tile_url"] == "https://t.example/{z}/{x}/{y}"
    assert cfg["tile_datum"] == "gcj02"
    assert cfg["server_time"] == "2026-11-23T01:00:00Z"


def test_overdue_list_has_names_local_times_and_a_bom_csv(client: Client,
                                                           clock: SteppingClock) -> None:
    clock.advance(hours=3)
    page = client.get("/api/v1/console/overdue?limit=500",
                      headers=bearer("wo_demo_supervisor")).json()
    assert page["next"] is None
    rows = page["items"]
    assert rows
    assert {r["crew"] for r in rows} <= {"抢修一班", "抢修二班", "抄表组"}
    assert all(r["supervisor"] == "李主管" for r in rows)
    assert all(r["due_at_local"].startswith("2026-11-23 ") for r in rows)
    r = client.get("/api/v1/console/overdue.csv", headers=bearer("wo_demo_supervisor"))
    assert r.headers["content-type"].startswith("text/csv")
    body = r.content
    assert body.startswith(b"\xef\xbb\xbf")
    lines = body.decode("utf-8-sig").splitlines()
    assert lines[0].startswith("工单号,")
    assert len(lines) == len(rows) + 1
    _problem(client.get("/api/v1/console/overdue.csv", headers=bearer("wo_demo_crew_a")),
             403, "forbidden")


def test_timeliness_views_per_crew_unit_and_month(client: Client, clock: SteppingClock) -> None:
    clock.advance(hours=3)
    v = client.get("/api/v1/console/timeliness", headers=bearer("wo_demo_supervisor")).json()
    assert {c["label"] for c in v["crews"]} == {"抢修一班", "抢修二班", "抄表组"}
    assert {u["label"] for u in v["units"]} == {"管网所", "营业所"}
    assert [m["label"] for m in v["months"]][-1] == "2026-11"
    assert len(v["months"]) == 6
    assert sum(c["decided"] for c in v["crews"]) == v["overall"]["decided"]


def _isolate_burst(client: Client) -> dict[str, Any]:
    r = client.post("/api/v1/network/isolations", headers=bearer("wo_demo_dispatcher"),
                    json={"point": [117.0012, 36.6503], "inoperable_valve_ids": ["V-P-C3-1"]})
    assert r.status_code == 201, r.text
    plan: dict[str, Any] = r.json()
    assert plan["customer_count"] > 0  # plan B cuts off customers of the small demo
    return plan


def test_breakdown_delivery_and_posting_notice(client: Client) -> None:
    plan = _isolate_burst(client)
    by = client.get(f"/api/v1/console/isolations/{plan['id']}/breakdown",
                    headers=bearer("wo_demo_dispatcher")).json()
    assert sum(r["customers"] for r in by) == plan["customer_count"]
    outage = client.post("/api/v1/outages/from-isolation", headers=bearer("wo_demo_dispatcher"),
                         json={"isolation_id": plan["id"], "kind": "emergency",
                               "cause": "DN600 爆管", "start_at": "2026-11-23T01:10:00Z",
                               "expected_restoration_at": "2026-11-23T07:00:00Z"}).json()
    tally = client.get(f"/api/v1/console/outages/{outage['id']}/delivery",
                       headers=bearer("wo_demo_dispatcher")).json()
    assert (tally["recipients"], tally["queued"], tally["reached"]) == (
        plan["customer_count"], 0, 0)
    r = client.get(f"/api/v1/console/outages/{outage['id']}/posting.pdf",
                   params={"isolation_id": plan["id"]}, headers=bearer("wo_demo_crew_a"))
    assert r.status_code == 200
    assert r.headers["content-type"] == "application/pdf"
    assert r.content.startswith(b"%PDF")
    # 01:10 and 07:00 UTC on the posting, as the street reads it: Shanghai's wall time
    printed = pdf_text(r.content)
    assert "2026年11月23日 09:10 至 2026年11月23日 15:00（北京时间）" in printed
    assert printed.count("北京时间") == 1
    _problem(client.get("/api/v1/console/outages/OUT-nope/delivery",
                        headers=bearer("wo_demo_dispatcher")), 404, "outage-not-found")


def test_delivery_stream_reports_tallies_until_settled(client: Client,
                                                      services: Services) -> None:
    plan = _isolate_burst(client)
    outage = client.post("/api/v1/outages/from-isolation", headers=bearer("wo_demo_dispatcher"),
                         json={"isolation_id": plan["id"], "kind": "emergency", "cause": "爆管",
                               "start_at": "2026-11-23T01:10:00Z",
                               "expected_restoration_at": "2026-11-23T07:00:00Z"}).json()
    r = client.post(f"/api/v1/outages/{outage['id']}/announce", json={},
                    headers=bearer("wo_demo_dispatcher"))
    assert r.status_code == 200, r.text
    # no channel is configured here: every recipient falls back to a door-to-door task
    services.outages.worker().drain()
    with client.stream("GET", f"/api/v1/console/outages/{outage['id']}/delivery/stream",
                       headers=bearer("wo_demo_dispatcher")) as r:
        assert r.headers["content-type"].startswith("text/event-stream")
        lines = [line for line in r.iter_lines() if line]
    assert lines[0] == "event: tally"
    assert lines[-2:] == ["event: settled", "data: started"]
    data = msgspec.json.decode(lines[1].removeprefix("data:").strip())
    assert data["outage_id"] == outage["id"]
    assert data["recipients"] == plan["customer_count"]
    assert data["queued"] == 0
    assert data["door_tasks"] == plan["customer_count"]


def test_console_page_and_root(client: Client) -> None:
    r = client.get("/", follow_redirects=False)
    assert r.status_code in (301, 302, 307)
    assert r.headers["location"] == "/console/"
    page = client.get("/console/")
    assert 'src="/console/js/app.js"' in page.text
    assert "http" not in page.text.split("<body>")[0].replace('"http-equiv', "")
    assert client.get("/console/vendor/leaflet/LICENSE").text.startswith("BSD 2-Clause")


def test_schema_page_loads_nothing_from_a_cdn(client: Client) -> None:
    html = client.get("/schema").text
    assert "/console/vendor/swagger-ui/swagger-ui-bundle.js" in html
    assert "cdn." not in html
    assert "fonts.googleapis" not in html


def _pull_entities(client: Client, token: str, cursor: str | None = None
                   ) -> dict[str, list[dict[str, Any]]]:
    """Everything a device pulls from ``cursor`` on; the final cursor under ``"_cursor"``."""
    out: dict[str, list[dict[str, Any]]] = {}
    while True:
        r = client.post("/api/v1/sync/pull", headers=bearer(token),
                        json={"protocol": 1, "cursor": cursor, "limit": 2000})
        assert r.status_code == 200, r.text
        page = r.json()
        for u in page["upserts"]:
            out.setdefault(u["entity"], []).append(u["data"])
        cursor = page["cursor"]
        if not page["more"]:
            out["_cursor"] = [{"cursor": cursor}]
            return out


def _upload_photo(client: Client, services: Services, clock: SteppingClock,
                  tmp_path: Any) -> str:
    """Crew A's tablet photographs the posted notice on its burst order and uploads it."""
    from tests.integration.fieldwork.kit import Tablet
    burst = next(o for o in client.get("/api/v1/workorders?type=burst_repair",
                                       headers=bearer("wo_demo_dispatcher")).json()["items"])
    tablet = Tablet(client, "wo_demo_crew_a", clock, tmp_path / "door-tablet.db")
    tablet.sync()
    tablet.move(burst["id"], "en_route")
    tablet.check(burst["id"], "arrival")
    sha = tablet.photo(burst["id"], "barriers_photo", 117.0012, 36.6503)
    tablet.sync()
    assert services.sync.vault.status(sha).complete
    return sha


def _announced_burst(client: Client, restoration: str
                     ) -> tuple[dict[str, Any], dict[str, Any]]:
    """The isolation plan of the demo burst and its emergency outage, announced."""
    plan = _isolate_burst(client)
    r = client.post("/api/v1/outages/from-isolation", headers=bearer("wo_demo_dispatcher"),
                    json={"isolation_id": plan["id"], "kind": "emergency", "cause": "爆管",
                          "start_at": "2026-11-23T01:10:00Z",
                          "expected_restoration_at": restoration})
    assert r.status_code == 201, r.text
    outage: dict[str, Any] = r.json()
    announced = client.post(f"/api/v1/outages/{outage['id']}/announce", json={},
                            headers=bearer("wo_demo_dispatcher"))
    assert announced.status_code == 200, announced.text
    return plan, outage


def test_door_tasks_go_to_the_assigned_crews_tablets(client: Client, services: Services,
                                                     clock: SteppingClock,
                                                     tmp_path: Any) -> None:
    plan, outage = _announced_burst(client, "2026-11-23T07:00:00Z")
    services.outages.worker().drain()  # no channels here: every recipient gets a door task
    office = bearer("wo_demo_dispatcher")
    tasks = client.get(f"/api/v1/console/outages/{outage['id']}/door-tasks?limit=1000",
                       headers=office).json()["items"]
    assert len(tasks) == plan["customer_count"]
    assert {t["crew_id"] for t in tasks} == {None}
    r = client.post(f"/api/v1/console/outages/{outage['id']}/door-tasks/assignment",
                    headers=office, json={"crew_id": "crew-b"})
    assert r.status_code == 200, r.text
    assert r.json() == {"outage_id": outage["id"], "crew_id": "crew-b", "moved": len(tasks),
                        "open_with_crew": len(tasks)}
    again = client.get(f"/api/v1/console/outages/{outage['id']}/door-tasks?limit=1000",
                       headers=office).json()["items"]
    assert {t["crew_id"] for t in again} == {"crew-b"}
    pulled_b = _pull_entities(client, "wo_demo_crew_b").get("door_task", [])
    assert sorted(t["id"] for t in pulled_b) == sorted(t["id"] for t in tasks)
    assert pulled_b[0]["outage_cause"] == "爆管"
    assert pulled_b[0]["posting_pdf"].endswith("/posting.pdf")
    assert "door_task" not in _pull_entities(client, "wo_demo_crew_a")
    # reassigned: crew A's tablets get them, crew B's are told to drop them
    client.post(f"/api/v1/console/outages/{outage['id']}/door-tasks/assignment",
                headers=office, json={"crew_id": "crew-a"})
    assert len(_pull_entities(client, "wo_demo_crew_a").get("door_task", [])) == len(tasks)
    assert "door_task" not in _pull_entities(client, "wo_demo_crew_b")
    # crew A posts one (the photo uploaded by its tablet): the task is done, and its
    # tablets get the row again as done
    seen = _pull_entities(client, "wo_demo_crew_a")["_cursor"][0]["cursor"]
    first = tasks[0]["id"]
    photo = _upload_photo(client, services, clock, tmp_path)
    r = client.post(f"/api/v1/outages/tasks/{first}/door-notice", headers=bearer("wo_demo_crew_a"),
                    json={"photo_sha256": photo})
    assert r.status_code == 200, r.text
    # crew B no longer holds the tasks: it may not close one
    _problem(client.post(f"/api/v1/outages/tasks/{tasks[1]['id']}/door-notice",
                         headers=bearer("wo_demo_crew_b"), json={"photo_sha256": photo}),
             403, "out-of-scope")
    rows = {t["id"]: t for t in _pull_entities(client, "wo_demo_crew_a", seen)["door_task"]}
    assert list(rows) == [first]
    assert rows[first]["status"] == "done"
    assert rows[first]["done_at"] is not None
    _problem(client.post(f"/api/v1/console/outages/{outage['id']}/door-tasks/assignment",
                         headers=office, json={"crew_id": "crew-x"}), 404, "not-found")
    _problem(client.post(f"/api/v1/console/outages/{outage['id']}/door-tasks/assignment",
                         headers=bearer("wo_demo_crew_a"), json={"crew_id": "crew-a"}),
             403, "forbidden")


def test_a_temporary_supply_task_is_not_closed_as_a_door_notice(
        client: Client, services: Services, clock: SteppingClock, tmp_path: Any) -> None:
    """Only a door-notice task is closed by a photo of the posted notice: the id of the
    outage's temporary-supply task (JN 10.3.1, over 24 h) is no door task, with a photo
    uploaded or not, and the task stays open."""
    _plan, outage = _announced_burst(client, "2026-11-24T07:00:00Z")
    [supply] = [t for t in services.outages.store.tasks(outage["id"], None)
                if t.kind == "temporary_supply"]
    photo = _upload_photo(client, services, clock, tmp_path)
    for sha in (photo, "0" * 64):
        _problem(client.post(f"/api/v1/outages/tasks/{supply.id}/door-notice",
                             headers=bearer("wo_demo_dispatcher"), json={"photo_sha256": sha}),
                 404, "outage-task-not-found")
    still = services.outages.store.task(supply.id)
    assert still is not None
    assert still.status == "open"


def test_evidence_photos_can_be_looked_at_from_the_console(client: Client,
                                                           clock: SteppingClock,
                                                           tmp_path: Any) -> None:
    from tests.integration.fieldwork.kit import Tablet
    office = bearer("wo_demo_dispatcher")
    burst = next(o for o in client.get("/api/v1/workorders?type=burst_repair",
                                       headers=office).json()["items"])
    tablet = Tablet(client, "wo_demo_crew_a", clock, tmp_path / "tablet.db")
    tablet.sync()
    tablet.move(burst["id"], "en_route")
    tablet.check(burst["id"], "arrival")
    sha = tablet.photo(burst["id"], "barriers_photo", 117.0012, 36.6503)
    tablet.sync()
    items = client.get(f"/api/v1/console/workorders/{burst['id']}/evidence",
                       headers=office).json()["items"]
    # one page at a time, following ``next``: the same evidence in the same order
    walked: list[dict[str, Any]] = []
    url: str | None = f"/api/v1/console/workorders/{burst['id']}/evidence?limit=1"
    while url is not None:
        page = client.get(url, headers=office).json()
        walked += page["items"]
        url = page["next"]
    assert len(items) >= 2
    assert [i["id"] for i in walked] == [i["id"] for i in items]
    photo = next(i for i in items if i["sha256"] == sha)
    assert photo["url"] == f"/api/v1/console/attachments/{sha}"
    r = client.get(photo["url"], headers=office)
    assert r.status_code == 200
    assert r.headers["content-type"] == "image/jpeg"
    assert r.content[:2] == b"\xff\xd8"
    # field roles see the list for their own crew's orders, never the other crew's
    assert client.get(f"/api/v1/console/workorders/{burst['id']}/evidence",
                      headers=bearer("wo_demo_crew_a")).status_code == 200
    _problem(client.get(f"/api/v1/console/workorders/{burst['id']}/evidence",
                        headers=bearer("wo_demo_crew_b")), 403, "out-of-scope")
    _problem(client.get(photo["url"], headers=bearer("wo_demo_crew_a")), 403, "forbidden")
    r = client.get("/api/v1/console/attachments/..%2F..%2Fetc%2Fpasswd", headers=office)
    assert r.status_code in (400, 404)
    assert r.headers["content-type"].startswith("application/problem+json")


def test_the_page_may_load_only_from_the_service_and_the_tile_host(client: Client) -> None:
    from server.routes.console import content_security_policy
    csp = client.get("/console/").headers["content-security-policy"]
    assert "default-src 'self'" in csp
    assert "script-src 'self'" in csp
    assert "http" not in csp
    with_tiles = content_security_policy("https://{s}.tile.example/{z}/{x}/{y}.png")
    assert "img-src 'self' data: blob: https://*.tile.example;" in with_tiles
    assert "https://t0.example" in content_security_policy("https://t0.example/{z}/{x}/{y}")


def test_sign_in_from_another_site_is_refused_and_not_cors_enabled(client: Client) -> None:
    r = client.post("/api/v1/public/session", json={"token": "wo_demo_dispatcher"},
                    headers={"Origin": "https://evil.example"})
    _problem(r, 403, "forbidden")
    assert "set-cookie" not in r.headers
    r = client.post("/api/v1/public/session", json={"token": "wo_demo_dispatcher"},
                    headers={"Origin": "http://testserver.local"})
    assert r.status_code == 200, r.text
    assert "access-control-allow-origin" not in r.headers
    # the public feeds keep their CORS header
    feed = client.get("/api/v1/public/outages/feed.geojson")
    assert feed.headers["access-control-allow-origin"] == "*"


def test_a_tablet_buffers_fixes_offline_and_sends_them_with_its_next_push(
        client: Client, services: Services, clock: SteppingClock, tmp_path: Any) -> None:
    from sync.client import DeviceClient, HttpTransport, Replica
    from sync.protocol import PositionFix
    replica = Replica(tmp_path / "tablet.db")
    tablet = DeviceClient(replica, HttpTransport(client, "wo_demo_crew_a"), clock=clock,
                          sleep=lambda _s: None)
    for minutes in (9, 6, 3):  # taken while out of signal
        tablet.record_position(PositionFix(taken_at=clock() - timedelta(minutes=minutes),
                                           lon=117.0 + minutes / 1000, lat=36.65,
                                           accuracy_m=5.0))
    assert len(replica.positions(100)) == 3
    assert services.positions.store.count() == 0
    tablet.push()  # back in signal: no mutations, the three fixes go as one batch
    assert replica.positions(100) == []
    assert services.positions.store.count() == 3
    crews = client.get("/api/v1/console/crews", headers=bearer("wo_demo_dispatcher")).json()
    latest = next(c for c in crews if c["id"] == "crew-a")["positions"]
    assert [(p["lon"], round(p["age_s"])) for p in latest] == [(117.003, 180)]


def test_lead_check_before_announcing(client: Client, clock: SteppingClock,
                                     services: Services) -> None:
    office = bearer("wo_demo_dispatcher")
    rules = services.outages.rules  # the active profile's numbers (strict here)
    start = clock() + rules.planned_lead + timedelta(hours=1)

    def outage(hours: float) -> str:
        body = {"kind": "planned", "cause": "阀门更换", "start_at": start.isoformat(),
                "expected_restoration_at": (start + timedelta(hours=hours)).isoformat()}
        r = client.post("/api/v1/outages", headers=office, json=body)
        assert r.status_code == 201, r.text
        return str(r.json()["id"])

    short = client.get(f"/api/v1/console/outages/{outage(4)}/lead", headers=office).json()
    assert (short["required_lead_s"], short["ok"], short["because"]) == (
        rules.planned_lead.total_seconds(), True, [])
    long_hours = rules.long_outage.total_seconds() / 3600 + 1
    long = client.get(f"/api/v1/console/outages/{outage(long_hours)}/lead",
                      headers=office).json()
    assert long["required_lead_s"] == rules.large_lead.total_seconds()
    assert long["because"] == ["long"]
    assert long["ok"] is (rules.large_lead <= rules.planned_lead + timedelta(hours=1))
    assert long["available_lead_s"] == (rules.planned_lead + timedelta(hours=1)).total_seconds()
    assert long["clause"] == rules.large_clause


def test_old_sessions_are_purged_when_new_ones_open(client: Client, services: Services,
                                                    clock: SteppingClock) -> None:
    _sign_in(client, token="wo_demo_dispatcher")
    clock.advance(hours=40)  # 12 h life + more than a day
    _sign_in(client, token="wo_demo_crew_a")
    rows = services.db.execute("SELECT user_id FROM console_sessions").fetchall()
    assert [r[0] for r in rows] == ["crew-a-zhang"]


def test_the_at_risk_share_comes_from_the_policy_profile(tmp_path: Any,
                                                        clock: SteppingClock) -> None:
    from server.app import create_app
    from tests.factories import make_services
    policies = tmp_path / "policies"
    policies.mkdir()
    (policies / "earlywarn.toml").write_text(
        'name = "earlywarn"\ntitle = "warns at half time"\n\n[thresholds]\n'
        "at_risk_share = 0.5\n", encoding="utf-8")
    svc = make_services(str(tmp_path / "data"), clock, policy_profile="earlywarn",
                        policy_dir=str(policies))
    try:
        with TestClient(create_app(svc.settings, clock=clock, services=svc)) as c:
            cfg = c.get("/api/v1/console/config", headers=bearer("wo_demo_dispatcher")).json()
    finally:
        svc.close()
    assert cfg["at_risk_share"] == 0.5


def test_a_share_outside_zero_to_one_is_refused_at_load(tmp_path: Any) -> None:
    from server.policy import load_profile
    from server.policy.load import PolicyError
    (tmp_path / "bad.toml").write_text('name = "bad"\ntitle = "x"\n\n[thresholds]\n'
                                       "at_risk_share = 1.5\n", encoding="utf-8")
    with pytest.raises(PolicyError, match="at_risk_share"):
        load_profile("bad", tmp_path)


def test_the_connections_csv_of_the_supervisor_view_opens_in_excel(client: Client) -> None:
    r = client.get("/api/v1/connections/stats/csv", headers=bearer("wo_demo_supervisor"))
    assert r.status_code == 200, r.text
    assert r.headers["content-type"].startswith("text/csv")
    assert r.content.startswith("\ufeffstage,project_type,unit,".encode())
    assert "attachment" in r.headers["content-disposition"]
