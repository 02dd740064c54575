"""Valve segments and isolation on a synthetic city: precompute, query latency, area, vs WNTR.

``python -m bench.segments [--quick]``. Full size: 100,000 pipes and 500,000 customers.
Figures: import (validate + write + change log), load+precompute from SQLite, precompute
alone, isolation query latency p50/p99 (in memory, and through the service with the plan
stored), area polygon time, and WNTR's ``valve_segments`` against ours on one network of
a size WNTR can finish.
"""

from __future__ import annotations

import random
import tempfile
import time
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path

from bench._city import synthetic_city
from bench._common import emit, parse_args, percentiles, table
from geo.crs import Projectors
from geo.index_cache import read_index, write_index
from geo.isolation import compute_plan, to_plan
from geo.model import IsolationRequest
from geo.network import build_index, network_projector
from geo.service import NetworkService
from geo.store import GeoStore
from server.clock import SteppingClock
from server.db import migrate, open_database

BENCH = "segments"


def _wntr_vs_ours(n_pipes: int, rows: list[tuple[str, str]]) -> None:
    """WNTR side by side when it is installed (the bench extra); else the peer is skipped."""
    try:
        import networkx as nx
        import pandas as pd
        import wntr
    except ImportError as exc:
        # no figure line: a skipped peer has no value to report, the table says why
        rows.append(("wntr valve_segments", f"skipped: {exc.name} not installed "
                     "(pip install -e '.[bench]')"))
        return

    net = synthetic_city(n_pipes, 0, seed=11)
    g: nx.MultiDiGraph[str] = nx.MultiDiGraph()
    g.add_nodes_from(n.id for n in net.nodes)
    for p in net.pipes:
        g.add_edge(p.from_node, p.to_node, key=p.id)
    layer = pd.DataFrame({"link": [v.pipe_id for v in net.valves],
                          "node": [v.node_id for v in net.valves]})
    started = time.perf_counter()
    _node_seg, link_seg, _size = wntr.metrics.topographic.valve_segments(g, layer)
    wntr_s = time.perf_counter() - started
    projector = network_projector(net, Projectors())
    started = time.perf_counter()
    index = build_index(net, 1, projector)
    ours_s = time.perf_counter() - started
    # same partition of pipes? compare pipe groupings
    ours: dict[int, set[str]] = {}
    for i, pid in enumerate(index.pipe_ids):
        ours.setdefault(int(index.graph.pipe_segment[i]), set()).add(pid)
    theirs: dict[int, set[str]] = {}
    for pid, seg in link_seg.items():
        theirs.setdefault(int(seg), set()).add(str(pid))
    same = sorted(map(sorted, ours.values())) == sorted(map(sorted, theirs.values()))
    n = len(net.pipes)
    rows += [(f"wntr valve_segments ({n} pipes)", f"{wntr_s:.3f} s"),
             (f"ours, whole index ({n} pipes)", f"{ours_s:.3f} s"),
             ("same pipe partition", str(same))]
    emit(BENCH, "wntr_valve_segments_s", wntr_s, "s", n)
    emit(BENCH, "ours_precompute_small_s", ours_s, "s", n)
    emit(BENCH, "speedup_vs_wntr", wntr_s / ours_s, "x", n)
    emit(BENCH, "same_partition_as_wntr", 1.0 if same else 0.0, "bool", n)


