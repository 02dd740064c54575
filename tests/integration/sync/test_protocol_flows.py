"""Sync flows one at a time: scope moves, tombstones, resumable pulls and uploads, refusals."""

from __future__ import annotations

import hashlib
import random
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import msgspec
import pytest
from litestar import Litestar
from litestar.testing import TestClient

from server.cli.common import OPERATOR
from server.services import Services
from server.workorders.model import Actor, AssignIn, Status, TransitionIn
from sync.client import DeviceClient, FaultyTransport, HttpTransport, Replica, RetryPolicy
from sync.client.transport import Reply
from sync.errors import DeviceUnauthorizedError, ServerRefusedError, TransportFailedError
from sync.protocol import AddNote, AdvanceStatus, AttachEvidence, UpdateFields
from tests.factories import TOKENS, assert_problem, bearer, order_in
from tests.integration.sync.world import DISPATCHER

pytestmark = pytest.mark.integration

DISPATCHER_ACTOR = Actor(user_id="disp-wang", role="dispatcher")

Make = Callable[..., DeviceClient]
JPEG = b"\xff\xd8\xff\xe0" + bytes(range(256)) * 40


@pytest.fixture
def device(client: TestClient[Litestar], services: Services, tmp_path: Path) -> Make:
    def make(token: str = TOKENS["crew_a"], name: str = "tablet", **kw: object) -> DeviceClient:
        transport = kw.pop("transport", None) or HttpTransport(client, token)
        return DeviceClient(Replica(tmp_path / f"{name}.db", synchronous="OFF"),
                            transport,  # type: ignore[arg-type]
                            clock=services.clock, sleep=lambda _s: None,
                            retry=RetryPolicy(attempts=3), **kw)  # type: ignore[arg-type]
    return make


def test_reassignment_moves_an_order_between_offline_tablets(device: Make,
                                                             services: Services) -> None:
    a, b = device(TOKENS["crew_a"], "a"), device(TOKENS["crew_b"], "b")
    a.pull()
    b.pull()
    wo = services.workorders.create(DISPATCHER_ACTOR, order_in(crew_id="crew-a",
                                                               customer_id="cust-00050"))
    a.pull()
    assert wo.id in a.replica.rows("work_order")
    assert "cust-00050" in a.replica.rows("customer")
    services.workorders.assign(DISPATCHER, wo.id, AssignIn(crew_id="crew-b"))
    a.pull()
    b.pull()
    assert wo.id not in a.replica.rows("work_order")
    assert "cust-00050" not in a.replica.rows("customer")
    assert b.replica.rows("work_order")[wo.id]["crew_id"] == "crew-b"
    assert "cust-00050" in b.replica.rows("customer")


def test_late_edit_to_a_reassigned_order_is_rejected_and_kept_for_review(
        device: Make, services: Services) -> None:
    a = device()
    wo = services.workorders.create(DISPATCHER_ACTOR, order_in(crew_id="crew-a"))
    a.pull()
    services.workorders.assign(DISPATCHER, wo.id, AssignIn(crew_id="crew-b"))
    ev = str(uuid.uuid4())
    a.record(AddNote(work_order_id=wo.id, evidence_id=ev, text="valve box flooded"))
    a.push()
    result = a.replica.results()[1]
    assert (result.outcome, result.reason_code) == ("rejected", "out-of-scope")
    flag = services.sync.evidence.flag(result.review_id or 0)
    assert flag is not None
    assert flag.reason_code == "out-of-scope"
    kept = services.db.execute("SELECT review_id FROM evidence WHERE id = ?", [ev]).fetchone()
    assert kept[0] == flag.id


def test_cancelled_order_refuses_progress_with_a_reason(device: Make, services: Services) -> None:
    a = device()
    wo = services.workorders.create(DISPATCHER_ACTOR, order_in(crew_id="crew-a"))
    a.pull()
    services.workorders.transition(DISPATCHER, wo.id,
                                   TransitionIn(to=Status.CANCELLED, reason="duplicate"))
    a.record(AdvanceStatus(work_order_id=wo.id, to="en_route"))
    a.record(AddNote(work_order_id=wo.id, evidence_id=str(uuid.uuid4()), text="on my way"))
    a.sync()
    results = a.replica.results()
    assert [r.reason_code for r in results.values()] == ["illegal-transition",
                                                         "work-order-closed"]
    assert a.replica.rows("work_order")[wo.id]["status"] == "cancelled"


