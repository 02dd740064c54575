"""The shift simulation: 20 tablets offline for a shift, dispatch busy, faulty reconnects.

Afterwards every tablet's replica equals the server's view of its scope, every mutation
was applied exactly once or rejected with a reason, and no recorded evidence was lost.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from pathlib import Path

import pytest
from litestar import Litestar
from litestar.testing import TestClient

from server.app import create_app
from server.clock import SteppingClock
from server.services import Services
from tests.factories import make_clock, make_services
from tests.integration.sync.world import World, sha_of

pytestmark = pytest.mark.integration

FAULTS = {"drop_request": 0.08, "drop_response": 0.08, "duplicate": 0.08, "cut_upload": 0.25}


@pytest.fixture
def make_world(tmp_path: Path) -> Iterator[object]:
    opened: list[tuple[Services, TestClient[Litestar]]] = []

    def build(seed: int) -> World:
        clock: SteppingClock = make_clock()
        svc = make_services(str(tmp_path / f"server-{seed}"), clock,
                            review_flags_per_device_hour=10_000)  # every rejection is kept
        http = TestClient(create_app(svc.settings, clock=clock, services=svc))
        http.__enter__()
        opened.append((svc, http))
        devices_dir = tmp_path / f"devices-{seed}"
        devices_dir.mkdir()
        return World(svc, clock, http, random.Random(seed), devices_dir)

    yield build
    for svc, http in opened:
        http.__exit__(None, None, None)
        svc.close()


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_a_shift_offline_converges_exactly_once(make_world: object, seed: int) -> None:
    world: World = make_world(seed)  # type: ignore[operator]
    world.populate(crews=4, devices_per_crew=5, orders_per_crew=6, faults=FAULTS)
    for dev in world.devices:  # morning: online, the scope lands on every tablet
        dev.transport.enabled = False
        dev.client.sync()
        dev.transport.enabled = True
    rng = world.rng
    for _half in range(2):  # the shift: offline work, dispatch changes things meanwhile
        for dev in world.devices:
            dev.work_offline(rng, 60)
            world.clock.advance(minutes=2)
        world.dispatch_meanwhile(8)
    order = list(world.devices)
    rng.shuffle(order)
    for i, dev in enumerate(order):  # evening: reconnect in random order through faults
        dev.sync_until_done()
        if i == len(order) // 2:
            world.dispatch_meanwhile(4)
    for dev in world.devices:  # everyone pulls once more: others' pushes changed scopes
        dev.sync_until_done()

    faults = [dev.transport.counts for dev in world.devices]
    assert sum(f.dropped_responses for f in faults) > 0
    assert sum(f.cut_uploads for f in faults) > 0
    db = world.svc.db
    all_evidence = {str(r[0]) for r in db.execute("SELECT id FROM evidence")}
    for dev in world.devices:
        replica = dev.client.replica
        view = world.server_view(dev.crew_id)
        assert replica.rows("work_order") == view["work_order"], dev.device_id
        assert replica.rows("customer") == view["customer"], dev.device_id
        # exactly once: the server's ledger has each id once, the device knows each outcome
        sent = replica.next_mutation_id() - 1
        ledger = {int(r[0]): (r[1], r[2]) for r in db.execute(
            "SELECT mutation_id, outcome, reason_code FROM sync_mutations WHERE device_id = ?",
            [dev.device_id])}
        assert sorted(ledger) == list(range(1, sent + 1))
        results = replica.results()
        assert {i: (str(r.outcome), r.reason_code) for i, r in results.items()} == ledger
        assert all(code for outcome, code in ledger.values() if outcome == "rejected")
        applied_moves = {i for i in dev.status_mutations if results[i].outcome == "applied"}
        moves = db.execute("SELECT COUNT(*) FROM audit WHERE device_id = ? AND action LIKE "
                           "'status:%'", [dev.device_id]).fetchone()[0]
        assert moves == len(applied_moves)
        # nothing recorded is lost: every evidence row and every photo is on the server
        assert dev.evidence_ids <= all_evidence
        assert set(replica.blob_states()) == dev.blobs
        assert all(replica.blob_states().values())
        for sha in dev.blobs:
            assert sha_of(world.svc.settings.attachments_dir / sha) == sha
    total = sum(len(d.evidence_ids) for d in world.devices)
    assert len(all_evidence) == total
    flagged = db.execute("SELECT COUNT(*) FROM evidence WHERE review_id IS NOT NULL").fetchone()[0]
    rejected = db.execute("SELECT COUNT(*) FROM sync_mutations WHERE outcome = 'rejected'"
                          ).fetchone()[0]
    assert rejected > 0
    assert flagged > 0
    open_flags = db.execute("SELECT COUNT(*) FROM review_flags").fetchone()[0]
    assert open_flags == rejected
