"""Every benchmark runs at its smoke size and prints well-formed figure lines."""

from __future__ import annotations

import importlib
import json
import os
import pkgutil
import subprocess
import sys
from pathlib import Path

import pytest

import bench
from tests.factories import PG_URL_ENV, sqlite_only

pytestmark = [pytest.mark.integration, pytest.mark.slow]

NAMES = sorted(m.name for m in pkgutil.iter_modules([str(Path(bench.__file__).parent)])
               if not m.name.startswith("_"))


# each pass of the suite measures its own store: the PostgreSQL pass does not measure
# SQLite again, nor rerun the benchmarks that measure no store at all
SUITE_STORE = "postgresql" if os.environ.get(PG_URL_ENV) else "sqlite"


def per_store(name: str) -> bool:
    """Whether the benchmark measures each store (``PER_STORE`` in its module)."""
    return bool(getattr(importlib.import_module(f"bench.{name}"), "PER_STORE", False))


def bench_schemas() -> set[str]:
    """The benchmarks' schemas on the suite's PostgreSQL server (none on SQLite)."""
    url = os.environ.get(PG_URL_ENV)
    if not url:
        return set()
    import psycopg

    with psycopg.connect(url, autocommit=True) as conn:
        return {str(r[0]) for r in conn.execute(
            "SELECT nspname FROM pg_namespace WHERE nspname LIKE 'bench\\_%'")}


def test_there_are_benchmarks() -> None:
    assert "workorders" in NAMES
    assert {"notices", "sync", "workorders"} <= {name for name in NAMES if per_store(name)}


@pytest.mark.parametrize("name", NAMES)
def test_quick_run_prints_json_figures(name: str) -> None:
    if SUITE_STORE != "sqlite" and not per_store(name):
        pytest.skip("measures no store: the SQLite pass runs it")
    before = bench_schemas()
    done = subprocess.run([sys.executable, "-m", f"bench.{name}", "--quick",
                           "--stores", SUITE_STORE],
                          capture_output=True, text=True, timeout=600, check=False)
    assert done.returncode == 0, done.stderr[-3000:]
    # a benchmark drops the PostgreSQL schemas it measured on (bench.sync.bench_store_url)
    assert bench_schemas() <= before
    figures = [json.loads(line) for line in done.stdout.splitlines() if line.startswith("{")]
    assert figures, done.stdout[-2000:]
    if per_store(name):
        on_postgresql = [f for f in figures if f["metric"].endswith("_postgresql")]
        assert bool(on_postgresql) == (SUITE_STORE == "postgresql"), done.stdout[-2000:]
    for figure in figures:
        assert set(figure) == {"bench", "metric", "value", "unit", "n"}
        assert figure["bench"] == name
        assert isinstance(figure["value"], int | float)
        assert figure["n"] > 0


@sqlite_only("measures no store: one pass is enough")
def test_segments_runs_without_wntr_and_says_the_peer_was_skipped() -> None:
    # importing a module set to None in sys.modules raises ImportError, as if not installed
    hide = ("import runpy, sys; sys.modules['wntr'] = None; "
            "runpy.run_module('bench.segments', run_name='__main__')")
    done = subprocess.run([sys.executable, "-c", hide, "--quick"],
                          capture_output=True, text=True, timeout=600, check=False)
    assert done.returncode == 0, done.stderr[-3000:]
    assert "skipped: wntr not installed" in done.stdout
    metrics = {json.loads(line)["metric"] for line in done.stdout.splitlines()
               if line.startswith("{")}
    assert "precompute_s" in metrics
    assert "speedup_vs_wntr" not in metrics