def test_different_fields_merge_and_the_same_field_keeps_the_loser(device: Make,
                                                                   services: Services) -> None:
    a, a2 = device(TOKENS["crew_a"], "a"), device("wo_demo_crew_a2", "a2")
    wo = services.workorders.create(DISPATCHER_ACTOR, order_in(crew_id="crew-a"))
    a.pull()
    a2.pull()
    a.record(UpdateFields(work_order_id=wo.id, base_version=1, fields={"leak": "small"}))
    a2.record(UpdateFields(work_order_id=wo.id, base_version=1, fields={"depth_m": 1.2}))
    a2.record(UpdateFields(work_order_id=wo.id, base_version=1, fields={"leak": "large"}))
    a.push()
    a2.push()
    assert [r.outcome for r in a2.replica.results().values()] == ["merged", "conflict"]
    fields = services.workorders.get_unchecked(wo.id).fields
    assert fields == {"leak": "large", "depth_m": 1.2}
    history = services.workorders.audit.history("work_order", wo.id)
    assert history[-1].detail["overwritten"] == {"leak": "small"}


def test_pull_resumes_after_a_lost_response_and_reaches_the_same_state(
        device: Make, services: Services, client: TestClient[Litestar]) -> None:
    for _ in range(30):
        services.workorders.create(DISPATCHER_ACTOR, order_in(crew_id="crew-a"))
    reference = device(name="ref", page_rows=1000)
    reference.pull()
    faulty = FaultyTransport(HttpTransport(client, TOKENS["crew_a"]), random.Random(5),
                             drop_response=0.5)
    # page by page from ``cursor: null`` (no snapshot): the paged path must resume too
    cut = device(name="cut", page_rows=4, transport=faulty, snapshots=False)
    for _ in range(200):
        try:
            cut.pull()
            break
        except TransportFailedError:
            continue
    assert faulty.counts.dropped_responses > 0
    assert cut.replica.rows("work_order") == reference.replica.rows("work_order")
    assert cut.replica.get_meta("checkpoint") == reference.replica.get_meta("checkpoint")


def test_a_foreign_cursor_is_refused(client: TestClient[Litestar]) -> None:
    r = client.post("/api/v1/sync/pull", json={"cursor": "bm9wZQ"},
                    headers=bearer(TOKENS["crew_a"]))
    assert r.status_code == 400
    assert r.json()["type"].endswith("/bad-cursor")


def test_unsupported_protocol_says_what_to_do(client: TestClient[Litestar]) -> None:
    r = client.post("/api/v1/sync/push", json={"protocol": 0, "mutations": []},
                    headers=bearer(TOKENS["crew_a"]))
    assert_problem(r, 400, "protocol-version-unsupported")
    assert r.json()["action"] == "upgrade-app"
    assert r.json()["supported"] == [1]


def test_duplicate_push_is_acknowledged_and_a_gap_is_reported(client: TestClient[Litestar]) -> None:
    orders = client.get("/api/v1/workorders", headers=bearer(TOKENS["crew_a"])).json()
    wo_id = orders["items"][0]["id"]
    note = {"kind": "add_note", "work_order_id": wo_id, "evidence_id": "ev-1", "text": "x"}
    body = {"mutations": [{"id": 1, "device_time": "2026-11-23T01:00:00Z", "intent": note}]}
    first = client.post("/api/v1/sync/push", json=body, headers=bearer(TOKENS["crew_a"])).json()
    again = client.post("/api/v1/sync/push", json=body, headers=bearer(TOKENS["crew_a"])).json()
    assert first["results"][0]["duplicate"] is False
    assert again["results"][0]["duplicate"] is True
    assert again["last_applied_id"] == 1
    gap = {"mutations": [{"id": 3, "device_time": "2026-11-23T01:00:00Z", "intent": note}]}
    r = client.post("/api/v1/sync/push", json=gap, headers=bearer(TOKENS["crew_a"]))
    assert_problem(r, 409, "mutation-gap")
    assert r.json()["last_applied_id"] == 1


def test_upload_resumes_where_the_server_stopped(device: Make, services: Services,
                                                 client: TestClient[Litestar]) -> None:
    faulty = FaultyTransport(HttpTransport(client, TOKENS["crew_a"]),
                             random.Random(3), cut_upload=0.7)
    a = device(transport=faulty, chunk_bytes=2000)
    sha = a.add_blob(JPEG, "image/jpeg")
    for _ in range(50):
        try:
            a.upload()
            break
        except TransportFailedError:
            continue
    assert faulty.counts.cut_uploads > 0
    assert a.replica.blob_states() == {sha: True}
    stored = services.settings.attachments_dir / sha
    assert hashlib.sha256(stored.read_bytes()).hexdigest() == sha


