"""Request handlers run in at most ``http_threads`` threads at once.

Each handler thread keeps one store connection; litestar runs sync handlers in the event
loop's default executor, min(32, cores + 4) threads, more than a PostgreSQL pool of 20 on
a big machine, so a burst made threads wait for a connection until the pool's timeout
and answer 500. The bound is checked with a handler of the test's own that
waits until more handlers than the bound run beside it (or half a second passes).
"""

from __future__ import annotations

import threading
from pathlib import Path

import httpx
import pytest
from litestar import get

from server.app import create_app
from server.settings import BACKGROUND_CONNECTIONS, Settings, SettingsError, load_settings
from tests.e2e.servers import serving_in_process
from tests.factories import bearer, make_clock, make_services

pytestmark = pytest.mark.integration

BOUND = 3
REQUESTS = 12


class Running:
    """How many test handlers run at once, and the most seen."""

    def __init__(self) -> None:
        self.now = 0
        self.peak = 0
        self.lock = threading.Lock()
        self.over = threading.Event()

    def enter(self) -> None:
        with self.lock:
            self.now += 1
            self.peak = max(self.peak, self.now)
            if self.now > BOUND:
                self.over.set()

    def leave(self) -> None:
        with self.lock:
            self.now -= 1


def test_no_more_handlers_run_at_once_than_http_threads(tmp_path: Path) -> None:
    running = Running()

    @get("/test/occupy", opt={"policy": "account.me"}, sync_to_thread=False)
    def occupy() -> dict[str, int]:
        running.enter()
        try:
            # a handler beyond the bound ends every wait at once; within it, each waits a
            # little so that the requests in flight overlap
            running.over.wait(0.5)
            return {"peak": running.peak}
        finally:
            running.leave()

    clock = make_clock()
    svc = make_services(str(tmp_path), clock, http_threads=BOUND)
    try:
        app = create_app(svc.settings, clock=clock, services=svc, extra_handlers=[occupy])
        statuses: list[int] = []
        with serving_in_process(app) as base:
            def call() -> None:
                with httpx.Client(base_url=base, timeout=60,
                                  headers=bearer("wo_demo_dispatcher")) as c:
                    statuses.append(c.get("/api/v1/test/occupy").status_code)

            threads = [threading.Thread(target=call) for _ in range(REQUESTS)]
            for t in threads:
                t.start()
            for t in threads:
                t.join()
    finally:
        svc.close()
    assert statuses == [200] * REQUESTS
    assert 1 <= running.peak <= BOUND


def test_a_postgresql_pool_smaller_than_the_threads_it_serves_is_refused() -> None:
    url = "postgresql://waterops@db/waterops"
    need = 16 + BACKGROUND_CONNECTIONS
    with pytest.raises(SettingsError, match=rf"database_pool_size={need - 1} .*at least {need}"):
        load_settings({"WATEROPS_DATABASE_URL": url, "WATEROPS_HTTP_THREADS": "16",
                       "WATEROPS_DATABASE_POOL_SIZE": str(need - 1)})
    assert load_settings({"WATEROPS_DATABASE_URL": url, "WATEROPS_HTTP_THREADS": "16",
                          "WATEROPS_DATABASE_POOL_SIZE": str(need)}).database_pool_size == need
    # SQLite has no pool: each thread opens the file
    assert Settings(http_threads=64, database_pool_size=1).http_threads == 64
