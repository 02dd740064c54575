"""Each hole of issue 13, closed: over HTTP, and over sync push where the action exists.

The world is the demo's (``seed_demo``) with crew A's burst order, an outage on it, a
ticket routed to crew A, a complaint and a half-finished upload of crew A's tablet
(``authz_world``); every test gets a fresh copy.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from litestar import Litestar, get
from litestar.testing import TestClient

from server.app import create_app
from server.guards import MissingPolicyError
from server.services import Services
from tests.factories import assert_problem, make_clock
from tests.integration.server.authz_world import TOKENS_ALL, World, build_world

pytestmark = pytest.mark.integration

API = "/api/v1"
PNG = b"\x89PNG\r\n\x1a\n" + b"\0" * 56


def h(who: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {TOKENS_ALL[who]}"}


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> World:
    return build_world(tmp_path_factory.mktemp("holes") / "world", make_clock())


@pytest.fixture
def svc(world: World, tmp_path: Path) -> Iterator[Services]:
    s = world.copy(tmp_path / "w")
    yield s
    s.close()


@pytest.fixture
def client(svc: Services, world: World) -> Iterator[TestClient[Litestar]]:
    with TestClient(create_app(svc.settings, clock=world.clock, services=svc)) as c:
        yield c


def upload(client: TestClient[Litestar], who: str, data: bytes, wo_id: str | None = None
           ) -> str:
    sha = hashlib.sha256(data).hexdigest()
    body: dict[str, Any] = {"sha256": sha, "size": len(data), "content_type": "image/png"}
    if wo_id:
        body["work_order_id"] = wo_id
    assert client.post(f"{API}/sync/attachments", headers=h(who), json=body).status_code == 200
    r = client.put(f"{API}/sync/attachments/{sha}?offset=0", headers=h(who), content=data)
    assert r.status_code == 200, r.text
    assert r.json()["complete"]
    return sha


def push(client: TestClient[Litestar], who: str, mutations: list[dict[str, Any]]
         ) -> list[dict[str, Any]]:
    r = client.post(f"{API}/sync/push", headers=h(who), json={"mutations": mutations})
    assert r.status_code == 200, r.text
    results: list[dict[str, Any]] = r.json()["results"]
    return results


def mutation(n: int, intent: dict[str, Any]) -> dict[str, Any]:
    return {"id": n, "device_time": "2026-11-23T01:00:00Z", "intent": intent}


# -- deny by default ---------------------------------------------------------------------
@get("/no-policy", sync_to_thread=False)
def _no_policy() -> str:
    return "open"


@get("/unknown-policy", opt={"policy": "nobody.knows"}, sync_to_thread=False)
def _unknown_policy() -> str:
    return "open"


@get("/public-inside", opt={"policy": "public.health"}, sync_to_thread=False)
def _public_inside() -> str:
    return "open"


@pytest.mark.parametrize(("handler", "says"), [
    (_no_policy, "GET /api/v1/no-policy: no opt['policy']"),
    (_unknown_policy, "unknown policy 'nobody.knows'"),
    (_public_inside, "public policy 'public.health' on a route that needs a token"),
])
def test_a_route_without_a_valid_policy_stops_the_start_up(
        world: World, tmp_path: Path, handler: Any, says: str) -> None:
    with pytest.raises(MissingPolicyError, match=r"(?s)" + says.replace("[", r"\[")
                       .replace("]", r"\]").replace("(", r"\(").replace(")", r"\)")):
        create_app(world.settings_for(tmp_path), clock=world.clock, extra_handlers=[handler])
    assert not (tmp_path / "waterops.db").exists()  # refused before opening anything


# -- outages -----------------------------------------------------------------------------
def test_only_the_outages_crew_starts_and_restores_it(
        client: TestClient[Litestar], world: World, svc: Services) -> None:
    outage = world.ids["outage_id"]
    # another crew is outside the outage's scope; a meter reader's role may not at all
    for who, code in (("crew_b", "out-of-scope"), ("reader", "forbidden")):
        for action in ("start", "restore"):
            r = client.post(f"{API}/outages/{outage}/{action}", headers=h(who))
            assert_problem(r, 403, code)
    assert svc.outages.get(outage).state == "draft"
    assert client.post(f"{API}/outages/{outage}/start", headers=h("crew_a")).status_code == 200
    assert_problem(client.post(f"{API}/outages/{outage}/restore",
                               headers=h("crew_b")), 403, "out-of-scope")
    r = client.post(f"{API}/outages/{outage}/restore", headers=h("crew_a2"))
    assert r.status_code == 200
    assert r.json()["state"] == "restored"


def test_an_outage_on_no_order_of_the_crew_is_out_of_its_scope(
        client: TestClient[Litestar], svc: Services, world: World) -> None:
    from notifications import OutageIn, OutageKind

    lone = svc.outages.create("disp-wang", OutageIn(
        kind=OutageKind.EMERGENCY, cause="main flush", start_at=world.clock(),
        expected_restoration_at=world.clock() + timedelta(hours=2)))
    assert_problem(client.post(f"{API}/outages/{lone.id}/start", headers=h("crew_a")),
                   403, "out-of-scope")
    assert client.post(f"{API}/outages/{lone.id}/start",
                       headers=h("dispatcher")).status_code == 200


def test_door_tasks_are_the_crews_and_need_a_photo_its_crew_uploaded(
        client: TestClient[Litestar], world: World) -> None:
    outage, task = world.ids["outage_id"], world.ids["task_id"]
    assert_problem(client.get(f"{API}/outages/{outage}/tasks", headers=h("crew_b")),
                   403, "out-of-scope")
    tasks = client.get(f"{API}/outages/{outage}/tasks", headers=h("crew_a")).json()["items"]
    assert [t["id"] for t in tasks] == [task]
    done = f"{API}/outages/tasks/{task}/door-notice"
    made_up = client.post(done, headers=h("crew_a"), json={"photo_sha256": "e" * 64})
    assert made_up.status_code == 422
    assert made_up.json()["type"].endswith("/photo-not-uploaded")
    theirs = upload(client, "crew_b", PNG + b"b")
    r = client.post(done, headers=h("crew_a"), json={"photo_sha256": theirs})
    assert_problem(r, 403, "out-of-scope")  # a photo of another crew proves nothing of ours
    assert_problem(client.post(done, headers=h("crew_b"), json={"photo_sha256": theirs}
                               ), 403, "out-of-scope")
    ours = upload(client, "crew_a", PNG + b"a")
    r = client.post(done, headers=h("crew_a2"), json={"photo_sha256": ours})
    assert r.status_code == 200
    assert r.json()["status"] == "done"


# -- tickets -----------------------------------------------------------------------------
def test_field_devices_work_only_tickets_routed_to_them(
        client: TestClient[Litestar], world: World, svc: Services) -> None:
    ticket = world.ids["ticket_id"]
    for who in ("crew_b", "reader"):
        assert_problem(client.get(f"{API}/tickets/{ticket}", headers=h(who)), 403, "out-of-scope")
        for action, body in (("reply", {"note": "x"}), ("resolve", {}), ("accept", {})):
            r = client.post(f"{API}/tickets/{ticket}/{action}", headers=h(who), json=body)
            assert_problem(r, 403, "out-of-scope")
    t = svc.tickets.tickets.get(ticket)
    assert t.resolved_at is None
    assert all(d.met_at is None for d in t.deadlines)  # nobody's deadline was "met"
    r = client.post(f"{API}/tickets/{ticket}/resolve", headers=h("crew_a"), json={})
    assert r.status_code == 200
    assert r.json()["status"] == "resolved"


def test_a_ticket_assigned_to_a_user_is_theirs_without_their_crew(
        client: TestClient[Litestar], svc: Services) -> None:
    from server.tickets.model import Channel, TicketIn
    from server.workorders.model import Actor

    t = svc.tickets.tickets.create(Actor(user_id="disp-wang", role="dispatcher"), TicketIn(
        channel=Channel.COUNTER, category="pipe_damage", title="x", assignee_id="reader-chen"))
    assert client.get(f"{API}/tickets/{t.id}", headers=h("reader")).status_code == 200
    assert_problem(client.get(f"{API}/tickets/{t.id}", headers=h("crew_a")), 403, "out-of-scope")


# -- uploads -----------------------------------------------------------------------------
def test_another_device_cannot_write_into_a_half_finished_upload(
        client: TestClient[Litestar], world: World) -> None:
    sha = world.ids["sha256"]  # declared by crew A's tablet, nothing received yet
    for who in ("crew_b", "crew_a2"):
        r = client.put(f"{API}/sync/attachments/{sha}?offset=0", headers=h(who),
                       content=b"\xff\xd8\xff\xe0")
        assert r.status_code == 403
        assert r.json()["type"].endswith("/attachment-not-yours")
        assert_problem(client.get(f"{API}/sync/attachments/{sha}", headers=h(who)),
                       403, "attachment-not-yours")
    r = client.put(f"{API}/sync/attachments/{sha}?offset=0", headers=h("crew_a"),
                   content=b"\xff\xd8\xff\xe0")
    assert r.status_code == 200
    assert r.json()["received"] == 4


def test_an_upload_for_an_order_outside_the_scope_is_refused(
        client: TestClient[Litestar], world: World) -> None:
    r = client.post(f"{API}/sync/attachments", headers=h("crew_b"), json={
        "sha256": "f" * 64, "size": 10, "content_type": "image/png",
        "work_order_id": world.ids["wo_id"]})
    assert_problem(r, 403, "out-of-scope")


def test_quotas_per_device_and_per_order(world: World, tmp_path: Path) -> None:
    world_small = World(folder=world.folder, clock=world.clock, tokens=world.tokens,
                        ids=world.ids, settings={**world.settings,
                                                 "attachment_device_quota_bytes": 300,
                                                 "attachment_order_quota_bytes": 400})
    svc = world_small.copy(tmp_path / "q")
    try:
        with TestClient(create_app(svc.settings, clock=world.clock, services=svc)) as c:
            def declare(who: str, n: int, wo: str | None = None) -> int:
                body: dict[str, Any] = {"sha256": f"{n:064x}", "size": 100,
                                        "content_type": "image/png"}
                if wo:
                    body["work_order_id"] = wo
                return c.post(f"{API}/sync/attachments", headers=h(who), json=body).status_code
            # crew A's tablet already has 128 bytes pending (the world's upload)
            assert declare("crew_a", 1) == 200
            r = c.post(f"{API}/sync/attachments", headers=h("crew_a"), json={
                "sha256": f"{2:064x}", "size": 100, "content_type": "image/png"})
            assert_problem(r, 413, "attachment-quota-exceeded")
            assert r.json()["quota"] == "device"
            wo = world.ids["wo_id"]  # 128 bytes declared for it already
            assert declare("crew_a2", 3, wo) == 200
            assert declare("crew_a2", 4, wo) == 200
            r = c.post(f"{API}/sync/attachments", headers=h("crew_a2"), json={
                "sha256": f"{5:064x}", "size": 100, "content_type": "image/png",
                "work_order_id": wo})
            assert_problem(r, 413, "attachment-quota-exceeded")
            assert r.json()["quota"] == "work_order"
    finally:
        svc.close()


def test_abandoned_partial_uploads_expire_and_are_removed(
        client: TestClient[Litestar], svc: Services, world: World) -> None:
    sha = world.ids["sha256"]
    client.put(f"{API}/sync/attachments/{sha}?offset=0", headers=h("crew_a"),
               content=b"\xff\xd8\xff\xe0")
    partial = svc.settings.attachments_dir / "partial" / sha
    assert partial.exists()
    done = upload(client, "crew_a", PNG + b"kept")
    world.clock.advance(seconds=svc.settings.attachment_partial_ttl_s - 1)
    assert svc.sync.cleanup_expired_uploads() == []
    world.clock.advance(seconds=2)
    assert svc.sync.cleanup_expired_uploads() == [sha]
    assert not partial.exists()
    assert_problem(client.get(f"{API}/sync/attachments/{sha}", headers=h("crew_a")),
                   404, "attachment-not-declared")
    assert client.get(f"{API}/sync/attachments/{done}", headers=h("crew_a")).json()["complete"]
    assert svc.sync.cleanup_expired_uploads() == []


# -- accounts ----------------------------------------------------------------------------
def test_nobody_revokes_a_device_of_a_higher_role(
        client: TestClient[Litestar], svc: Services) -> None:
    admin = svc.accounts.authenticate(TOKENS_ALL["admin"])
    supervisor = svc.accounts.authenticate(TOKENS_ALL["supervisor"])
    crew = svc.accounts.authenticate(TOKENS_ALL["crew_b"])
    assert admin
    assert supervisor
    assert crew
    r = client.post(f"{API}/devices/{admin.device_id}/revocation", headers=h("supervisor"))
    assert_problem(r, 403, "forbidden")
    assert r.json()["target"].startswith("device-")  # the refusal names no device id
    assert client.get(f"{API}/users/me", headers=h("admin")).status_code == 200
    assert client.post(f"{API}/devices/{crew.device_id}/revocation",
                       headers=h("supervisor")).status_code == 200
    assert client.post(f"{API}/devices/{supervisor.device_id}/revocation",
                       headers=h("admin")).status_code == 200
    other_admin = svc.accounts.register_device("admin", "second admin tablet")
    assert client.post(f"{API}/devices/{other_admin.device_id}/revocation",
                       headers=h("admin")).status_code == 200


def test_a_supervisor_revokes_a_lost_tablet_by_the_pseudonym_it_sees(
        client: TestClient[Litestar], svc: Services) -> None:
    crew_b = svc.accounts.authenticate(TOKENS_ALL["crew_b"])
    assert crew_b is not None
    lag = client.get(f"{API}/sync/lag", headers=h("supervisor")).json()["devices"]
    (label,) = [d["device_id"] for d in lag if d["user_id"] == crew_b.user_id]
    assert label != crew_b.device_id
    r = client.post(f"{API}/devices/{label}/revocation", headers=h("supervisor"))
    assert r.status_code == 200, r.text
    assert r.json()["id"] == label  # the answer does not reveal the id either
    assert r.json()["revoked_at"]
    assert_problem(client.get(f"{API}/users/me", headers=h("crew_b")), 401, "unauthenticated")
    assert client.post(f"{API}/devices/device-0000000000/revocation",
                       headers=h("supervisor")).status_code == 404


def test_device_ids_are_shown_to_admins_only(
        client: TestClient[Litestar], world: World) -> None:
    wo = world.ids["wo_id"]
    assert client.post(f"{API}/workorders/{wo}/transitions", headers=h("crew_a"),
                       json={"to": "en_route"}).status_code == 200
    for who in ("crew_a", "dispatcher", "supervisor"):
        history = client.get(f"{API}/workorders/{wo}/history", headers=h(who)).json()["items"]
        assert all(e["device_id"] is None for e in history), who
    history = client.get(f"{API}/workorders/{wo}/history", headers=h("admin")).json()["items"]
    assert any(e["device_id"] for e in history)
    seen = {d["device_id"] for d in client.get(f"{API}/sync/lag",
                                               headers=h("supervisor")).json()["devices"]}
    real = {d["device_id"] for d in client.get(f"{API}/sync/lag",
                                               headers=h("admin")).json()["devices"]}
    assert real
    assert all(d.startswith("dev-") for d in real)
    assert len(seen) == len(real)
    assert not seen & real
    # the console's crew map: live positions carry the device as the lag report shows it
    r = client.post(f"{API}/sync/push", headers=h("crew_a"), json={
        "mutations": [], "positions": [{"taken_at": world.clock().isoformat(),
                                        "lon": 117.0005, "lat": 36.6515}]})
    assert r.status_code == 200, r.text

    def position_devices(who: str) -> set[str]:
        crews = client.get(f"{API}/console/crews", headers=h(who)).json()
        return {p["device_id"] for c in crews for p in c["positions"]}
    shown, full = position_devices("supervisor"), position_devices("admin")
    assert len(full) == 1
    assert full <= real
    assert len(shown) == 1
    assert not shown & real
    assert shown <= seen


# -- personal data on tablets ------------------------------------------------------------
def _pull_all(client: TestClient[Litestar], who: str, cursor: str | None = None
              ) -> tuple[dict[str, dict[str, Any]], set[str], str]:
    customers: dict[str, dict[str, Any]] = {}
    removed: set[str] = set()
    while True:
        page = client.post(f"{API}/sync/pull", headers=h(who),
                           json={"cursor": cursor, "limit": 1000}).json()
        customers |= {u["id"]: u["data"] for u in page["upserts"] if u["entity"] == "customer"}
        removed |= {r["id"] for r in page["removals"] if r["entity"] == "customer"}
        cursor = page["cursor"]
        if not page["more"]:
            return customers, removed, str(cursor)


@pytest.mark.parametrize("how", ["cancel", "reassign"])
def test_phone_and_wechat_leave_the_tablet_with_the_order(
        client: TestClient[Litestar], svc: Services, how: str) -> None:
    from server.cli.common import OPERATOR
    from server.workorders.store import Filters

    orders = svc.workorders.list(OPERATOR, Filters(crew_id="crew-a", limit=500)).items
    wo = next(o for o in orders if o.customer_id and sum(
        1 for x in orders if x.customer_id == o.customer_id) == 1)
    customers, _removed, cursor = _pull_all(client, "crew_a")
    assert customers[str(wo.customer_id)]["phone"]
    if how == "cancel":
        r = client.post(f"{API}/workorders/{wo.id}/transitions", headers=h("dispatcher"),
                        json={"to": "cancelled", "reason": "customer withdrew"})
    else:
        r = client.post(f"{API}/workorders/{wo.id}/assignment", headers=h("dispatcher"),
                        json={"crew_id": "crew-b"})
    assert r.status_code == 200, r.text
    _customers, removed, _cursor = _pull_all(client, "crew_a", cursor)
    assert str(wo.customer_id) in removed
    assert_problem(client.get(f"{API}/customers/{wo.customer_id}", headers=h("crew_a")),
                   403, "out-of-scope")


# -- review flags ------------------------------------------------------------------------
def test_a_push_onto_another_crews_order_files_no_flag_and_no_evidence(
        client: TestClient[Litestar], svc: Services, world: World) -> None:
    wo = world.ids["wo_id"]
    results = push(client, "crew_b", [
        mutation(1, {"kind": "add_note", "work_order_id": wo, "evidence_id": "ev-rogue",
                     "text": "spam"}),
        mutation(2, {"kind": "advance_status", "work_order_id": wo, "to": "en_route"})])
    assert [r["outcome"] for r in results] == ["rejected", "rejected"]
    assert {r["reason_code"] for r in results} == {"out-of-scope"}
    assert all(r["review_id"] is None for r in results)
    flags = client.get(f"{API}/sync/reviews", headers=h("dispatcher")).json()["items"]
    assert [f["kind"] for f in flags] == ["add_note"]  # the world's own, from crew A
    assert svc.db.execute("SELECT COUNT(*) FROM evidence WHERE id = 'ev-rogue'"
                          ).fetchone()[0] == 0
    assert svc.workorders.get_unchecked(wo).status == "assigned"
    reader = push(client, "reader", [mutation(1, {"kind": "advance_status",
                                                  "work_order_id": wo, "to": "en_route"})])
    assert reader[0]["outcome"] == "rejected"
    assert reader[0]["review_id"] is None


def test_review_flags_from_one_device_are_rate_limited(
        client: TestClient[Litestar], svc: Services, world: World) -> None:
    wo = world.ids["wo_id"]
    limit = svc.settings.review_flags_per_device_hour
    bad = [mutation(n, {"kind": "add_note", "work_order_id": wo, "evidence_id": f"ev-{n}",
                        "text": "x", "step_key": "no-such-step"}) for n in range(1, limit + 6)]
    results = push(client, "crew_a", bad)
    assert all(r["outcome"] == "rejected" for r in results)
    assert sum(1 for r in results if r["review_id"] is not None) == limit
    world.clock.advance(hours=1, seconds=1)
    again = push(client, "crew_a", [mutation(limit + 6, {
        "kind": "add_note", "work_order_id": wo, "evidence_id": "ev-late", "text": "x",
        "step_key": "no-such-step"})])
    assert again[0]["review_id"] is not None


# -- isolation plans ---------------------------------------------------------------------
def test_a_plan_is_attached_by_id_only_and_ticks_no_crew_step(
        client: TestClient[Litestar], svc: Services, world: World) -> None:
    wo, iso = world.ids["wo_id"], world.ids["isolation_id"]
    made_up = {"id": "fake", "computed_at": "2026-11-23T01:00:00Z", "network_version": 1,
               "broken_pipe_ids": [], "customer_count": 0, "valves_to_close": []}
    assert_problem(client.put(f"{API}/bursts/{wo}/plan", headers=h("dispatcher"),
                              json=made_up), 400, "validation-failed")
    r = client.put(f"{API}/bursts/{wo}/plan", headers=h("dispatcher"),
                   json={"isolation_id": "no-such-isolation"})
    assert_problem(r, 404, "isolation-not-found")
    assert_problem(client.put(f"{API}/bursts/{wo}/plan", headers=h("crew_a"),
                              json={"isolation_id": iso}), 403, "forbidden")
    before = {s.key: s.done_at for s in svc.workorders.get_unchecked(wo).steps}
    r = client.put(f"{API}/bursts/{wo}/plan", headers=h("dispatcher"), json={"isolation_id": iso})
    assert r.status_code == 200, r.text
    assert r.json()["plan_id"] == iso
    assert not r.json()["valves"]["complete"]
    after = svc.workorders.get_unchecked(wo)
    assert {s.key: s.done_at for s in after.steps} == before
    assert after.fields["isolation_plan_id"] == iso
    entry = svc.workorders.audit.history("work_order", wo)[-1]
    assert entry.action == f"isolation_plan:{iso}"
    assert entry.actor_user_id == "disp-wang"


# -- public endpoints --------------------------------------------------------------------
def test_public_lookup_lockout_is_per_address_and_every_429_says_when(
        client: TestClient[Litestar], svc: Services, world: World) -> None:
    number = world.ids["number"]
    url = f"{API}/public/complaints/{number}"
    for guess in ("0001", "0002", "0003", "0004"):
        assert_problem(client.get(url, params={"phone_last4": guess}), 404, "complaint-not-found")
    r = client.get(url, params={"phone_last4": "5678"})
    assert_problem(r, 429, "lookup-locked")
    assert r.headers["retry-after"] == "60"
    assert r.headers["content-type"].startswith("application/problem+json")
    assert svc.tickets.complaints.public_status(number, "5678", "198.51.100.7").number == number
    assert svc.db.execute("SELECT COUNT(*) FROM complaint_lookup_failures").fetchone()[0] == 0


def test_unauthenticated_requests_are_rate_limited_per_address(
        world: World, tmp_path: Path) -> None:
    limited = World(folder=world.folder, clock=world.clock, tokens=world.tokens, ids=world.ids,
                    settings={**world.settings, "public_requests_per_minute": 5})
    svc = limited.copy(tmp_path / "rl")
    try:
        with TestClient(create_app(svc.settings, clock=world.clock, services=svc)) as c:
            codes = [c.get(f"{API}/public/health").status_code for _ in range(3)]
            codes += [c.get(f"{API}/workorders", headers={"Authorization": "Bearer guess"}
                            ).status_code for _ in range(2)]
            assert codes == [200, 200, 200, 401, 401]
            r = c.get(f"{API}/public/outages/feed.geojson")
            assert_problem(r, 429, "too-many-requests")
            assert int(r.headers["retry-after"]) >= 1
            guess = c.get(f"{API}/workorders", headers={"Authorization": "Bearer guess2"})
            assert_problem(guess, 429, "too-many-requests")
            assert "retry-after" in guess.headers
            # a valid token is not counted against the address
            assert c.get(f"{API}/users/me", headers=h("crew_a")).status_code == 200
            world.clock.advance(minutes=1)
            assert c.get(f"{API}/public/health").status_code == 200
    finally:
        svc.close()



# -- office roles by unit ----------------------------------------------------------------
def test_office_roles_by_unit_where_the_profile_says_so(
        client: TestClient[Litestar], svc: Services) -> None:
    import msgspec

    from server.cli.common import OPERATOR
    from server.tickets.model import Channel, TicketIn
    from server.workorders.model import Actor
    from server.workorders.store import Filters

    route = svc.workorders.list(OPERATOR, Filters(crew_id="readers", limit=5)).items[0]
    desk = Actor(user_id="admin", role="admin")
    counter = svc.tickets.tickets.create(desk, TicketIn(
        channel=Channel.COUNTER, category="pipe_damage", title="营业所的", unit="营业所"))
    # the demo dispatcher belongs to 管网所; the readers' crew to 营业所
    assert client.get(f"{API}/workorders/{route.id}", headers=h("dispatcher")).status_code == 200
    scoped = msgspec.structs.replace(svc.profile, office_by_unit=True)
    svc.workorders.profile = scoped
    svc.tickets.tickets.profile = scoped
    assert_problem(client.get(f"{API}/workorders/{route.id}", headers=h("dispatcher")),
                   403, "out-of-scope")
    listed = client.get(f"{API}/workorders", headers=h("dispatcher"),
                        params={"limit": 500}).json()["items"]
    assert listed
    assert {o["crew_id"] for o in listed} <= {"crew-a", "crew-b"}
    assert_problem(client.get(f"{API}/tickets/{counter.id}", headers=h("dispatcher")),
                   403, "out-of-scope")
    tickets = client.get(f"{API}/tickets", headers=h("dispatcher")).json()["items"]
    assert counter.id not in {t["id"] for t in tickets}
    # admins see every unit
    assert client.get(f"{API}/workorders/{route.id}", headers=h("admin")).status_code == 200
    assert client.get(f"{API}/tickets/{counter.id}", headers=h("admin")).status_code == 200


def test_outages_by_unit_where_the_profile_says_so(
        client: TestClient[Litestar], svc: Services, world: World) -> None:
    from notifications import OutageIn, OutageKind
    from server.cli.common import OPERATOR
    from server.workorders.store import Filters

    route = svc.workorders.list(OPERATOR, Filters(crew_id="readers", limit=5)).items[0]
    theirs = svc.outages.create("admin", OutageIn(
        kind=OutageKind.EMERGENCY, cause="营业所 meter bank", work_order_id=route.id,
        start_at=world.clock(), expected_restoration_at=world.clock() + timedelta(hours=1)))
    ours = world.ids["outage_id"]  # on crew A's order: 管网所, the dispatcher's unit
    svc.outages.by_unit = True
    assert_problem(client.get(f"{API}/outages/{theirs.id}", headers=h("dispatcher")), 403,
                   "out-of-scope")
    r = client.post(f"{API}/outages/{theirs.id}/cancel", headers=h("dispatcher"),
                    json={"reason": "x"})
    assert_problem(r, 403, "out-of-scope")
    page = client.get(f"{API}/outages", headers=h("dispatcher")).json()
    listed = {o["id"] for o in page["items"]}
    assert ours in listed
    assert theirs.id not in listed
    assert client.get(f"{API}/outages/{theirs.id}", headers=h("admin")).status_code == 200


@pytest.mark.parametrize(("trusted", "separate"), [(["testclient"], True), ([], False)])
def test_behind_a_trusted_proxy_each_forwarded_address_has_its_own_budget(
        world: World, tmp_path: Path, trusted: list[str], separate: bool) -> None:
    limited = World(folder=world.folder, clock=world.clock, tokens=world.tokens, ids=world.ids,
                    settings={**world.settings, "public_requests_per_minute": 2,
                              "trusted_proxies": trusted})
    svc = limited.copy(tmp_path / "proxy")
    try:
        with TestClient(create_app(svc.settings, clock=world.clock, services=svc)) as c:
            def health(forwarded: str) -> int:
                return c.get(f"{API}/public/health",
                             headers={"X-Forwarded-For": forwarded}).status_code
            assert [health("1.1.1.1, 203.0.113.5") for _ in range(2)] == [200, 200]
            assert health("203.0.113.5") == 429
            # a client cannot escape its budget by forging the first entries
            assert health("9.9.9.9, 203.0.113.5") == 429
            assert health("198.51.100.7") == (200 if separate else 429)
    finally:
        svc.close()


def test_office_by_unit_narrows_complaints_customers_statistics_and_sync_lag(
        client: TestClient[Litestar], svc: Services, world: World) -> None:
    import msgspec

    from server.cli.common import OPERATOR
    from server.tickets.model import Channel, ComplaintIn, ComplaintKind
    from server.workorders.model import Actor
    from server.workorders.store import Filters
    from tests.factories import order_in

    desk = Actor(user_id="admin", role="admin")
    theirs = svc.tickets.complaints.create(desk, ComplaintIn(
        channel=Channel.COUNTER, kind=ComplaintKind.BILLING, content="营业所的",
        target_unit="营业所",
        phone="13800001111"))
    from server.connections.model import AcceptIn, ApplicationIn, ProjectType
    from server.connections.model import Channel as ConnectionChannel

    office = svc.accounts.authenticate(TOKENS_ALL["admin"])
    assert office is not None
    counter = svc.connections.apply(office, ApplicationIn(
        project_type=ProjectType.SINGLE_METER, channel=ConnectionChannel.COUNTER,
        applicant="李娜", phone="13900002222", address="泉城路 9 号",
        location=(117.0005, 36.6515)))
    svc.connections.accept(office, counter.id, AcceptIn(crew_id="readers"))  # 营业所
    served = {o.customer_id for o in svc.workorders.list(OPERATOR, Filters(limit=500)).items}
    customer = next(c for c in svc.customers.store.page(None, 500) if c.id not in served)
    readers_wo = svc.workorders.create(desk, order_in(crew_id="readers",
                                                      customer_id=customer.id))
    flag_ids = {}
    with svc.db.atomic():  # one rejected mutation on each unit's order
        for name, wo_id, crew in (("readers", readers_wo.id, "readers"),
                                  ("crew-a", world.ids["wo_id"], "crew-a")):
            flag_ids[name] = svc.sync.evidence.add_flag(
                work_order_id=wo_id, device_id=None, user_id=None, crew_id=crew,
                mutation_id=None, kind="rejected", reason_code="illegal-transition",
                detail="test", payload={}, device_time=None, at=world.clock())
    since = (world.clock() - timedelta(days=1)).isoformat()
    world.clock.advance(hours=3)  # the readers' order is past its arrival deadline

    def seen(who: str) -> dict[str, Any]:
        stats = client.get(f"{API}/stats/service", headers=h(who),
                           params={"since": since, "group_by": "unit"}).json()
        customers: set[str] = set()
        cursor = None
        while True:
            page = client.get(f"{API}/customers", headers=h(who),
                              params={"limit": 1000, **({"cursor": cursor} if cursor else {})}
                              ).json()
            customers |= {c["id"] for c in page["items"]}
            cursor = page["next_cursor"]
            if cursor is None:
                break
        return {
            "complaint": client.get(f"{API}/complaints/{theirs.id}", headers=h(who)).status_code,
            "complaints": {c["id"] for c in client.get(f"{API}/complaints", headers=h(who),
                                                       params={"limit": 500}).json()["items"]},
            "customer": client.get(f"{API}/customers/{customer.id}",
                                   headers=h(who)).status_code,
            "customers": customers,
            "units": {r["group"] for r in stats["rows"]},
            "decided": client.get(f"{API}/stats/timeliness", headers=h(who)).json()["decided"],
            "lag_crews": {d["crew_id"] for d in client.get(f"{API}/sync/lag",
                                                           headers=h(who)).json()["devices"]},
            "connection_units": {r["unit"] for r in client.get(
                f"{API}/connections/stats", headers=h(who)).json()["rows"]},
            "console_crews": {c["id"] for c in client.get(f"{API}/console/crews",
                                                          headers=h(who)).json()},
            "reviews": {f["id"] for f in client.get(f"{API}/sync/reviews", headers=h(who),
                                                    params={"limit": 500}).json()["items"]},
            "connection": client.get(f"{API}/connections/{counter.id}",
                                     headers=h(who)).status_code,
            "connections": {c["id"] for c in client.get(
                f"{API}/connections", headers=h(who), params={"limit": 500}).json()["items"]},
        }

    before = seen("dispatcher")  # the profile does not narrow by unit yet
    assert before["complaint"] == 200
    assert before["customer"] == 200
    assert "营业所" in before["units"]
    assert "readers" in before["lag_crews"]
    assert "营业所" in before["connection_units"]
    scoped = msgspec.structs.replace(svc.profile, office_by_unit=True)
    svc.workorders.profile = scoped
    svc.tickets.complaints.profile = scoped
    svc.tickets.stats.profile = scoped
    svc.connections.profile = scoped
    svc.customers.by_unit = True
    disp, admin = seen("dispatcher"), seen("admin")
    assert disp["complaint"] == 403  # the dispatcher belongs to 管网所
    assert theirs.id not in disp["complaints"]
    assert disp["complaints"]  # the world's complaint, targeted at no unit, stays
    r = client.post(f"{API}/complaints/{theirs.id}/contact", headers=h("dispatcher"),
                    json={"note": "called"})
    assert_problem(r, 403, "out-of-scope")
    assert disp["customer"] == 403
    assert customer.id not in disp["customers"]
    assert disp["customers"] < admin["customers"]
    assert len(disp["customers"]) >= len(admin["customers"]) - 2  # this one, the applicant's
    assert "营业所" not in disp["units"]
    # the readers' overdue arrival and the 营业所 connection's met acceptance
    assert disp["decided"] == admin["decided"] - 2
    assert disp["lag_crews"] == {"crew-a", "crew-b"}
    assert disp["connection_units"] == {"管网所"}
    assert disp["console_crews"] == {"crew-a", "crew-b"}
    assert disp["connection"] == 403
    assert counter.id not in disp["connections"]
    r = client.post(f"{API}/connections/{counter.id}/cancellation", headers=h("dispatcher"),
                    json={"reason": "not ours"})
    assert r.status_code == 403
    assert r.json()["type"].endswith("/out-of-scope")
    assert flag_ids["crew-a"] in disp["reviews"]
    assert flag_ids["readers"] not in disp["reviews"]
    r = client.post(f"{API}/sync/reviews/{flag_ids['readers']}/resolution",
                    headers=h("dispatcher"), json={"resolution": "checked"})
    assert r.status_code == 403
    assert r.json()["type"].endswith("/out-of-scope")
    # admins see every unit
    assert admin["complaint"] == 200
    assert theirs.id in admin["complaints"]
    assert admin["customer"] == 200
    assert "营业所" in admin["units"]
    assert "readers" in admin["lag_crews"]
    assert admin["connection_units"] == {"管网所", "营业所"}
    assert admin["console_crews"] == {"crew-a", "crew-b", "readers"}
    assert {flag_ids["crew-a"], flag_ids["readers"]} <= admin["reviews"]
    assert before["connection"] == admin["connection"] == 200
    assert counter.id in before["connections"]
    assert counter.id in admin["connections"]
    assert before["reviews"] == admin["reviews"]  # unnarrowed, the dispatcher saw them all
    r = client.post(f"{API}/sync/reviews/{flag_ids['readers']}/resolution",
                    headers=h("admin"), json={"resolution": "checked"})
    assert r.status_code == 200
    assert client.post(f"{API}/complaints/{theirs.id}/contact", headers=h("admin"),
                       json={"note": "called"}).status_code == 200


# -- who opens an outage on which order --------------------------------------------------
def test_a_crew_opens_only_an_emergency_outage_on_its_own_open_order(
        client: TestClient[Litestar], svc: Services, world: World) -> None:
    wo, iso = world.ids["wo_id"], world.ids["isolation_id"]
    start = world.clock()
    body: dict[str, Any] = {
        "isolation_id": iso, "kind": "emergency", "cause": "DN300 burst",
        "start_at": start.isoformat(),
        "expected_restoration_at": (start + timedelta(hours=4)).isoformat(),
        "work_order_id": wo}
    url = f"{API}/outages/from-isolation"
    refused = {
        "another crew's order": ("crew_b", body, "out-of-scope"),
        "a planned outage": ("crew_a", {**body, "kind": "planned"}, "forbidden"),
        "no order": ("crew_a", {k: v for k, v in body.items() if k != "work_order_id"},
                     "out-of-scope"),
        "a meter reader": ("reader", body, "forbidden"),
    }
    for why, (who, data, code) in refused.items():
        r = client.post(url, headers=h(who), json=data)
        assert r.json().get("type", "").endswith(f"/{code}"), (why, r.text)
        assert_problem(r, 403, code)
    typed = {k: v for k, v in body.items() if k != "isolation_id"}
    typed["recipients"] = [{"customer_id": "x", "phone": "13900000000", "channels": ["sms"]}]
    r = client.post(f"{API}/outages", headers=h("crew_a"), json=typed)
    assert r.status_code == 403  # a tablet never types whom to text
    assert r.json()["type"].endswith("/forbidden")
    r = client.post(f"{API}/outages", headers=h("crew_a"), json={**typed, "work_order_id": "no"})
    assert_problem(r, 404, "not-found")
    before = len(svc.outages.list_outages())
    r = client.post(url, headers=h("crew_a2"), json=body)
    assert r.status_code == 201, r.text
    assert r.json()["work_order_id"] == wo
    assert r.json()["kind"] == "emergency"
    assert len(svc.outages.list_outages()) == before + 1
    # the crew at the break starts it itself
    assert client.post(f"{API}/outages/{r.json()['id']}/start",
                       headers=h("crew_a")).status_code == 200
    cancelled = client.post(f"{API}/workorders/{wo}/transitions", headers=h("dispatcher"),
                            json={"to": "cancelled", "reason": "duplicate report"})
    assert cancelled.status_code == 200
    r = client.post(url, headers=h("crew_a"), json=body)
    assert_problem(r, 403, "out-of-scope")  # the order is closed
    assert len(svc.outages.list_outages()) == before + 1


def test_office_roles_open_outages_on_orders_of_their_scope(
        client: TestClient[Litestar], svc: Services, world: World) -> None:
    import msgspec

    from server.cli.common import OPERATOR
    from server.workorders.store import Filters

    route = svc.workorders.list(OPERATOR, Filters(crew_id="readers", limit=5)).items[0]
    start = world.clock()
    body: dict[str, Any] = {
        "kind": "planned", "cause": "meter bank replacement",
        "start_at": (start + timedelta(days=2)).isoformat(),
        "expected_restoration_at": (start + timedelta(days=2, hours=3)).isoformat(),
        "work_order_id": route.id}
    assert client.post(f"{API}/outages", headers=h("dispatcher"), json=body).status_code == 201
    svc.outages.by_unit = True
    svc.workorders.profile = msgspec.structs.replace(svc.profile, office_by_unit=True)
    r = client.post(f"{API}/outages", headers=h("dispatcher"), json=body)
    assert r.status_code == 403  # the readers' order belongs to 营业所
    assert r.json()["type"].endswith("/out-of-scope")
    ours = {**body, "work_order_id": world.ids["wo_id"]}
    assert client.post(f"{API}/outages", headers=h("dispatcher"), json=ours).status_code == 201
    assert client.post(f"{API}/outages", headers=h("admin"), json=body).status_code == 201
