"""Sync over real HTTP beside its floors: initial sync rows/s and push mutations/s.

Issue 19. One store holds a crew scope of each size (1k / 10k / 50k rows: orders and
their customers, plus the demo network near them) and a push crew; ``waterops serve``
runs it on 127.0.0.1 in a subprocess, as by default with its background workers on.

- **Initial sync** of each scope by the reference client (``sync.client``: the snapshot
  in one request, a checkpoint the next pull continues from; rows stored in a fresh
  replica), in MessagePack and JSON. Its **floor**, measured in the same run on the same scope, is
  the sum of what cannot be avoided: the raw SQL read of the scope's columns, encoding
  those rows, the same response bytes over loopback from a bare Litestar route
  (``bench._floor``) and storing the rows in a replica. Loopback carries no compression
  (``Accept-Encoding: identity``): on 127.0.0.1 it only costs CPU; tablets on a cellular
  link negotiate brotli or gzip. The sync and each part of its floor are each the
  shortest of ``rounds_for(size)`` rounds (one with ``--quick``), a round running the
  sync and then each floor part, so the ratio compares like with like rather than two
  draws of this machine's drifting speed.
- **Push**: 50 devices, each sending its outbox of notes in batches of 100, from
  several client processes (threads inside each), so the load generator is not the
  bottleneck. Its **floor** is the same pushes applied in-process, one transaction per
  push request, with no HTTP.
- **Steady pull**: one dispatch change, then one pull: p50/p99.

Each figure is printed as a JSON line beside its floor and the ratio figure/floor. Every
figure is measured on SQLite and, when ``WATEROPS_DATABASE_URL`` (or
``WATEROPS_BENCH_DATABASE_URL``, ``WATEROPS_TEST_DATABASE_URL``) names a PostgreSQL
server, on PostgreSQL in the same run (a fresh schema; metrics suffixed ``_postgresql``).
"""

from __future__ import annotations

import math
import multiprocessing
import os
import random
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import msgspec

from bench._common import (
    bench_stores,
    emit,
    parse_args,
    percentiles,
    sizes,
    table,
    wait_settled,
)
from bench._load import floor_server, free_port, wait_ready
from server.accounts.model import Crew, Principal, Role, User
from server.clock import SteppingClock, system_clock
from server.customers.model import Customer
from server.db import open_store
from server.demo import seed_demo
from server.services import Services
from server.settings import Settings
from server.workorders.model import Actor, Point, WorkOrderIn, WorkOrderType
from sync.client import DeviceClient, HttpTransport, Replica
from sync.client.replica import RawPage
from sync.protocol import AddNote, Mutation, PushRequest

NAME = "sync"
# measured on each store --stores names (the suite's smoke test asks for its pass's)
PER_STORE = True
SIZES = (1_000, 10_000, 50_000)
QUICK_SIZES = (1_000,)
PUSH_DEVICES = 50
PUSH_PROCESSES = 4
PUSH_CREW = "bench-push"
PUSH_ORDERS = 200
NO_COMPRESSION = {"Accept-Encoding": "identity"}
#: rounds of an initial sync beside its floor; the shortest of each is kept: on a shared
#: 2-core machine one run of either is up to a third off, either way
REPEAT = 5
#: a small scope gets more rounds, up to this many rows synced per side in all: a 1k-row
#: sync lasts 25-40 ms, so one worker tick or collection in the server moves a round by
#: a third, and five rounds often kept none without one
ROUND_ROWS = 20_000


