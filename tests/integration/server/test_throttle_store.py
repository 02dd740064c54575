"""The throttles live in the store: two app instances on one database spend one budget,
a restart keeps a lock-out, and a flood writes no row per request (issue 13).

Runs on SQLite and, with ``WATEROPS_TEST_DATABASE_URL``, on PostgreSQL: the second
instance opens the first one's store through the same settings.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from litestar.testing import TestClient

from server.app import create_app
from server.authz.throttle import ADDRESS, LOOKUP, LockoutBook, RateLimitedError, RateLimiter
from server.services import Services
from tests.factories import assert_problem, make_clock
from tests.integration.server.authz_world import TOKENS_ALL, World, build_world

pytestmark = pytest.mark.integration

API = "/api/v1"


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> World:
    return build_world(tmp_path_factory.mktemp("throttle") / "world", make_clock())


@pytest.fixture
def pair(world: World, tmp_path: Path) -> Iterator[tuple[Services, Services]]:
    """Two services (two ``waterops serve`` processes' worth) on one store."""
    small = World(folder=world.folder, clock=world.clock, tokens=world.tokens, ids=world.ids,
                  settings={**world.settings, "public_requests_per_minute": 4,
                            "lookup_free_failures": 2, "lookup_lockout_s": 60.0,
                            "lookup_lockout_max_s": 3600.0})
    first = small.copy(tmp_path / "w")
    second = Services(first.settings, world.clock)
    yield first, second
    second.close()
    first.close()


def test_two_instances_spend_one_budget_per_address(
        pair: tuple[Services, Services], world: World) -> None:
    first, second = pair
    with TestClient(create_app(first.settings, clock=world.clock, services=first)) as a, \
            TestClient(create_app(second.settings, clock=world.clock, services=second)) as b:
        assert [c.get(f"{API}/public/health").status_code for c in (a, b, a, b)] == [200] * 4
        world.clock.advance(seconds=20)
        for c in (a, b):
            r = c.get(f"{API}/public/health")
            assert_problem(r, 429, "too-many-requests")
            assert r.headers["retry-after"] == "40"  # from the window stored by the first
            assert r.headers["content-type"].startswith("application/problem+json")
        world.clock.advance(seconds=40)
        assert b.get(f"{API}/public/health").status_code == 200
    assert first.throttle.unauthenticated.store.count(ADDRESS) == 1


def test_a_lockout_holds_across_instances_and_a_restart(
        pair: tuple[Services, Services], world: World) -> None:
    first, second = pair
    number = world.ids["number"]
    url = f"{API}/public/complaints/{number}"
    with TestClient(create_app(first.settings, clock=world.clock, services=first)) as a, \
            TestClient(create_app(second.settings, clock=world.clock, services=second)) as b:
        assert_problem(a.get(url, params={"phone_last4": "0001"}), 404, "complaint-not-found")
        assert_problem(b.get(url, params={"phone_last4": "0002"}), 404, "complaint-not-found")
        # the third wrong guess locks 60 s, the fourth 120 s
        assert_problem(a.get(url, params={"phone_last4": "0003"}), 404, "complaint-not-found")
        world.clock.advance(minutes=1)  # a fresh request budget; the lock has just ended
        assert_problem(b.get(url, params={"phone_last4": "0004"}), 404, "complaint-not-found")
    restarted = Services(first.settings, world.clock)
    try:
        with TestClient(create_app(restarted.settings, clock=world.clock,
                                   services=restarted)) as c:
            world.clock.advance(seconds=30)
            r = c.get(url, params={"phone_last4": "5678"})  # even the right digits wait
            assert_problem(r, 429, "lookup-locked")
            assert r.headers["retry-after"] == "90"
            world.clock.advance(seconds=90)
            assert c.get(url, params={"phone_last4": "5678"}).status_code == 200
        assert restarted.throttle.lookups.store.count(LOOKUP) == 0  # success clears it
    finally:
        restarted.close()


def test_a_flood_writes_one_row_per_key_and_the_table_stays_bounded(
        pair: tuple[Services, Services], world: World) -> None:
    first, second = pair
    limiter = RateLimiter(first.db, world.clock, 3, timedelta(minutes=1), kind="flood",
                          max_keys=5)
    for _ in range(3):
        limiter.hit("203.0.113.9")
    for _ in range(50):
        with pytest.raises(RateLimitedError) as refused:
            limiter.hit("203.0.113.9")
        assert refused.value.retry_after_s == 60
    assert limiter.store.count("flood") == 1
    for n in range(20):
        limiter.hit(f"198.51.100.{n}")
    assert limiter.store.count("flood") == 5
    world.clock.advance(minutes=2)
    limiter.hit("192.0.2.1")  # expired windows are deleted, not kept
    assert limiter.store.count("flood") == 1
    book = LockoutBook(second.db, world.clock, 1, timedelta(seconds=10),
                       timedelta(seconds=100), kind="guess", max_keys=3)
    for _ in range(40):
        book.fail("C1 203.0.113.9")
    assert book.store.count("guess") == 1
    assert book.locked_for("C1 203.0.113.9") == 100


def test_review_flags_from_a_device_are_limited_across_instances(
        world: World, tmp_path: Path) -> None:
    limited = World(folder=world.folder, clock=world.clock, tokens=world.tokens, ids=world.ids,
                    settings={**world.settings, "review_flags_per_device_hour": 3})
    first = limited.copy(tmp_path / "flags")
    second = Services(first.settings, world.clock)
    wo = world.ids["wo_id"]
    crew_a = {"Authorization": f"Bearer {TOKENS_ALL['crew_a']}"}

    def bad(n: int) -> dict[str, object]:
        return {"id": n, "device_time": "2026-11-23T01:00:00Z", "intent": {
            "kind": "add_note", "work_order_id": wo, "evidence_id": f"ev-f{n}", "text": "x",
            "step_key": "no-such-step"}}
    try:
        with TestClient(create_app(first.settings, clock=world.clock, services=first)) as a, \
                TestClient(create_app(second.settings, clock=world.clock, services=second)) as b:
            got = a.post(f"{API}/sync/push", headers=crew_a,
                         json={"mutations": [bad(1), bad(2)]}).json()["results"]
            got += b.post(f"{API}/sync/push", headers=crew_a,
                          json={"mutations": [bad(3), bad(4), bad(5)]}).json()["results"]
            assert [r["outcome"] for r in got] == ["rejected"] * 5
            # 3 per device and hour in all, whichever process takes the push
            assert [r["review_id"] is not None for r in got] == [True, True, True, False, False]
    finally:
        second.close()
        first.close()
