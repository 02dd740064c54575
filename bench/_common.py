"""What every benchmark shares: argument parsing, percentiles, the JSON figure line."""

from __future__ import annotations

import argparse
import json
import math
import sqlite3
import sys
import time
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from typing import Any

import httpx


def parse_args(description: str, argv: Sequence[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--quick", action="store_true", help="small smoke size")
    parser.add_argument("--sizes", default=None,
                        help="comma-separated sizes of a scale curve (benchmarks that have one)")
    parser.add_argument("--stores", default="sqlite,postgresql",
                        help="which stores a per-store benchmark measures, comma-separated "
                             "(PostgreSQL only when a URL names a server)")
    return parser.parse_args(argv)


def sizes(args: argparse.Namespace, quick: Sequence[int], full: Sequence[int]) -> list[int]:
    """The sizes of a scale curve: ``--sizes``, else the quick or the full set."""
    if args.sizes:
        return [int(x.replace("_", "")) for x in str(args.sizes).split(",") if x.strip()]
    return list(quick if args.quick else full)


def bench_stores(args: argparse.Namespace) -> list[tuple[str, str | None]]:
    """The stores ``--stores`` names: ("sqlite", None), and ("postgresql", base URL) when
    ``WATEROPS_DATABASE_URL``, ``WATEROPS_BENCH_DATABASE_URL`` or
    ``WATEROPS_TEST_DATABASE_URL`` names a PostgreSQL server. The suite's smoke test asks
    for the store of its own pass, so a pass never measures the other store again."""
    import os

    wanted = {name.strip() for name in str(args.stores).split(",")}
    base = (os.environ.get("WATEROPS_DATABASE_URL")
            or os.environ.get("WATEROPS_BENCH_DATABASE_URL")
            or os.environ.get("WATEROPS_TEST_DATABASE_URL"))
    stores: list[tuple[str, str | None]] = [("sqlite", None)] if "sqlite" in wanted else []
    if base and base.startswith("postgresql") and "postgresql" in wanted:
        stores.append(("postgresql", base))
    return stores


def percentiles(samples: Sequence[float], ps: Sequence[float] = (50, 99)) -> dict[float, float]:
    """Nearest-rank percentiles of ``samples`` (empty input gives NaN)."""
    if not samples:
        return dict.fromkeys(ps, math.nan)
    ordered = sorted(samples)
    out = {}
    for p in ps:
        rank = max(1, math.ceil(p / 100 * len(ordered)))
        out[p] = ordered[rank - 1]
    return out


def raw_connection(database: str, *, autocommit: bool = True) -> Any:
    """A bare driver connection, the floors' way in: ``database`` is a PostgreSQL URL
    (psycopg) or a SQLite file path (sqlite3, usable from the thread that serves)."""
    if database.startswith("postgresql"):
        import psycopg  # only when PostgreSQL is measured

        return psycopg.connect(database, autocommit=autocommit)
    return sqlite3.connect(database, check_same_thread=False)


def best_of(run: Callable[[], object], repeat: int) -> float:
    """The shortest wall time of ``repeat`` calls of ``run`` (seconds)."""
    best = math.inf
    for _ in range(repeat):
        t0 = time.perf_counter()
        run()
        best = min(best, time.perf_counter() - t0)
    return best


def emit(bench: str, metric: str, value: float, unit: str, n: int) -> None:
    """One JSON line per figure on stdout, as the conventions require."""
    line = {"bench": bench, "metric": metric, "value": round(float(value), 4), "unit": unit,
            "n": int(n)}
    sys.stdout.write(json.dumps(line) + "\n")
    sys.stdout.flush()


def table(title: str, rows: Sequence[tuple[str, str]]) -> None:
    """A small human table: metric name and formatted value."""
    width = max((len(r[0]) for r in rows), default=10)
    sys.stdout.write(f"\n{title}\n{'-' * (width + 20)}\n")
    for name, value in rows:
        sys.stdout.write(f"{name:<{width}}  {value}\n")
    sys.stdout.flush()


def wait_settled(base: str, seconds: float = 600) -> None:
    """Wait until the served service's background jobs have caught up
    (``/api/v1/public/health``): the deadline scan, the crews' network scopes and the
    outbox have each run, and the outbox ran after the scan last finished (the messages
    the scan queued were sent) and left nothing to send.

    Why: a freshly started ``serve`` first catches up on the store a benchmark just built
    (the deadline scan's reminders and escalations for every order already overdue, the
    notices they queue, each field crew's network scope). That is real work, but done
    once; measured during it, a figure says how busy the start-up was, not what a tablet
    or a console meets on a server that has been up.
    """
    deadline = time.perf_counter() + seconds
    while time.perf_counter() < deadline:
        jobs = {j.get("name"): j for j in
                httpx.get(base + "/api/v1/public/health", timeout=30).json().get("workers", [])}
        outbox, scan = jobs.get("outbox", {}), jobs.get("deadlines", {})
        ran = all(jobs.get(name, {}).get("runs", 0) >= 1
                  for name in ("outbox", "deadlines", "network_scopes") if name in jobs)
        if ran and not outbox.get("backlog") and (
                not scan or not outbox
                or _when(outbox.get("last_run_at")) >= _when(scan.get("last_ok_at"))):
            return
        time.sleep(0.5)
    raise RuntimeError(f"{base}: the background jobs did not settle within {seconds} s")


def _when(text: object) -> datetime:
    """A job time of ``/health`` (ISO 8601), or the earliest instant when it has none."""
    return datetime.fromisoformat(str(text)) if text else datetime.min.replace(tzinfo=UTC)
