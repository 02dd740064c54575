"""A crew's network scope, computed once by the ``network_scopes`` job, serves every process.

Issue 19 (shift change): the spatial query behind a crew's network scope costs more than
the rest of a first sync, and each server process and each restart paid it again. The job
stores each field crew's scope; another process (a second ``Services`` on the same store)
answers a snapshot from that row without a spatial query, a row its orders have since moved
away from is not used, and the job computes again only crews whose anchors moved.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from pathlib import Path

import pytest
from pyproj import Transformer
from shapely.geometry import LineString, Point

from server.accounts.model import Principal
from server.clock import SteppingClock
from server.intents.readers import NetworkSource, Row
from server.services import Services
from server.settings import Settings
from server.workers import service_jobs
from server.workorders.model import Actor, AssignIn, Status, TransitionIn
from sync.protocol import SnapshotRequest
from tests.factories import TOKENS, make_settings, order_in
from tests.integration.sync.world import DISPATCHER

pytestmark = pytest.mark.integration

RADIUS_M = 150.0
#: the demo grid's south-west and north-east crossings (``server.demo_network``): ~2 km apart
SOUTH_WEST = (116.990, 36.6435)
NORTH_EAST = (117.010, 36.6575)
#: Jinan's Gauss-Kruger zone (CGCS2000 / 3-degree GK CM 117E): metres, for true distances
TO_METRES = Transformer.from_crs("EPSG:4326", "EPSG:4548", always_xy=True)
Key = tuple[str, str]
#: who creates orders (``WorkOrderService.create`` takes an actor; the rest a principal)
CREATOR = Actor(user_id="disp-wang", role="dispatcher")


class CountingSource:
    """The real network source, counting its spatial queries (the work the job saves)."""

    def __init__(self, inner: NetworkSource) -> None:
        self.inner = inner
        self.entities = inner.entities
        self.near_calls = 0

    def near(self, points: Sequence[tuple[float, float]], radius_m: float) -> list[Key]:
        self.near_calls += 1
        return self.inner.near(points, radius_m)

    def read(self, entity: str, ids: Sequence[str]) -> dict[str, Row]:
        return self.inner.read(entity, ids)


@pytest.fixture
def shared(tmp_path: Path) -> Settings:
    """One store for two processes, with a radius small enough to tell crossings apart."""
    return make_settings(str(tmp_path), sync_network_radius_m=RADIUS_M)


@pytest.fixture
def third(first: Services, shared: Settings, clock: SteppingClock) -> Iterator[Services]:
    """Yet another process (a restart after a deploy), made after ``first`` seeded the
    store: its own connections, nothing in its own cache."""
    svc = Services(shared, clock)
    assert svc.db is not first.db
    yield svc
    svc.close()


def _counting(svc: Services) -> CountingSource:
    counting = CountingSource(svc.network.store)
    svc.sync.network[:] = [counting]
    return counting


def _run_job(svc: Services) -> dict[str, int]:
    job = next(j for j in service_jobs(svc) if j.name == "network_scopes")
    return job.run()


def _crew(svc: Services, token: str) -> Principal:
    found = svc.accounts.authenticate(TOKENS[token])
    assert found is not None
    return found


def _network_rows(svc: Services, token: str = "crew_a") -> set[Key]:
    page = svc.sync.snapshot(_crew(svc, token), SnapshotRequest())
    network = set(svc.network.store.entities)
    return {(u.entity, u.id) for u in page.upserts if u.entity in network}


def _pipes_within(svc: Services, points: Sequence[tuple[float, float]], radius_m: float
                  ) -> set[str]:
    """Pipes whose polyline passes within ``radius_m`` of a point, by plane geometry in
    metres (shapely), independent of the store's spatial query."""
    metric = [Point(TO_METRES.transform(lon, lat)) for lon, lat in points]
    return {p.id for p in svc.network.store.load_network().pipes
            if min(LineString([TO_METRES.transform(x, y) for x, y in p.coords]).distance(q)
                   for q in metric) <= radius_m}


def _pipes(rows: set[Key]) -> set[str]:
    return {i for e, i in rows if e == "pipe"}


def _only_order_of_crew_a_at(svc: Services, where: tuple[float, float]) -> str:
    """Hand every order of crew A to crew B and give crew A one order at ``where``."""
    held = [str(r[0]) for r in svc.db.execute(
        "SELECT id FROM work_orders WHERE crew_id = 'crew-a'").fetchall()]
    for wo_id in held:
        svc.workorders.assign(DISPATCHER, wo_id, AssignIn(crew_id="crew-b"))
    lon, lat = where
    return svc.workorders.create(CREATOR, order_in(crew_id="crew-a", lon=lon, lat=lat)).id


