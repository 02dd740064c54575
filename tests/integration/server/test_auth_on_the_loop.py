"""Authentication on every route awaits its store read on the event loop (issue 19,
``server.guards``, ``server.loopreads``): a request whose token or console session is
being read never holds up the process's other requests, and the read is made anew on
every request, so a token revoked by another process is refused on its next one.

A real server (uvicorn in this process, ``tests.e2e.servers.serving_in_process``) on a
real store; two ``Services`` on one store stand for two server processes. The waiting
test needs PostgreSQL's table locks; the revocation tests run on both stores.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack, contextmanager

import httpx
import psycopg
import pytest

from server.app import create_app
from server.cli.common import OPERATOR
from server.clock import SteppingClock
from server.services import Services
from server.workorders.model import Actor
from tests.e2e.servers import serving_in_process
from tests.factories import TOKENS, bearer, order_in, postgresql_only

pytestmark = pytest.mark.integration

#: a route that needs the caller and nothing else (no list version: not ``LIST_VERSION_OPT``)
ME = "/api/v1/users/me"
#: a list route (``LIST_VERSION_OPT``): its kept pages are checked against the list version
LIST = "/api/v1/workorders?limit=500"
DISPATCHER = Actor(user_id="disp-wang", role="dispatcher")
#: how long a request may take to be answered (a bound, never a timing assertion)
PATIENCE_S = 60.0


@pytest.fixture
def base(first: Services, clock: SteppingClock) -> Iterator[str]:
    with serving_in_process(create_app(first.settings, clock=clock, services=first)) as url:
        yield url


@contextmanager
def _signed_in(base: str, token: str) -> Iterator[tuple[httpx.Client, str]]:
    """A client holding a console session opened with ``token``, and its CSRF token."""
    with httpx.Client(base_url=base, timeout=PATIENCE_S) as http:
        r = http.post("/api/v1/public/session", json={"token": token})
        assert r.status_code == 200, r.text
        yield http, str(r.json()["csrf_token"])


def _waiting_on_devices(watcher: psycopg.Connection[tuple[object, ...]]) -> bool:
    row = watcher.execute("SELECT count(*) FROM pg_locks WHERE NOT granted "
                          "AND relation = 'devices'::regclass").fetchone()
    return row is not None and int(str(row[0])) > 0


@postgresql_only("a table lock holds the authentication read")
@pytest.mark.parametrize("how", ["token", "session"])
def test_a_request_waiting_for_its_authentication_holds_up_no_other(
        base: str, first: Services, how: str) -> None:
    """Another connection locks ``devices``: a request on a non-list route waits for its
    token (or session) read, and meanwhile the same server answers ``/health``, which
    reads no device. Once the lock goes, the waiting request gets its answer."""
    url = first.settings.database_url
    assert url is not None
    with ExitStack() as stack:
        if how == "token":
            http = stack.enter_context(httpx.Client(base_url=base, timeout=PATIENCE_S,
                                                    headers=bearer(TOKENS["dispatcher"])))
        else:
            http, _csrf = stack.enter_context(_signed_in(base, TOKENS["dispatcher"]))
        # the pool first, so that on the way out the lock goes before the pool joins
        pool = stack.enter_context(ThreadPoolExecutor(max_workers=1))
        locker = stack.enter_context(psycopg.connect(url))
        watcher = stack.enter_context(psycopg.connect(url, autocommit=True))
        locker.execute("LOCK TABLE devices IN ACCESS EXCLUSIVE MODE")  # until the rollback
        waiting = pool.submit(http.get, ME)
        pause = threading.Event()
        for _ in range(2400):  # bounded: the server's read shows in pg_locks once it waits
            if _waiting_on_devices(watcher) or waiting.done():
                break
            pause.wait(0.025)
        assert _waiting_on_devices(watcher), "the request did not wait for the lock"
        health = httpx.get(base + "/api/v1/public/health", timeout=PATIENCE_S)
        assert health.status_code == 200, health.text
        assert not waiting.done()  # still waiting for the lock, which is still held
        locker.rollback()
        me = waiting.result()
    assert me.status_code == 200, me.text
    assert me.json()["user_id"] == "disp-wang"


def test_a_token_revoked_by_another_process_is_refused_on_its_next_request(
        base: str, first: Services, second: Services) -> None:
    """On a route with no list (the token read alone) and through a console session
    opened with that token: both refused once another process revoked it."""
    issued = first.accounts.register_device("disp-wang", "spare console")
    with httpx.Client(base_url=base, timeout=PATIENCE_S, headers=bearer(issued.token)
                      ) as token, _signed_in(base, issued.token) as (session, csrf):
        assert token.get(ME).json()["device_id"] == issued.device_id
        assert session.get(ME).json()["user_id"] == "disp-wang"
        assert session.get("/api/v1/console/session").json()["csrf_token"] == csrf
        second.accounts.revoke_device(OPERATOR, issued.device_id)
        assert token.get(ME).status_code == 401
        assert session.get(ME).status_code == 401
        assert session.get("/api/v1/console/session").status_code == 401
        assert session.get(LIST).status_code == 401
    assert httpx.get(base + ME, headers=bearer(TOKENS["dispatcher"]),
                     timeout=PATIENCE_S).status_code == 200


def test_a_console_session_reads_the_committed_list_version(
        base: str, first: Services, second: Services) -> None:
    """A list page asked for with the session cookie is never one a committed change of
    another process made stale: the session's read carries the list version."""
    with _signed_in(base, TOKENS["dispatcher"]) as (session, _csrf):
        before = session.get(LIST)
        assert before.status_code == 200, before.text
        assert session.get(LIST).content == before.content  # kept
        assert first.page_cache is not None
        assert first.page_cache.hits >= 1
        made = second.workorders.create(DISPATCHER, order_in(crew_id=None))
        after = session.get(LIST)
        assert after.status_code == 200, after.text
        assert made.id in {w["id"] for w in after.json()["items"]}
