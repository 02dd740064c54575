"""Work-order list pages from the page cache (issue 19, ``server.pagecache``): never older
than a committed change of any process on the store, never another scope's, and changed by
the clock alone when a due time passes. Runs on SQLite and, in CI's second pass, on
PostgreSQL (two ``Services`` on one store stand for two server processes)."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Coroutine, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, TypeVar

import msgspec
import pytest
from litestar import Litestar
from litestar.testing import TestClient

from server.accounts.model import Principal
from server.accounts.tokens import hash_token
from server.app import create_app
from server.cli.common import OPERATOR
from server.clock import SteppingClock
from server.demo import seed_demo
from server.loopreads import close_loop_connections, open_loop_connections
from server.services import Services
from server.workorders.deadlines import INSPECTION_RULE, THIRD_PARTY_FIELD
from server.workorders.model import Actor, WorkOrderType
from server.workorders.store import LIST_VERSION
from tests.factories import TOKENS, bearer, make_settings, order_in
from tests.plans import is_pg

pytestmark = pytest.mark.integration

DISPATCH = bearer(TOKENS["dispatcher"])
LIST = "/api/v1/workorders?limit=500"
DISPATCHER = Actor(user_id="disp-wang", role="dispatcher")

T = TypeVar("T")


def on_own_loop(make: Callable[[], Coroutine[Any, Any, T]]) -> T:
    """Run ``make()`` to completion on a new event loop in a thread of its own: the main
    thread may already run one (Playwright's sync API keeps a loop there for the browser
    tests' session), and ``asyncio.run`` refuses to start beside it."""
    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(lambda: asyncio.run(make())).result()


@pytest.fixture
def client(first: Services, clock: SteppingClock) -> Iterator[TestClient[Litestar]]:
    with TestClient(create_app(first.settings, clock=clock, services=first)) as c:
        yield c


def _items(client: TestClient[Litestar], url: str = LIST,
           headers: dict[str, str] = DISPATCH) -> dict[str, dict[str, Any]]:
    r = client.get(url, headers=headers)
    assert r.status_code == 200, r.text
    return {w["id"]: w for w in r.json()["items"]}


def test_a_write_by_another_process_is_in_the_next_page(
        client: TestClient[Litestar], first: Services, second: Services) -> None:
    """Neither write appends to the change log (an order without a crew is in no crew's
    scope; the inspection clock is met without a touch): the list version counts them."""
    damage = second.workorders.create(DISPATCHER, msgspec.structs.replace(
        order_in(), fields={THIRD_PARTY_FIELD: True}))
    before = _items(client)
    assert first.page_cache is not None
    assert _items(client) == before
    assert first.page_cache.hits >= 1

    unassigned = second.workorders.create(DISPATCHER, order_in(crew_id=None))
    assert unassigned.id in _items(client)

    dispatcher = second.accounts.authenticate(TOKENS["dispatcher"])
    assert dispatcher is not None
    second.workorders.inspection_on_site(dispatcher, damage.id)
    clock_of = {d["rule"]: d for d in _items(client)[damage.id]["deadlines"]}
    assert clock_of[INSPECTION_RULE]["met_at"] is not None


def test_a_write_in_this_process_is_in_the_next_page(client: TestClient[Litestar]) -> None:
    wo = client.post("/api/v1/workorders", json={
        "type": "burst_repair", "crew_id": "crew-a",
        "location": {"type": "Point", "coordinates": [117.001, 36.651]}},
        headers=DISPATCH).json()
    assert _items(client)[wo["id"]]["status"] == "assigned"
    # the same instant: only the write can make the kept page stale
    r = client.post(f"/api/v1/workorders/{wo['id']}/transitions", json={"to": "en_route"},
                    headers=bearer(TOKENS["crew_a"]))
    assert r.status_code == 200, r.text
    assert _items(client)[wo["id"]]["status"] == "en_route"


def test_a_page_kept_for_one_scope_is_never_served_to_another(
        client: TestClient[Litestar], first: Services) -> None:
    for crew in ("crew-a", "crew-b", "crew-a"):
        first.workorders.create(DISPATCHER, order_in(crew_id=crew))
    crews: dict[str, set[str | None]] = {}
    for _ in range(2):  # the second round is answered from the cache
        for who in ("crew_a", "crew_b", "dispatcher"):
            crews[who] = {w["crew_id"] for w in _items(client, headers=bearer(TOKENS[who])
                                                        ).values()}
    assert crews["crew_a"] == {"crew-a"}
    assert crews["crew_b"] == {"crew-b"}
    assert {"crew-a", "crew-b"} <= crews["dispatcher"]
    assert first.page_cache is not None
    assert first.page_cache.hits >= 3
    # crew b sending crew a's tag gets its own page, not a 304 for the other's bytes
    tag_a = client.get(LIST, headers=bearer(TOKENS["crew_a"])).headers["etag"]
    r = client.get(LIST, headers={**bearer(TOKENS["crew_b"]), "If-None-Match": tag_a})
    assert r.status_code == 200
    assert {w["crew_id"] for w in r.json()["items"]} == {"crew-b"}


def test_the_clock_alone_turns_a_kept_page_overdue(
        client: TestClient[Litestar], first: Services, clock: SteppingClock) -> None:
    wo = first.workorders.create(DISPATCHER, order_in(WorkOrderType.BURST_REPAIR))
    overdue = "/api/v1/workorders?overdue=true&crew_id=crew-a&limit=500"
    assert not any(d["overdue"] for d in _items(client)[wo.id]["deadlines"])
    assert wo.id not in _items(client, overdue)
    assert wo.id not in _items(client, overdue)  # kept, and still true
    clock.advance(hours=30)  # past every deadline of a burst repair; nothing written
    assert any(d["overdue"] for d in _items(client)[wo.id]["deadlines"])
    assert wo.id in _items(client, overdue)


def test_the_deadline_scan_keeps_the_pages_and_a_met_deadline_changes_them(
        client: TestClient[Litestar], first: Services, second: Services,
        clock: SteppingClock) -> None:
    """The scan writes its reminders on the deadlines' rows (what it owes next), which no
    list shows: the version stays and the kept page is served again. Meeting a deadline
    is shown: the next page has it (migration m017)."""
    wo = first.workorders.create(DISPATCHER, msgspec.structs.replace(
        order_in(WorkOrderType.BURST_REPAIR), fields={THIRD_PARTY_FIELD: True}))
    clock.advance(hours=30)  # every deadline of a burst repair owed: reminders, escalations
    before = _items(client)
    version = first.workorders.store.list_version()
    assert first.page_cache is not None
    hits = first.page_cache.hits
    scan = second.tickets.reminders.scan()
    assert any(r.item_id == wo.id for r in scan.reminders)
    assert first.workorders.store.list_version() == version
    assert _items(client) == before
    assert first.page_cache.hits == hits + 1

    dispatcher = second.accounts.authenticate(TOKENS["dispatcher"])
    assert dispatcher is not None
    second.workorders.inspection_on_site(dispatcher, wo.id)
    met = {d["rule"]: d["met_at"] for d in _items(client)[wo.id]["deadlines"]}
    assert met[INSPECTION_RULE] is not None
    assert first.workorders.store.list_version() != version


def test_an_unchanged_page_answers_304_and_a_changed_one_its_new_bytes(
        client: TestClient[Litestar], first: Services) -> None:
    r = client.get(LIST, headers=DISPATCH)
    tag = r.headers["etag"]
    assert r.headers["cache-control"] == "private, no-cache"
    again = client.get(LIST, headers={**DISPATCH, "If-None-Match": f'"x", {tag}'})
    assert again.status_code == 304
    assert again.content == b""
    assert again.headers["etag"] == tag
    first.workorders.create(DISPATCHER, order_in())
    changed = client.get(LIST, headers={**DISPATCH, "If-None-Match": tag})
    assert changed.status_code == 200
    assert changed.headers["etag"] != tag
    assert len(changed.json()["items"]) == len(r.json()["items"]) + 1


def test_the_cache_turned_off_answers_the_same_pages(
        tmp_path: Path, clock: SteppingClock) -> None:
    svc = Services(make_settings(str(tmp_path), list_cache_bytes=0), clock)
    try:
        seed_demo(svc, customers=10)
        assert svc.page_cache is None
        with TestClient(create_app(svc.settings, clock=clock, services=svc)) as c:
            before = _items(c)
            wo = svc.workorders.create(DISPATCHER, order_in())
            assert set(_items(c)) == set(before) | {wo.id}
    finally:
        svc.close()



def test_the_pages_kept_stay_within_list_cache_bytes(
        tmp_path: Path, clock: SteppingClock) -> None:
    svc = Services(make_settings(str(tmp_path), list_cache_bytes=100_000), clock)
    try:
        seed_demo(svc, customers=10)
        assert svc.page_cache is not None
        with TestClient(create_app(svc.settings, clock=clock, services=svc)) as c:
            sizes = [len(c.get(f"/api/v1/workorders?limit={n}", headers=DISPATCH).content)
                     for n in range(10, 30)]
        assert sum(sizes) > 100_000  # more than fits
        assert 0 < svc.page_cache.size_bytes <= 100_000
        assert svc.page_cache.evictions > 0
    finally:
        svc.close()


def test_a_token_revoked_by_another_process_is_refused_on_its_next_cached_page(
        client: TestClient[Litestar], first: Services, second: Services) -> None:
    """The list route reads the token and the list version in one statement; the page
    is kept, yet the token is checked again on every request (deny by default)."""
    issued = first.accounts.register_device("disp-wang", "spare console")
    mine = bearer(issued.token)
    assert _items(client, headers=mine) == _items(client, headers=mine)  # kept
    assert first.page_cache is not None
    hits = first.page_cache.hits
    second.accounts.revoke_device(OPERATOR, issued.device_id)
    r = client.get(LIST, headers=mine)
    assert r.status_code == 401
    assert first.page_cache.hits == hits  # refused before any page was looked up
    assert client.get(LIST, headers=DISPATCH).status_code == 200


def test_the_version_read_with_the_token_is_the_committed_one(
        first: Services, second: Services) -> None:
    """``authenticate_reading`` sees every committed write of the lists, whichever
    process made it, and nothing for a token that no longer authenticates."""
    read = first.accounts.authenticate_reading(TOKENS["dispatcher"], LIST_VERSION)
    assert read is not None
    principal, version = read
    assert principal == first.accounts.authenticate(TOKENS["dispatcher"])
    assert version == first.workorders.store.list_version()
    assert version is not None
    second.workorders.create(DISPATCHER, order_in())
    after = first.accounts.authenticate_reading(TOKENS["dispatcher"], LIST_VERSION)
    assert after is not None
    assert after[1] is not None
    assert after[1] > version
    assert first.accounts.authenticate_reading("wo_nope", LIST_VERSION) is None
    assert first.accounts.authenticate_reading(TOKENS["dispatcher"], "no-such-list") == (
        principal, None)


def test_the_read_awaited_on_the_loop_agrees_with_the_blocking_one(
        first: Services, second: Services) -> None:
    """Authentication awaits its read on the event loop (on PostgreSQL from the loop's own
    connections, ``server.loopreads``): the same principal and the committed version."""

    async def reads() -> tuple[object, object, object]:
        await open_loop_connections(first.db)
        try:
            before = await first.accounts.authenticate_reading_async(
                TOKENS["dispatcher"], LIST_VERSION)
            second.workorders.create(DISPATCHER, order_in())
            after = await first.accounts.authenticate_reading_async(
                TOKENS["dispatcher"], LIST_VERSION)
            refused = await first.accounts.authenticate_reading_async("wo_nope", LIST_VERSION)
        finally:
            await close_loop_connections(first.db)
        return before, after, refused

    blocking = first.accounts.authenticate_reading(TOKENS["dispatcher"], LIST_VERSION)
    before, after, refused = on_own_loop(reads)
    assert before == blocking
    assert after == first.accounts.authenticate_reading(TOKENS["dispatcher"], LIST_VERSION)
    assert after != before
    assert refused is None


def test_identical_reads_at_once_each_see_what_was_committed_before_them(
        first: Services, second: Services) -> None:
    """Many requests of one console at once may share one read of the token and version
    (``PgDatabase.fetch_keyed_async``), never one sent before they arrived: after a
    revocation in another process every later read refuses the token."""
    issued = first.accounts.register_device("disp-wang", "wall screen")

    async def burst() -> list[object]:
        return list(await asyncio.gather(*(
            first.accounts.authenticate_reading_async(issued.token, LIST_VERSION)
            for _ in range(40))))

    async def reads() -> tuple[list[object], list[object], list[object]]:
        await open_loop_connections(first.db)
        try:
            before = await burst()
            second.workorders.create(DISPATCHER, order_in())
            written = await burst()
            second.accounts.revoke_device(OPERATOR, issued.device_id)
            revoked = await burst()
        finally:
            await close_loop_connections(first.db)
        return before, written, revoked

    before, written, revoked = on_own_loop(reads)
    assert len(set(map(repr, before))) == 1
    assert before[0] is not None
    now = first.accounts.store.principal_and_list_version(
        hash_token(issued.token), LIST_VERSION)
    assert now is None
    assert all(r == written[0] for r in written)
    assert written[0] != before[0]
    assert revoked == [None] * 40


def test_many_tokens_at_once_share_a_read_and_each_gets_its_own_caller(
        first: Services, second: Services) -> None:
    """Tablets and consoles with tokens of their own, authenticating at once, share one
    statement on PostgreSQL (``PgDatabase.fetch_keyed_async``) and each gets its own
    principal, never another's; a token revoked in another process in between is
    refused on its next read, the others still pass, unknown tokens never."""
    users = ["disp-wang", "crew-a-zhang", "crew-b-liu"]
    issued = [first.accounts.register_device(users[i % 3], f"tablet {i}") for i in range(30)]
    tokens = [d.token for d in issued] + ["wo_not_a_token", TOKENS["dispatcher"]]

    async def burst() -> list[tuple[Principal, int | None] | None]:
        return list(await asyncio.gather(*(
            first.accounts.authenticate_reading_async(t, LIST_VERSION) for t in tokens)))

    async def reads() -> tuple[list[Any], list[Any], int]:
        await open_loop_connections(first.db)
        try:
            sent = getattr(first.db, "keyed_statements", 0)
            before = await burst()
            sent = getattr(first.db, "keyed_statements", 0) - sent
            second.accounts.revoke_device(OPERATOR, issued[7].device_id)
            after = await burst()
        finally:
            await close_loop_connections(first.db)
        return before, after, sent

    before, after, sent = on_own_loop(reads)
    version = first.workorders.store.list_version()
    for i, device in enumerate(issued):
        read = before[i]
        assert read is not None
        assert (read[0].device_id, read[0].user_id, read[1]) == (
            device.device_id, users[i % 3], version)
        assert after[i] is None if i == 7 else after[i] == read
    assert before[30] is None
    assert after[30] is None
    dispatcher = before[31]
    assert dispatcher is not None
    assert dispatcher[0].user_id == "disp-wang"
    if is_pg(first):
        assert 1 <= sent < len(tokens)  # shared: fewer statements than requests
