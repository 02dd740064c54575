"""One outage notice to 100,000 customers, sent through apprise to a local SMS gateway.

Measures the two things a utility needs from the outbox: queueing a big notice (rows
written per second, one ``executemany``) and sending it (messages per second through the
``smsgw://`` apprise plugin to an HTTP gateway on 127.0.0.1 in its own process, with
the worker's bounded concurrency), plus the time from the first send to the last
delivery. The gateway counts the distinct outbox keys it saw, so the run also shows
that every customer got exactly one message.

The floor, measured in the same run against the same gateway: 16 threads, each with one
keep-alive ``http.client`` connection (the raw client), posting the same number of
messages and recording the outcomes one transaction per 1,000 in a table of the store
measured (a scratch SQLite file, or a temporary table on the same PostgreSQL server): what
a sender with no outbox, no apprise and no leases would cost. The gateway runs on
uvicorn's httptools parser, so it is not what either side waits for. Scale curve:
10,000 / 100,000 / 200,000 recipients
(``--quick``: 1,000 and 5,000; ``--sizes`` to choose); on SQLite and, with
``WATEROPS_BENCH_DATABASE_URL`` (or ``WATEROPS_TEST_DATABASE_URL``), on PostgreSQL
(metrics suffixed ``_postgresql``).
"""

from __future__ import annotations

import json
import multiprocessing
import random
import socket
import tempfile
import time
from collections.abc import Awaitable, Callable, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.request import urlopen

import uvicorn

from bench._common import bench_stores, emit, parse_args, sizes, table
from bench.sync import bench_store_url
from notifications import (
    AnnounceIn,
    AppriseChannel,
    ChannelConfig,
    NoticeRules,
    NoticeTexts,
    NotificationStore,
    OutageIn,
    OutageKind,
    OutageService,
    OutboxWorker,
    Recipient,
    WorkerConfig,
)
from server.clock import SteppingClock
from server.db import migrate, open_database, open_store
from server.settings import Settings

NAME = "notices"
# measured on each store --stores names (the suite's smoke test asks for its pass's)
PER_STORE = True
#: Monday 10:00 in Shanghai: outside quiet hours, so nothing is held
START = datetime(2026, 11, 23, 2, 0, tzinfo=UTC)


def _gateway_app() -> Callable[..., Awaitable[None]]:
    """The SMS gateway: counts the requests and the distinct outbox keys (``msg_id``)."""
    seen: set[str] = set()
    counts = {"requests": 0}

    async def app(scope: dict[str, Any], receive: Callable[[], Awaitable[dict[str, Any]]],
                  send: Callable[[dict[str, Any]], Awaitable[None]]) -> None:
        if scope["type"] != "http":
            return
        body = b""
        while True:
            message = await receive()
            body += message.get("body", b"")
            if not message.get("more_body"):
                break
        if scope["method"] == "POST":
            counts["requests"] += 1
            seen.add(str(json.loads(body)["msg_id"]))
            data = b'{"ok": true}'
        else:
            data = json.dumps({"requests": counts["requests"], "distinct": len(seen)}).encode()
        await send({"type": "http.response.start", "status": 200,
                    "headers": [(b"content-type", b"application/json"),
                                (b"content-length", str(len(data)).encode())]})
        await send({"type": "http.response.body", "body": data})

    return app


def _serve(port: int) -> None:
    """The gateway in its own process, on uvicorn's httptools parser and uvloop: about
    17,000 answers/s on the reference machine, so neither the project nor its floor is
    measured against a slow gateway (a ``ThreadingHTTPServer`` answered ~1,500/s)."""
    uvicorn.run(_gateway_app(), host="127.0.0.1", port=port, log_level="error",
                access_log=False, http="httptools", loop="uvloop", lifespan="off")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _wait_ready(port: int) -> None:
    for _ in range(200):
        try:
            with urlopen(f"http://127.0.0.1:{port}/count", timeout=1) as resp:
                resp.read()
                return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError("gateway did not start")


