"""Sync over real HTTP: initial sync of a 10,000-row scope, steady-state pulls, push rate.

Builds a store whose crew-a scope holds ~10,000 rows (work orders and their customers),
starts ``waterops serve`` on 127.0.0.1 in a subprocess, and drives it with the reference
device client (``sync.client``) over httpx:

- initial sync: wall time and bytes on the wire, JSON and MessagePack responses;
- steady state: one dispatch change, then one pull: p50/p99 of the pull;
- push: 50 devices in threads, each pushing its outbox of notes in batches of 100.

The server runs as ``waterops serve`` does by default, with its background workers on.
Every figure is measured on SQLite and, when ``WATEROPS_BENCH_DATABASE_URL`` (or
``WATEROPS_TEST_DATABASE_URL``) names a PostgreSQL server, on PostgreSQL in the same run
(a fresh schema; metrics suffixed ``_postgresql``).
"""

from __future__ import annotations

import os
import random
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from pathlib import Path

import httpx

from bench._common import emit, parse_args, percentiles, table
from server.accounts.model import Role, User
from server.clock import SteppingClock, system_clock
from server.customers.model import Customer
from server.demo import seed_demo
from server.services import Services
from server.settings import Settings
from server.workorders.model import Actor, Point, WorkOrderIn, WorkOrderType
from sync.client import DeviceClient, HttpTransport, Replica
from sync.protocol import AddNote

NAME = "sync"
PUSH_DEVICES = 50


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def fresh_schema(base: str) -> str:
    """A URL on a new, empty schema of the PostgreSQL server ``base``."""
    import psycopg

    schema = f"bench_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(base, autocommit=True) as conn:
        conn.execute(f"CREATE SCHEMA {schema}")
    return f"{base}{'&' if '?' in base else '?'}options=-csearch_path%3D{schema}"


def build_store(data_dir: Path, orders: int, database_url: str | None = None
                ) -> tuple[list[str], list[str]]:
    """crew-a gets ``orders`` orders, each with its own customer: 2 x orders rows of scope."""
    clock = SteppingClock(datetime(2026, 11, 2, 0, 0, tzinfo=UTC))
    svc = Services(Settings(data_dir=str(data_dir), database_url=database_url), clock)
    seed_demo(svc, customers=50)
    rng = random.Random(42)
    svc.customers.import_customers(
        Customer(id=f"bench-c{i:06d}", account_no=f"88{i:08d}", name=f"客户{i}",
                 address=f"经十路{i}号", lon=117.0 + rng.uniform(-0.05, 0.05),
                 lat=36.65 + rng.uniform(-0.05, 0.05)) for i in range(orders))
    actor = Actor(user_id="disp-wang", role="dispatcher")
    ids: list[str] = []
    with svc.db.atomic():
        for i in range(orders):
            clock.advance(seconds=5)
            ids.append(svc.workorders.create(actor, WorkOrderIn(
                type=rng.choice([WorkOrderType.METER_REPLACEMENT, WorkOrderType.COMPLAINT]),
                location=Point((117.0 + rng.uniform(-0.05, 0.05),
                                36.65 + rng.uniform(-0.05, 0.05))),
                crew_id="crew-a", customer_id=f"bench-c{i:06d}", title=f"bench order {i}")).id)
    tokens = []
    for d in range(PUSH_DEVICES):
        crew = ("crew-a", "crew-b")[d % 2]
        svc.accounts.create_user(User(id=f"bench-u{d}", name=f"bench {d}",
                                      role=Role.CREW_MEMBER, crew_id=crew))
        token = f"wo_bench_{d}"
        svc.accounts.register_device(f"bench-u{d}", "bench", token=token)
        tokens.append(token)
    svc.close()
    return ids, tokens


def client(base: str, token: str, path: Path, *, msgpack: bool = False) -> DeviceClient:
    return DeviceClient(Replica(path, synchronous="NORMAL"),
                        HttpTransport(httpx.Client(base_url=base, timeout=60), token),
                        clock=system_clock, page_rows=2000, push_batch=100, msgpack=msgpack)


def initial_sync(base: str, token: str, path: Path, msgpack: bool) -> tuple[float, int, int]:
    dev = client(base, token, path, msgpack=msgpack)
    started = time.perf_counter()
    dev.pull()
    elapsed = time.perf_counter() - started
    rows = len(dev.replica.rows("work_order")) + len(dev.replica.rows("customer"))
    return elapsed, dev.bytes_received, rows


def steady_pulls(base: str, tmp: Path, rounds: int) -> list[float]:
    dev = client(base, "wo_demo_crew_b", tmp / "steady.db")
    dev.pull()
    office = httpx.Client(base_url=base, headers={"Authorization": "Bearer wo_demo_dispatcher"})
    samples = []
    for i in range(rounds):
        office.post("/api/v1/workorders", json={
            "type": "complaint", "crew_id": "crew-b", "title": f"steady {i}",
            "location": {"type": "Point", "coordinates": [117.0, 36.65]}}).raise_for_status()
        t0 = time.perf_counter()
        dev.pull()
        samples.append(time.perf_counter() - t0)
    return samples


