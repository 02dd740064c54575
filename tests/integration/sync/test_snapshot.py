"""Initial sync in one request: ``/sync/snapshot`` and the cursor that continues from it.

A tablet with an empty replica downloads its crew's whole scope at once; what it then
holds is what a tablet pulling page by page holds at the same state, and pulling on from
the snapshot's cursor brings later changes, removals included. JSON and MessagePack
replicas hold the same rows. Ordinary pull pages are bounded by bytes as well as rows.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import msgspec
import pytest
from litestar import Litestar
from litestar.testing import TestClient

from server.services import Services
from server.workorders.model import Actor, AssignIn, Status, TransitionIn, WorkOrderType
from sync.client import DeviceClient, HttpTransport, Replica, RetryPolicy
from sync.client.transport import Reply
from tests.factories import TOKENS, assert_problem, bearer, order_in
from tests.integration.sync.world import DISPATCHER

pytestmark = pytest.mark.integration

DISPATCH = Actor(user_id="disp-wang", role="dispatcher")
ENTITIES = ("work_order", "customer", "pipe", "node", "valve", "hydrant", "isolation_plan",
            "door_task")


def _tablet(client: TestClient[Litestar], services: Services, path: Path, *,
            snapshots: bool, msgpack: bool = False, page_rows: int = 7) -> DeviceClient:
    return DeviceClient(Replica(path, synchronous="OFF"),
                        HttpTransport(client, TOKENS["crew_a"]), clock=services.clock,
                        sleep=lambda _s: None, retry=RetryPolicy(attempts=2),
                        page_rows=page_rows, snapshots=snapshots, msgpack=msgpack)


def _state(dev: DeviceClient) -> dict[str, dict[str, dict[str, object]]]:
    return {e: dev.replica.rows(e) for e in ENTITIES}


def test_a_snapshot_holds_what_paged_pulls_hold_and_its_cursor_continues(
        client: TestClient[Litestar], services: Services, tmp_path: Path) -> None:
    orders = [services.workorders.create(DISPATCH, order_in(crew_id="crew-a",
                                                            customer_id=f"cust-{i:05d}"))
              for i in range(1, 13)]
    services.workorders.assign(DISPATCHER, orders[0].id, AssignIn(crew_id="crew-b"))
    paged = _tablet(client, services, tmp_path / "paged.db", snapshots=False)
    snap = _tablet(client, services, tmp_path / "snap.db", snapshots=True)
    packed = _tablet(client, services, tmp_path / "packed.db", snapshots=True, msgpack=True)
    assert paged.pull() == snap.pull() == packed.pull()
    held = _state(snap)
    assert held == _state(paged) == _state(packed)
    assert orders[0].id not in held["work_order"]
    assert orders[1].id in held["work_order"]
    assert held["customer"]
    assert held["pipe"]  # the demo network near the crew's orders
    # later changes reach the snapshot's replica through ordinary pulls from its cursor
    services.workorders.assign(DISPATCHER, orders[1].id, AssignIn(crew_id="crew-b"))
    late = services.workorders.create(DISPATCH, order_in(crew_id="crew-a"))
    for dev in (paged, snap, packed):
        dev.pull()
    assert _state(snap) == _state(paged) == _state(packed)
    assert orders[1].id not in snap.replica.rows("work_order")
    assert late.id in packed.replica.rows("work_order")


def test_a_snapshot_answers_a_consistent_checkpoint_and_no_removals(
        client: TestClient[Litestar], services: Services) -> None:
    wo = services.workorders.create(DISPATCH, order_in(crew_id="crew-a"))
    services.workorders.assign(DISPATCHER, wo.id, AssignIn(crew_id="crew-b"))
    r = client.post("/api/v1/sync/snapshot", json={}, headers=bearer(TOKENS["crew_a"]))
    assert r.status_code == 200
    page = r.json()
    assert page["more"] is False
    assert page["removals"] == []
    assert wo.id not in {u["id"] for u in page["upserts"] if u["entity"] == "work_order"}
    latest = services.db.execute("SELECT MAX(seq) FROM changes").fetchone()[0]
    assert page["checkpoint"] == latest
    nothing_new = client.post("/api/v1/sync/pull", json={"cursor": page["cursor"]},
                              headers=bearer(TOKENS["crew_a"])).json()
    assert nothing_new["upserts"] == []
    assert nothing_new["more"] is False


def test_an_office_role_gets_no_snapshot(client: TestClient[Litestar]) -> None:
    r = client.post("/api/v1/sync/snapshot", json={}, headers=bearer(TOKENS["dispatcher"]))
    assert_problem(r, 403, "forbidden")
    assert r.headers["content-type"].startswith("application/problem+json")


def test_pull_pages_are_bounded_by_bytes_as_well_as_rows(
        client: TestClient[Litestar], services: Services) -> None:
    created = {services.workorders.create(DISPATCH, msgspec.structs.replace(
        order_in(crew_id="crew-a"), description="漏水" * 500)).id for _ in range(60)}
    bound = 64 * 1024
    cursor: str | None = None
    sizes: list[int] = []
    seen: set[str] = set()
    while True:
        r = client.post("/api/v1/sync/pull", json={"cursor": cursor, "limit": 2000,
                                                   "max_bytes": bound},
                        headers=bearer(TOKENS["crew_a"]))
        assert r.status_code == 200
        page = r.json()
        sizes.append(len(r.content))
        seen.update(u["id"] for u in page["upserts"] if u["entity"] == "work_order")
        cursor = page["cursor"]
        if not page["more"]:
            break
    assert len(sizes) >= 3  # 60 orders of ~3 kB do not fit in one 64 KiB page
    assert max(sizes) <= bound + 512  # the page's envelope: cursor, checkpoint, times
    assert created <= seen


def test_the_network_scope_is_computed_again_only_when_the_crews_orders_move(
        client: TestClient, services: Services) -> None:  # type: ignore[type-arg]
    wo = services.workorders.create(DISPATCH, order_in(WorkOrderType.COMPLAINT))
    auth = bearer(TOKENS["crew_a"])
    first = client.post("/api/v1/sync/snapshot", json={}, headers=auth).json()
    assert {u["id"] for u in first["upserts"] if u["entity"] == "pipe"}
    cache = services.sync.network_cache
    computed = cache.misses

    def pull(cursor: str) -> dict[str, Any]:
        page: dict[str, Any] = client.post("/api/v1/sync/pull", json={"cursor": cursor},
                                           headers=auth).json()
        assert page["more"] is False
        return page

    quiet = pull(first["cursor"])
    # a change of an order that does not move it (its status) keeps the cached network
    services.workorders.transition(DISPATCHER, wo.id, TransitionIn(to=Status.CONTACTED))
    moved_on = pull(quiet["cursor"])
    assert [u["data"]["status"] for u in moved_on["upserts"] if u["id"] == wo.id] == ["contacted"]
    assert cache.misses == computed
    # an order leaving the crew moves its anchors: the network is evaluated again
    services.workorders.assign(DISPATCHER, wo.id, AssignIn(crew_id="crew-b"))
    gone = pull(moved_on["cursor"])
    assert {"entity": "work_order", "id": wo.id, "op": "remove"} in gone["removals"]
    assert cache.misses == computed + 1


class _CountingTransport(HttpTransport):
    """The real transport, noting each path it is asked for."""

    def __init__(self, client: TestClient[Litestar], token: str) -> None:
        super().__init__(client, token)
        self.paths: list[str] = []

    def request(self, method: str, path: str, *, body: bytes | None = None,
                headers: Mapping[str, str] | None = None,
                params: Mapping[str, str] | None = None) -> Reply:
        self.paths.append(path)
        return super().request(method, path, body=body, headers=headers, params=params)


def test_a_first_sync_is_one_request_and_later_changes_come_with_the_next_pull(
        client: TestClient[Litestar], services: Services, tmp_path: Path) -> None:
    services.workorders.create(DISPATCH, order_in(crew_id="crew-a"))
    transport = _CountingTransport(client, TOKENS["crew_a"])
    dev = DeviceClient(Replica(tmp_path / "one.db", synchronous="OFF"), transport,
                       clock=services.clock, sleep=lambda _s: None,
                       retry=RetryPolicy(attempts=2))
    checkpoint = dev.pull()
    assert transport.paths == ["/sync/snapshot"]
    assert dev.replica.get_meta("checkpoint") == str(checkpoint)
    late = services.workorders.create(DISPATCH, order_in(crew_id="crew-a"))
    assert late.id not in dev.replica.rows("work_order")
    assert dev.pull() > checkpoint
    assert transport.paths[1:] == ["/sync/pull"]
    assert late.id in dev.replica.rows("work_order")