def customers(n: int, seed: int = 7) -> list[Recipient]:
    rng = random.Random(seed)
    compounds = [f"{name}小区" for name in ("阳光", "幸福", "绿景", "和平", "锦绣", "翠园")]
    streets = ["经十路", "文化路", "历山路", "解放路"]
    return [Recipient(customer_id=f"C{i:07d}", name=f"客户{i}",
                      phone=f"1{rng.randint(3, 9)}{rng.randint(0, 10**9 - 1):09d}",
                      channels=["sms"], address=f"{rng.choice(streets)}{i}号",
                      compound=rng.choice(compounds), street=rng.choice(streets))
            for i in range(n)]


class _Outcomes:
    """Where the floor records its outcomes: the store kind measured, so a PostgreSQL run's
    floor pays PostgreSQL's commits as the project's figure does (a SQLite file's commit
    is a fraction of a round trip's)."""

    def __init__(self, tmp: Path, database_url: str | None) -> None:
        self._pg = database_url is not None
        if database_url is not None:
            import psycopg

            self._conn: Any = psycopg.connect(database_url)
            self._conn.execute("CREATE TEMPORARY TABLE floor_outcomes "
                               "(id BIGINT PRIMARY KEY, ok INTEGER)")
            self._conn.commit()
            self._insert = "INSERT INTO floor_outcomes VALUES (%s, %s)"
        else:
            import sqlite3

            self._conn = sqlite3.connect(tmp / "floor.db", check_same_thread=False)
            self._conn.execute("CREATE TABLE floor_outcomes (id INTEGER PRIMARY KEY, ok INTEGER)")
            self._insert = "INSERT INTO floor_outcomes VALUES (?, ?)"

    def record(self, rows: list[tuple[int, int]]) -> None:
        """One transaction for ``rows``."""
        if self._pg:
            with self._conn.cursor() as cur:
                cur.executemany(self._insert, rows)
            self._conn.commit()
        else:
            with self._conn:
                self._conn.executemany(self._insert, rows)

    def close(self) -> None:
        self._conn.close()