def _evidence(device: DeviceClient, wo_id: str) -> list[dict[str, Any]]:
    """The evidence list of an order in the device's replica (a JSON list of objects)."""
    evidence: list[dict[str, Any]] = msgspec.convert(
        device.replica.rows("work_order")[wo_id]["evidence"], list[dict[str, Any]])
    return evidence


def test_wrong_bytes_for_a_hash_are_refused_and_discarded(client: TestClient[Litestar],
                                                          services: Services) -> None:
    h = bearer(TOKENS["crew_a"])
    sha = hashlib.sha256(JPEG).hexdigest()
    forged = b"\xff\xd8\xff\xe0" + b"\0" * (len(JPEG) - 4)
    client.post("/api/v1/sync/attachments", headers=h,
                json={"sha256": sha, "size": len(JPEG), "content_type": "image/jpeg"})
    r = client.put(f"/api/v1/sync/attachments/{sha}?offset=0", content=forged, headers=h)
    assert r.status_code == 422
    assert r.json()["type"].endswith("/attachment-hash-mismatch")
    status = client.get(f"/api/v1/sync/attachments/{sha}", headers=h).json()
    assert status["received"] == 0
    assert not status["complete"]
    assert not (services.settings.attachments_dir / sha).exists()


def test_bytes_that_are_not_the_declared_type_are_refused(client: TestClient[Litestar]) -> None:
    h = bearer(TOKENS["crew_a"])
    fake = b"MZ\x90\x00" + b"\0" * 100
    sha = hashlib.sha256(fake).hexdigest()
    client.post("/api/v1/sync/attachments", headers=h,
                json={"sha256": sha, "size": len(fake), "content_type": "image/png"})
    r = client.put(f"/api/v1/sync/attachments/{sha}?offset=0", content=fake, headers=h)
    assert_problem(r, 415, "attachment-type-refused")
    assert r.json()["sniffed"] is None


def test_oversized_attachment_is_refused_at_declaration(client: TestClient[Litestar],
                                                         services: Services) -> None:
    r = client.post("/api/v1/sync/attachments", headers=bearer(TOKENS["crew_a"]),
                    json={"sha256": "a" * 64, "size": services.settings.attachment_max_bytes + 1,
                          "content_type": "image/jpeg"})
    assert_problem(r, 413, "attachment-too-large")


def test_evidence_shows_its_photo_pending_until_the_upload_completes(
        device: Make, services: Services) -> None:
    a = device()
    wo = services.workorders.create(DISPATCHER_ACTOR, order_in(crew_id="crew-a"))
    a.pull()
    sha = a.add_blob(JPEG, "image/jpeg")
    a.record(AttachEvidence(work_order_id=wo.id, evidence_id="ev-photo", sha256=sha,
                            content_type="image/jpeg", size=len(JPEG), step_key="repair"))
    a.push()
    a.pull()
    (ev,) = _evidence(a, wo.id)
    assert ev["attachment_pending"] is True
    lag = services.sync.lag()
    assert sum(d.pending_attachments for d in lag.devices) == 1
    a.upload()
    a.pull()
    (ev,) = _evidence(a, wo.id)
    assert ev["attachment_pending"] is False


def test_a_crew_never_pulls_another_crews_orders(device: Make, services: Services) -> None:
    b_order = services.workorders.create(DISPATCHER_ACTOR, order_in(crew_id="crew-b"))
    a = device()
    a.pull()
    crews = {w["crew_id"] for w in a.replica.rows("work_order").values()}
    assert crews == {"crew-a"}
    assert b_order.id not in a.replica.rows("work_order")


def test_office_roles_cannot_pull_a_crew_scope(client: TestClient[Litestar]) -> None:
    r = client.post("/api/v1/sync/pull", json={}, headers=bearer(TOKENS["dispatcher"]))
    assert_problem(r, 403, "forbidden")


def test_revoked_device_gets_401_and_keeps_its_outbox(device: Make, services: Services) -> None:
    issued = services.accounts.register_device("crew-b-liu", "spare")
    spare = device(issued.token, "spare")
    spare.pull()
    wo_id = next(iter(spare.replica.rows("work_order")))
    spare.record(AddNote(work_order_id=wo_id, evidence_id="ev-kept", text="kept"))
    services.accounts.revoke_device(OPERATOR, issued.device_id)
    with pytest.raises(DeviceUnauthorizedError):
        spare.sync()
    assert [m.intent.work_order_id for m in spare.replica.outbox()] == [wo_id]