def push_rate(base: str, tmp: Path, tokens: Sequence[str], per_device: int,
              wo_ids: Sequence[str]) -> tuple[float, int]:
    devices = [client(base, t, tmp / f"push-{i}.db") for i, t in enumerate(tokens)]
    for i, dev in enumerate(devices):
        dev.pull()
        own = list(dev.replica.rows("work_order")) or list(wo_ids)
        rng = random.Random(i)
        for _ in range(per_device):
            dev.record(AddNote(work_order_id=rng.choice(own), evidence_id=str(uuid.uuid4()),
                               text="检查阀门井"))
    started = time.perf_counter()
    with ThreadPoolExecutor(len(devices)) as pool:
        sent = sum(pool.map(lambda d: d.push(), devices))
    return sent / (time.perf_counter() - started), sent


def measure(tmp: Path, orders: int, rounds: int, per_device: int,
            database_url: str | None) -> dict[str, tuple[float, str, int]]:
    """Every figure on one store: name -> (value, unit, n)."""
    data_dir = tmp / "server"
    wo_ids, tokens = build_store(data_dir, orders, database_url)
    port = _free_port()
    env = {**os.environ, "WATEROPS_DATABASE_URL": database_url or ""}
    proc = subprocess.Popen(
        [sys.executable, "-m", "server.cli", "serve", "--data-dir", str(data_dir),
         "--port", str(port)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env)
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(300):
            try:
                httpx.get(base + "/api/v1/public/health", timeout=1)
                break
            except httpx.TransportError:
                time.sleep(0.1)
        initial_sync(base, "wo_demo_crew_a2", tmp / "warm.db", False)  # warm-up
        js_s, js_bytes, rows = initial_sync(base, "wo_demo_crew_a", tmp / "json.db", False)
        mp_s, mp_bytes, _ = initial_sync(base, "wo_demo_crew_a2", tmp / "mp.db", True)
        pulls = percentiles(steady_pulls(base, tmp, rounds))
        rate, pushed = push_rate(base, tmp, tokens, per_device, wo_ids)
    finally:
        proc.terminate()
        proc.wait(timeout=10)
    return {
        "initial_sync_json_s": (js_s, "s", rows),
        "initial_sync_json_bytes": (js_bytes, "B", rows),
        "initial_sync_msgpack_s": (mp_s, "s", rows),
        "initial_sync_msgpack_bytes": (mp_bytes, "B", rows),
        "initial_sync_rows_per_s": (rows / js_s, "1/s", rows),
        "steady_pull_p50_ms": (pulls[50] * 1000, "ms", rounds),
        "steady_pull_p99_ms": (pulls[99] * 1000, "ms", rounds),
        "push_mutations_per_s": (rate, "1/s", pushed),
    }


def main(argv: Sequence[str] | None = None) -> None:
    args = parse_args(__doc__ or NAME, argv)
    orders = 100 if args.quick else 5_000
    rounds = 10 if args.quick else 200
    per_device = 5 if args.quick else 200
    pg_base = (os.environ.get("WATEROPS_BENCH_DATABASE_URL")
               or os.environ.get("WATEROPS_TEST_DATABASE_URL"))
    stores: list[tuple[str, str | None]] = [("sqlite", None)]
    if pg_base:
        stores.append(("postgresql", fresh_schema(pg_base)))
    results: dict[str, dict[str, tuple[float, str, int]]] = {}
    for store, url in stores:
        with tempfile.TemporaryDirectory() as tmp_name:
            results[store] = measure(Path(tmp_name), orders, rounds, per_device, url)
        suffix = "" if store == "sqlite" else f"_{store}"
        for metric, (value, unit, n) in results[store].items():
            emit(NAME, metric + suffix, value, unit, n)
    names = list(results)
    rows_n = int(results["sqlite"]["initial_sync_json_s"][2])

    def cell(metric: str, fmt: str) -> str:
        return "  ".join(f"{store}: {fmt.format(results[store][metric][0])}" for store in names)

    table(f"sync over HTTP (serve with workers on), scope of {rows_n} rows", [
        ("initial sync, JSON", cell("initial_sync_json_s", "{:6.2f} s")),
        ("initial sync, MessagePack", cell("initial_sync_msgpack_s", "{:6.2f} s")),
        ("steady pull p50 (1 change)", cell("steady_pull_p50_ms", "{:6.2f} ms")),
        ("steady pull p99 (1 change)", cell("steady_pull_p99_ms", "{:6.2f} ms")),
        (f"push, {PUSH_DEVICES} devices", cell("push_mutations_per_s", "{:8.0f} mut/s")),
    ])


if __name__ == "__main__":
    main()