def main(argv: Sequence[str] | None = None) -> None:
    args = parse_args(__doc__ or BENCH, argv)
    n_pipes, n_customers, n_queries, n_areas, wntr_pipes = (
        (2_000, 10_000, 200, 10, 500) if args.quick else (100_000, 500_000, 2_000, 50, 4_000))
    rows: list[tuple[str, str]] = []
    started = time.perf_counter()
    net = synthetic_city(n_pipes, n_customers)
    rows.append(("generate city", f"{time.perf_counter() - started:.2f} s"))
    n = len(net.pipes)
    with tempfile.TemporaryDirectory() as tmp:
        db = open_database(Path(tmp) / "bench.db")
        migrate(db)
        clock = SteppingClock(datetime(2026, 11, 23, 1, 0, tzinfo=UTC))
        svc = NetworkService(db, clock)
        from geo.importer import prepare_network
        from geo.model import Network

        started = time.perf_counter()
        prepared = prepare_network(Network(), net, {"pipes", "nodes", "valves", "sources",
                                                    "service_connections"}, 1,
                                   projectors=svc.projectors)
        validate_s = time.perf_counter() - started
        started = time.perf_counter()
        GeoStore(db).replace_layers(prepared.network, prepared.layers, clock(),
                                    prepared.index.projector.epsg)
        write_s = time.perf_counter() - started
        fresh = NetworkService(db, clock)
        fresh.projectors = svc.projectors  # PROJ setup is not what we measure
        started = time.perf_counter()
        index = fresh.index()
        load_s = time.perf_counter() - started
        started = time.perf_counter()
        build_index(prepared.network, 1, index.projector)
        precompute_s = time.perf_counter() - started
        # the on-disk index a CLI process reads instead of rebuilding (geo.index_cache)
        cache = Path(tmp) / "network-index.pickle"
        started = time.perf_counter()
        write_index(cache, "bench", index)
        cache_write_s = time.perf_counter() - started
        started = time.perf_counter()
        read_index(cache, "bench", svc.projectors)
        cache_read_s = time.perf_counter() - started

        rng = random.Random(3)
        picks = [rng.randrange(n) for _ in range(n_queries)]
        mem: list[float] = []
        for p in picks:
            t0 = time.perf_counter()
            core = compute_plan(index, [p], index.inoperable)
            to_plan(index, core, plan_id="b", computed_at="t")
            mem.append((time.perf_counter() - t0) * 1000)
        stored: list[float] = []
        plan_ids: list[str] = []
        for p in picks[: max(10, n_queries // 4)]:
            t0 = time.perf_counter()
            plan = fresh.isolate(IsolationRequest(pipe_ids=[index.pipe_ids[p]]))
            stored.append((time.perf_counter() - t0) * 1000)
            plan_ids.append(plan.id)
        areas: list[float] = []
        for pid in plan_ids[:n_areas]:
            t0 = time.perf_counter()
            fresh.area(pid)
            areas.append((time.perf_counter() - t0) * 1000)
        db.close()
    q = percentiles(mem, (50, 99))
    s = percentiles(stored, (50, 99))
    a = percentiles(areas, (50, 99))
    rows += [
        ("pipes / valves / customers", f"{n} / {len(net.valves)} / {len(net.connections)}"),
        ("segments", str(index.graph.n_segments)),
        ("import: validate + precompute", f"{validate_s:.2f} s"),
        ("import: write + change log", f"{write_s:.2f} s"),
        ("load from SQLite + precompute", f"{load_s:.2f} s"),
        ("precompute alone", f"{precompute_s:.2f} s"),
        ("index cache: write / read", f"{cache_write_s:.2f} / {cache_read_s:.2f} s"),
        ("isolation p50 / p99 (memory)", f"{q[50]:.2f} / {q[99]:.2f} ms"),
        ("isolation p50 / p99 (stored)", f"{s[50]:.2f} / {s[99]:.2f} ms"),
        ("area polygon p50 / p99", f"{a[50]:.1f} / {a[99]:.1f} ms"),
    ]
    _wntr_vs_ours(wntr_pipes, rows)
    table(f"bench.segments ({'quick' if args.quick else 'full'})", rows)
    emit(BENCH, "import_validate_precompute_s", validate_s, "s", n)
    emit(BENCH, "import_write_s", write_s, "s", n)
    emit(BENCH, "load_precompute_s", load_s, "s", n)
    emit(BENCH, "precompute_s", precompute_s, "s", n)
    emit(BENCH, "index_cache_write_s", cache_write_s, "s", n)
    emit(BENCH, "index_cache_read_s", cache_read_s, "s", n)
    emit(BENCH, "isolation_p50_ms", q[50], "ms", len(mem))
    emit(BENCH, "isolation_p99_ms", q[99], "ms", len(mem))
    emit(BENCH, "isolation_stored_p50_ms", s[50], "ms", len(stored))
    emit(BENCH, "isolation_stored_p99_ms", s[99], "ms", len(stored))
    emit(BENCH, "area_p50_ms", a[50], "ms", len(areas))
    emit(BENCH, "area_p99_ms", a[99], "ms", len(areas))
    emit(BENCH, "segments", index.graph.n_segments, "count", n)
    emit(BENCH, "customers", len(net.connections), "count", n)


if __name__ == "__main__":
    main()