def test_another_process_answers_a_snapshot_from_the_stored_scope_without_computing(
        first: Services, second: Services) -> None:
    computed_here = _network_rows(first)  # no stored row yet: this process computes it
    assert first.sync.network_cache.misses == 1
    done = _run_job(first)
    assert done["crews"] >= 2  # crew A and crew B have devices and open orders
    assert done["computed"] == done["crews"]
    counting = _counting(second)
    shown = _network_rows(second)
    assert counting.near_calls == 0
    assert second.sync.network_cache.stored_hits == 1
    assert shown == computed_here
    anchors = [(float(r[0]), float(r[1])) for r in first.db.execute(
        "SELECT lon, lat FROM work_orders WHERE crew_id = 'crew-a' "
        "AND status NOT IN ('verified','cancelled')").fetchall()]
    # what was shown is the network near the crew's orders, not some other crew's
    assert _pipes_within(first, anchors, 0.9 * RADIUS_M) <= _pipes(shown)
    assert not _pipes(shown) - _pipes_within(first, anchors, 1.1 * RADIUS_M)


@pytest.mark.parametrize("move", ["reassigned", "cancelled"])
def test_an_order_that_moves_makes_the_stored_scope_stale_before_the_job_runs_again(
        first: Services, third: Services, move: str) -> None:
    old = _only_order_of_crew_a_at(first, SOUTH_WEST)
    assert _run_job(first)["computed"] >= 1
    near_old = _pipes_within(first, [SOUTH_WEST], RADIUS_M)
    near_new = _pipes_within(first, [NORTH_EAST], RADIUS_M)
    assert near_old
    assert near_new
    assert not near_old & near_new
    if move == "reassigned":
        first.workorders.assign(DISPATCHER, old, AssignIn(crew_id="crew-b"))
    else:
        first.workorders.transition(DISPATCHER, old, TransitionIn(to=Status.CANCELLED,
                                                                  reason="duplicate"))
    first.workorders.create(CREATOR, order_in(crew_id="crew-a", lon=NORTH_EAST[0],
                                                 lat=NORTH_EAST[1]))
    counting = _counting(third)
    shown = _pipes(_network_rows(third))
    assert counting.near_calls == 1  # the stored row was not trusted: computed anew
    assert near_new <= shown
    assert not near_old & shown
    # once the job ran again, a further process meets the new scope without computing
    assert _run_job(first)["computed"] >= 1
    again = Services(first.settings, first.clock)
    try:
        recount = _counting(again)
        assert _pipes(_network_rows(again)) == shown
        assert recount.near_calls == 0
    finally:
        again.close()


def test_the_job_computes_again_only_the_crews_whose_anchors_moved(first: Services) -> None:
    counting = _counting(first)
    done = _run_job(first)
    assert done["computed"] == done["crews"] >= 2
    assert counting.near_calls == done["crews"]
    assert _run_job(first) == {"crews": done["crews"], "computed": 0, "restamped": 0}
    held_by_b, kind = first.db.execute(
        "SELECT id, type FROM work_orders WHERE crew_id = 'crew-b' AND status = 'assigned' "
        "ORDER BY id LIMIT 1").fetchone()
    # crew B's order changes without moving (its status, open either way: a complaint's
    # first step is contacting the customer, the other kinds' is setting off); crew A
    # gets an order somewhere new
    step = Status.CONTACTED if kind == "complaint" else Status.EN_ROUTE
    first.workorders.transition(DISPATCHER, str(held_by_b), TransitionIn(to=step))
    first.workorders.create(CREATOR, order_in(crew_id="crew-a", lon=NORTH_EAST[0],
                                                 lat=NORTH_EAST[1]))
    calls = counting.near_calls
    moved = _run_job(first)
    assert moved == {"crews": done["crews"], "computed": 1, "restamped": 1}
    assert counting.near_calls == calls + 1
    # crew B's restamped row is current: a new process answers B without computing
    other = Services(first.settings, first.clock)
    try:
        recount = _counting(other)
        _network_rows(other, "crew_b")
        assert recount.near_calls == 0
        assert other.sync.network_cache.stored_hits == 1
    finally:
        other.close()