def floor(n: int, port: int, database_url: str | None = None, connections: int = 16
          ) -> float:
    """Seconds for ``connections`` threads, each with one keep-alive ``http.client``
    connection (the raw client), to post ``n`` messages and record the outcomes one
    transaction per 1,000 (``_Outcomes``: a scratch SQLite file, or the PostgreSQL server
    of ``database_url``)."""
    import http.client
    import threading

    lock = threading.Lock()
    done: list[tuple[int, int]] = []
    with tempfile.TemporaryDirectory() as tmp:
        outcomes = _Outcomes(Path(tmp), database_url)

        def flush() -> None:
            outcomes.record(done)
            done.clear()

        def sender(start: int) -> None:
            http_conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
            for i in range(start, n, connections):
                body = json.dumps({"phone": "13800000000", "text": "floor",
                                   "msg_id": f"floor-{i}"}).encode()
                http_conn.request("POST", "/sms/send", body=body,
                                  headers={"Content-Type": "application/json"})
                resp = http_conn.getresponse()
                resp.read()
                with lock:
                    done.append((i, int(resp.status == 200)))
                    if len(done) >= 1000:
                        flush()
            http_conn.close()

        t0 = time.perf_counter()
        threads = [threading.Thread(target=sender, args=(k,)) for k in range(connections)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        with lock:
            if done:
                flush()
        elapsed = time.perf_counter() - t0
        outcomes.close()
    return elapsed


def run(n: int, concurrency: int, database_url: str | None = None) -> dict[str, float]:
    port = _free_port()
    gateway = multiprocessing.get_context("fork").Process(target=_serve, args=(port,),
                                                           daemon=True)
    gateway.start()
    try:
        _wait_ready(port)
        with tempfile.TemporaryDirectory() as tmp:
            db = (open_database(Path(tmp) / "bench.db") if database_url is None
                  else open_store(Settings(data_dir=tmp, database_url=database_url),
                                  SteppingClock(START)))
            migrate(db)
            clock = SteppingClock(START)
            store = NotificationStore(db)
            rules = NoticeRules()
            config = ChannelConfig(name="sms", url=f"smsgw://127.0.0.1:{port}/sms/send",
                                   rate_per_sec=0)
            service = OutageService(store, clock, rules, NoticeTexts(), {"sms"})
            people = customers(n)
            t0 = time.perf_counter()
            outage = service.create("bench", OutageIn(
                kind=OutageKind.PLANNED, cause="主干管改造", start_at=START + timedelta(hours=50),
                expected_restoration_at=START + timedelta(hours=58), recipients=people))
            t1 = time.perf_counter()
            service.announce("bench", "dispatcher", outage.id, AnnounceIn())
            t2 = time.perf_counter()
            worker = OutboxWorker(store, {"sms": AppriseChannel(config)}, clock, rules,
                                  WorkerConfig(batch_size=1000, concurrency=concurrency))
            t3 = time.perf_counter()
            summary = worker.drain()
            t4 = time.perf_counter()
            with urlopen(f"http://127.0.0.1:{port}/count", timeout=5) as resp:
                counted = json.loads(resp.read())
            db.close()
        floor_s = floor(n, port, database_url)
    finally:
        gateway.terminate()
        gateway.join()
    return {"create_s": t1 - t0, "queue_s": t2 - t1, "send_s": t4 - t3,
            "sent": summary.sent, "gateway_requests": counted["requests"],
            "gateway_distinct": counted["distinct"], "floor_s": floor_s}


def main(argv: Sequence[str] | None = None) -> None:
    args = parse_args(__doc__ or NAME, argv)
    concurrency = WorkerConfig().concurrency
    rows: list[tuple[str, str]] = [("worker concurrency", f"{concurrency}"),
                                   ("floor", "16 raw keep-alive http.client senders, "
                                             "1 transaction / 1,000 in the store measured")]
    for store, base_url in bench_stores(args):
        suffix = "" if store == "sqlite" else f"_{store}"
        for n in sizes(args, (1_000, 5_000), (10_000, 100_000, 200_000)):
            with bench_store_url(base_url) as url:
                r = run(n, concurrency, url)
            ratio = r["send_s"] / r["floor_s"] if r["floor_s"] else float("inf")
            rows += [
                (f"[{store}, {n:,}] store outage + recipients", f"{r['create_s']:.2f} s"),
                ("  queue notice (outbox rows)",
                 f"{r['queue_s']:.2f} s  ({n / r['queue_s']:.0f} rows/s)"),
                ("  send all (smsgw -> gateway)",
                 f"{r['send_s']:.2f} s  ({r['sent'] / r['send_s']:.0f} msg/s)  floor "
                 f"{r['floor_s']:.2f} s  x{ratio:.2f}"),
                ("  gateway requests / distinct",
                 f"{r['gateway_requests']:.0f} / {r['gateway_distinct']:.0f}"),
            ]
            emit(NAME, "queue_rows_per_s" + suffix, n / r["queue_s"], "1/s", n)
            emit(NAME, "queue_s" + suffix, r["queue_s"], "s", n)
            emit(NAME, "send_msgs_per_s" + suffix, r["sent"] / r["send_s"], "1/s", n)
            emit(NAME, "time_to_last_delivery_s" + suffix, r["send_s"], "s", n)
            emit(NAME, "floor_s" + suffix, r["floor_s"], "s", n)
            emit(NAME, "vs_floor" + suffix, ratio, "x", n)
            emit(NAME, "duplicates_at_gateway" + suffix,
                 r["gateway_requests"] - r["gateway_distinct"], "1", n)
    table(f"bench.{NAME}: one notice to many customers", rows)


if __name__ == "__main__":
    main()