def rounds_for(size: int, repeat: int = REPEAT) -> int:
    """Rounds of the ``size`` scope: ``repeat``, more for a scope small enough to afford
    them (``ROUND_ROWS``), at most 25."""
    return max(repeat, min(25, ROUND_ROWS // max(size, 1)))
Figures = dict[str, tuple[float, str, int]]


@contextmanager
def bench_store_url(base: str | None) -> Iterator[str | None]:
    """The store a measurement runs on: None (a SQLite file in the run's folder) when
    ``base`` is None, else a URL on a new, empty schema of the PostgreSQL server ``base``,
    dropped when the measurement ends (a 100k-order schema holds hundreds of MB)."""
    if base is None:
        yield None
        return
    import psycopg  # only when PostgreSQL is measured
    import psycopg.sql

    schema = psycopg.sql.Identifier(f"bench_{uuid.uuid4().hex[:12]}")
    with psycopg.connect(base, autocommit=True) as conn:
        conn.execute(psycopg.sql.SQL("CREATE SCHEMA {}").format(schema))
    try:
        yield f"{base}{'&' if '?' in base else '?'}options=-csearch_path%3D{schema.as_string()}"
    finally:
        with psycopg.connect(base, autocommit=True) as conn:
            conn.execute(psycopg.sql.SQL("DROP SCHEMA IF EXISTS {} CASCADE").format(schema))


def scope_crew(size: int) -> str:
    return f"bench-{size}"


def scope_token(size: int) -> str:
    return f"wo_bench_scope_{size}"


def _device(svc: Services, user_id: str, crew: str, token: str) -> None:
    svc.accounts.create_user(User(id=user_id, name=user_id, role=Role.CREW_MEMBER,
                                  crew_id=crew))
    svc.accounts.register_device(user_id, "bench", token=token)


def build_store(data_dir: Path, sizes: Sequence[int], database_url: str | None
                ) -> tuple[list[str], list[str], list[str]]:
    """A scope crew per size (size/2 orders, each with its own customer) and a push crew.

    Returns the push crew's order ids, the tokens pushing over HTTP and those pushing
    in-process for the floor.
    """
    clock = SteppingClock(datetime(2026, 11, 2, 0, 0, tzinfo=UTC))
    svc = Services(Settings(data_dir=str(data_dir), database_url=database_url), clock)
    seed_demo(svc, customers=50)
    rng = random.Random(42)
    actor = Actor(user_id="disp-wang", role="dispatcher")
    for size in (*sizes, PUSH_ORDERS * 2):
        crew = scope_crew(size) if size in sizes else PUSH_CREW
        svc.accounts.create_crew(Crew(id=crew, name=crew))
        orders = size // 2
        svc.customers.import_customers(
            Customer(id=f"{crew}-c{i:06d}", account_no=f"{size:02d}{i:08d}", name=f"客户{i}",
                     address=f"经十路{i}号", lon=117.0 + rng.uniform(-0.05, 0.05),
                     lat=36.65 + rng.uniform(-0.05, 0.05)) for i in range(orders))
        ids = svc.workorders.create_many(actor, [WorkOrderIn(
            type=rng.choice([WorkOrderType.METER_REPLACEMENT, WorkOrderType.COMPLAINT]),
            location=Point((117.0 + rng.uniform(-0.05, 0.05),
                            36.65 + rng.uniform(-0.05, 0.05))),
            crew_id=crew, customer_id=f"{crew}-c{i:06d}", title=f"bench order {i}")
            for i in range(orders)]).ids
        if size in sizes:
            _device(svc, f"bench-scope-{size}", crew, scope_token(size))
        else:
            push_orders = ids
    http_tokens: list[str] = []
    floor_tokens: list[str] = []
    for d in range(2 * PUSH_DEVICES):
        token = f"wo_bench_push_{d}"
        _device(svc, f"bench-push-{d}", PUSH_CREW, token)
        (http_tokens if d < PUSH_DEVICES else floor_tokens).append(token)
    svc.close()
    return push_orders, http_tokens, floor_tokens


def client(base: str, token: str, path: Path, *, msgpack: bool) -> DeviceClient:
    http = httpx.Client(base_url=base, timeout=120, headers=NO_COMPRESSION)
    return DeviceClient(Replica(path, synchronous="NORMAL"), HttpTransport(http, token),
                        clock=system_clock, page_rows=2000, push_batch=100, msgpack=msgpack)


def initial_sync(base: str, token: str, path: Path, msgpack: bool) -> tuple[float, int]:
    """Wall time of one first sync (the snapshot, replica written) into
    a fresh replica at ``path``; rows."""
    dev = client(base, token, path, msgpack=msgpack)
    started = time.perf_counter()
    dev.pull()
    elapsed = time.perf_counter() - started
    rows = int(dev.replica.db.execute("SELECT COUNT(*) FROM rows").fetchone()[0])
    dev.replica.close()
    return elapsed, rows


def timed(run: Callable[[], object]) -> float:
    t0 = time.perf_counter()
    run()
    return time.perf_counter() - t0


def store_seconds(path: Path, body: bytes, decode: Callable[..., Any]) -> float:
    """Time to decode a snapshot's ``body`` and store its rows in a fresh replica."""
    replica = Replica(path, synchronous="NORMAL")
    t0 = time.perf_counter()
    page = decode(body, type=RawPage)
    replica.apply_page(page.upserts, page.removals, page.cursor, page.checkpoint)
    elapsed = time.perf_counter() - t0
    replica.close()
    return elapsed


def sync_beside_floor(base: str, token: str, settings: Settings, size: int, tmp: Path,
                      msgpack: bool, repeat: int) -> tuple[float, float, int]:
    """``(initial sync s, floor s, rows)``: the shortest of ``repeat`` rounds for the sync
    and for each part of its floor (raw SQL read of the scope, encoding it, its bytes
    over loopback from a bare route, storing them in a replica).

    Each round runs the sync and then every floor part, so both sides sample the same
    moments of a machine whose speed drifts by a third between seconds; the kept
    minimum of each is then compared.
    """
    name = "msgpack" if msgpack else "json"
    content_type = f"application/{name}"
    body = httpx.post(f"{base}/api/v1/sync/snapshot", json={}, timeout=120,
                      headers={"Authorization": f"Bearer {token}", "Accept": content_type,
                               **NO_COMPRESSION}).content
    db = open_store(settings, system_clock)
    crew = scope_crew(size)
    read: list[list[Any]] = []

    def read_scope() -> None:
        orders = db.execute("SELECT * FROM work_orders WHERE crew_id = ?", [crew]).fetchall()
        customers = db.execute(
            "SELECT c.* FROM customers c WHERE c.id IN (SELECT customer_id FROM work_orders "
            "WHERE crew_id = ?)", [crew]).fetchall()
        read[:] = [list(r) for r in orders] + [list(r) for r in customers]

    encode = msgspec.msgpack.encode if msgpack else msgspec.json.encode
    decode = msgspec.msgpack.decode if msgpack else msgspec.json.decode
    best, parts, rows = math.inf, [math.inf] * 4, 0
    try:
        with floor_server(body, content_type) as floor:
            http = httpx.Client(base_url=floor, timeout=120, headers=NO_COMPRESSION)
            http.get("/warm")
            for i in range(repeat):
                secs, rows = initial_sync(base, token, tmp / f"init-{size}-{name}-{i}.db",
                                          msgpack)
                best = min(best, secs)
                t0 = time.perf_counter()
                got = http.get("/api/v1/sync/snapshot").content
                loopback_s = time.perf_counter() - t0
                took = (timed(read_scope), timed(lambda: encode(read)), loopback_s,
                        store_seconds(tmp / f"floor-{size}-{name}-{i}.db", got, decode))
                parts = [min(p, t) for p, t in zip(parts, took, strict=True)]
    finally:
        db.close()
    return best, sum(parts), rows


def steady_pulls(base: str, tmp: Path, rounds: int) -> list[float]:
    dev = client(base, "wo_demo_crew_b", tmp / "steady.db", msgpack=True)
    dev.pull()
    office = httpx.Client(base_url=base, timeout=120,
                          headers={"Authorization": "Bearer wo_demo_dispatcher"})
    samples = []
    for i in range(rounds):
        office.post("/api/v1/workorders", json={
            "type": "complaint", "crew_id": "crew-b", "title": f"steady {i}",
            "location": {"type": "Point", "coordinates": [117.0, 36.65]}}).raise_for_status()
        t0 = time.perf_counter()
        dev.pull()
        samples.append(time.perf_counter() - t0)
    return samples


def _notes(wo_ids: Sequence[str], per_device: int, seed: int) -> list[AddNote]:
    rng = random.Random(seed)
    return [AddNote(work_order_id=rng.choice(wo_ids), evidence_id=str(uuid.uuid4()),
                    text="检查阀门井") for _ in range(per_device)]


def push_worker(base: str, tokens: Sequence[str], first: int, wo_ids: Sequence[str],
                per_device: int, tmp: str, ready: Any, results: Any) -> None:
    """One client process: its devices' outboxes, then (after the barrier) their pushes."""
    devices = []
    for k, token in enumerate(tokens):
        dev = client(base, token, Path(tmp) / f"push-{first + k}.db", msgpack=True)
        for note in _notes(wo_ids, per_device, first + k):
            dev.record(note)
        devices.append(dev)
    sent = [0] * len(devices)

    def run(k: int) -> None:
        sent[k] = devices[k].push()

    threads = [threading.Thread(target=run, args=(k,)) for k in range(len(devices))]
    ready.wait()
    started = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    results.put((started, time.perf_counter(), sum(sent)))


def push_rate(base: str, tmp: Path, tokens: Sequence[str], per_device: int,
              wo_ids: Sequence[str]) -> tuple[float, int]:
    """Mutations/s of ``tokens`` pushing at once from ``PUSH_PROCESSES`` processes."""
    ctx = multiprocessing.get_context("spawn")
    ready = ctx.Barrier(PUSH_PROCESSES + 1)
    results = ctx.Queue()
    share = -(-len(tokens) // PUSH_PROCESSES)
    procs = [ctx.Process(target=push_worker, args=(
        base, tokens[i:i + share], i, list(wo_ids), per_device, str(tmp), ready, results))
        for i in range(0, len(tokens), share)]
    for p in procs:
        p.start()
    ready.wait()
    done = [results.get(timeout=900) for _ in procs]
    for p in procs:
        p.join()
    sent = sum(d[2] for d in done)
    return sent / (max(d[1] for d in done) - min(d[0] for d in done)), sent


def push_floor(settings: Settings, tokens: Sequence[str], per_device: int,
               wo_ids: Sequence[str]) -> float:
    """The same pushes in-process: one transaction per push request of 100, no HTTP."""
    svc = Services(settings, system_clock)
    now = system_clock()
    requests: list[tuple[Principal, PushRequest]] = []
    for k, token in enumerate(tokens):
        principal = svc.accounts.authenticate(token)
        if principal is None:
            raise RuntimeError(f"bench device {token} unknown")
        notes = _notes(wo_ids, per_device, 10_000 + k)
        muts = [Mutation(id=i + 1, device_time=now, intent=n) for i, n in enumerate(notes)]
        requests.extend((principal, PushRequest(mutations=muts[s:s + 100], device_time=now))
                        for s in range(0, len(muts), 100))
    started = time.perf_counter()
    for principal, req in requests:
        svc.sync.push(principal, req)
    elapsed = time.perf_counter() - started
    svc.close()
    return len(tokens) * per_device / elapsed


class _Figures(dict[str, tuple[float, str, int]]):
    """Figures of one store, each printed as its JSON line the moment it is measured."""

    def __init__(self, suffix: str) -> None:
        super().__init__()
        self.suffix = suffix

    def __setitem__(self, key: str, value: tuple[float, str, int]) -> None:
        super().__setitem__(key, value)
        emit(NAME, key.split("@")[0] + self.suffix, *value)


def measure(tmp: Path, sizes: Sequence[int], rounds: int, per_device: int,
            database_url: str | None, suffix: str = "", repeat: int = REPEAT) -> Figures:
    """Every figure on one store: name -> (value, unit, n)."""
    data_dir = tmp / "server"
    wo_ids, http_tokens, floor_tokens = build_store(data_dir, sizes, database_url)
    settings = Settings(data_dir=str(data_dir), database_url=database_url)
    port = free_port()
    env = {**os.environ, "WATEROPS_DATABASE_URL": database_url or ""}
    proc = subprocess.Popen(
        [sys.executable, "-m", "server.cli", "serve", "--data-dir", str(data_dir),
         "--port", str(port)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env)
    base = f"http://127.0.0.1:{port}"
    out = _Figures(suffix)
    try:
        wait_ready(base + "/api/v1/public/health", proc)
        wait_settled(base)  # a server that has been up, past its start-up catch-up
        initial_sync(base, scope_token(sizes[0]), tmp / "warm.db", True)  # warm-up
        for size in sizes:
            for fmt, packed in (("msgpack", True), ("json", False)):
                secs, floor, rows = sync_beside_floor(
                    base, scope_token(size), settings, size, tmp, packed,
                    repeat if repeat == 1 else rounds_for(size, repeat))
                out[f"initial_sync_{fmt}_s@{size}"] = (secs, "s", rows)
                out[f"initial_sync_{fmt}_rows_per_s@{size}"] = (rows / secs, "1/s", rows)
                out[f"initial_sync_{fmt}_floor_s@{size}"] = (floor, "s", rows)
                out[f"initial_sync_{fmt}_vs_floor@{size}"] = (secs / floor, "x", rows)
        pulls = percentiles(steady_pulls(base, tmp, rounds))
        out["steady_pull_p50_ms@1"] = (pulls[50] * 1000, "ms", rounds)
        out["steady_pull_p99_ms@1"] = (pulls[99] * 1000, "ms", rounds)
        rate, pushed = push_rate(base, tmp, http_tokens, per_device, wo_ids)
    finally:
        proc.terminate()
        proc.wait(timeout=30)
    floor_rate = push_floor(settings, floor_tokens, per_device, wo_ids)
    out["push_mutations_per_s@50"] = (rate, "1/s", pushed)
    out["push_floor_mutations_per_s@50"] = (floor_rate, "1/s", pushed)
    out["push_vs_floor@50"] = (rate / floor_rate, "x", pushed)
    return out


def main(argv: Sequence[str] | None = None) -> None:
    args = parse_args(__doc__ or "sync", argv)
    scope_sizes = sizes(args, QUICK_SIZES, SIZES)
    rounds = 10 if args.quick else 200
    per_device = 5 if args.quick else 200
    repeat = 1 if args.quick else REPEAT
    results: dict[str, Figures] = {}
    for store, base in bench_stores(args):
        suffix = "" if store == "sqlite" else f"_{store}"
        with tempfile.TemporaryDirectory() as tmp_name, bench_store_url(base) as url:
            results[store] = measure(Path(tmp_name), scope_sizes, rounds, per_device, url,
                                    suffix, repeat)
    rows: list[tuple[str, str]] = []
    for key in next(iter(results.values()), {}):
        cells = []
        for store, figures in results.items():
            value, unit, n = figures[key]
            cells.append(f"{store}: {value:10.3f} {unit} (n={n})")
        rows.append((key, "  ".join(cells)))
    table("sync over HTTP (serve with workers on) beside its floors", rows)


if __name__ == "__main__":
    main()