def test_server_errors_are_retried_with_retry_after(services: Services,
                                                    client: TestClient[Litestar]) -> None:
    waits: list[float] = []

    class Busy:
        calls = 0

        def request(self, method: str, path: str, **kw: object) -> Reply:
            Busy.calls += 1
            if Busy.calls == 1:
                return Reply(status=503, headers={"retry-after": "7"}, body=b"")
            return HttpTransport(client, TOKENS["crew_a"]).request(method, path, **kw)  # type: ignore[arg-type]

    a = DeviceClient(Replica(":memory:"), Busy(), clock=services.clock,
                     sleep=waits.append)
    assert a.pull() > 0
    assert waits == [7.0]


def test_a_gap_is_repaired_by_renumbering_the_outbox(device: Make) -> None:
    a = device()
    a.record(AddNote(work_order_id="no-such-order", evidence_id="e", text=""))
    a.replica.renumber_from(5)  # as if mutations 1-4 were lost on the device
    a.push()
    assert a.replica.results()[1].reason_code == "not-found"
    assert a.replica.outbox() == []


def test_a_refused_request_is_not_retried(device: Make) -> None:
    waits: list[float] = []
    a = device()
    a.sleep = waits.append
    a.replica.set_meta("cursor", "garbage")
    with pytest.raises(ServerRefusedError) as err:
        a.pull()
    assert err.value.problem_code == "bad-cursor"
    assert waits == []



def test_the_client_declares_each_photo_with_its_order_so_the_order_quota_holds(
        device: Make, services: Services) -> None:
    a = device()
    wo = services.workorders.create(DISPATCHER_ACTOR, order_in(crew_id="crew-a"))
    a.pull()
    services.sync.vault.order_quota_bytes = len(JPEG) * 3 // 2  # room for one photo
    first, second = JPEG, JPEG + b"\x01"
    shas = [a.add_blob(data, "image/jpeg") for data in (first, second)]
    for n, (sha, data) in enumerate(zip(shas, (first, second), strict=True)):
        a.record(AttachEvidence(work_order_id=wo.id, evidence_id=f"ev-q{n}", sha256=sha,
                                content_type="image/jpeg", size=len(data), step_key="repair"))
    a.push()  # status first, photos after: the server already knows both are wo's evidence
    assert a.upload() == 1
    row = services.sync.store.attachment(shas[0])
    assert row is not None
    assert row.work_order_id == wo.id
    kept = a.replica.db.execute("SELECT refused, data IS NOT NULL FROM blobs WHERE sha256 = ?",
                                [shas[1]]).fetchone()
    assert tuple(kept) == ("attachment-quota-exceeded", 1)  # kept on the tablet, with why
    assert services.sync.store.attachment(shas[1]) is None


def test_an_upload_of_pushed_evidence_must_name_its_order(
        client: TestClient[Litestar], services: Services) -> None:
    h = bearer(TOKENS["crew_a"])
    wo = services.workorders.create(DISPATCHER_ACTOR, order_in(crew_id="crew-a"))
    other = services.workorders.create(DISPATCHER_ACTOR, order_in(crew_id="crew-a"))
    sha = hashlib.sha256(JPEG).hexdigest()
    pushed = client.post("/api/v1/sync/push", headers=h, json={"mutations": [{
        "id": 1, "device_time": "2026-11-23T01:00:00Z", "intent": {
            "kind": "attach_evidence", "work_order_id": wo.id, "evidence_id": "ev-need",
            "sha256": sha, "content_type": "image/jpeg", "size": len(JPEG),
            "step_key": "repair"}}]})
    assert pushed.json()["results"][0]["outcome"] == "applied"
    decl = {"sha256": sha, "size": len(JPEG), "content_type": "image/jpeg"}
    r = client.post("/api/v1/sync/attachments", headers=h, json=decl)
    assert r.status_code == 422
    assert r.headers["content-type"].startswith("application/problem+json")
    assert r.json()["type"].endswith("/attachment-order-required")
    assert r.json()["work_order_ids"] == [wo.id]
    r = client.post("/api/v1/sync/attachments", headers=h,
                    json={**decl, "work_order_id": other.id})
    assert r.status_code == 422
    assert r.json()["type"].endswith("/attachment-order-mismatch")
    assert services.sync.store.attachment(sha) is None  # nothing was opened
    r = client.post("/api/v1/sync/attachments", headers=h, json={**decl, "work_order_id": wo.id})
    assert r.status_code == 200
    row = services.sync.store.attachment(sha)
    assert row is not None
    assert row.work_order_id == wo.id
