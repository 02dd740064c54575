"""Property: segment + cut-off is exactly what a brute-force search finds dry.

The reference knows nothing of segments: it walks the raw pipe/node graph from every
source, with each closed valve (normally closed, or in the plan) cutting its pipe from
its node, and lists every pipe and node it cannot reach.
"""

from __future__ import annotations

from collections import deque

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from geo.isolation import compute_plan, to_plan
from geo.model import Network
from geo.network import build_index
from geo.segments import brute_force_cut_off, isolate_region
from tests.unit.geo.geo_networks import PROJECTOR, build

pytestmark = pytest.mark.unit


@st.composite
def networks(draw: st.DrawFn) -> tuple[Network, str, list[str]]:
    n = draw(st.integers(min_value=2, max_value=11))
    nodes = {f"n{i}": (float(i % 4), float(i // 4)) for i in range(n)}
    pipes = [(f"t{i}", f"n{draw(st.integers(0, i - 1))}", f"n{i}") for i in range(1, n)]
    extra = draw(st.lists(st.tuples(st.integers(0, n - 1), st.integers(0, n - 1)), max_size=n))
    pipes += [(f"x{k}", f"n{a}", f"n{b}") for k, (a, b) in enumerate(extra) if a != b]
    valves, closed, broken = [], [], []
    for pid, a, b in pipes:
        for end in (a, b):
            kind = draw(st.sampled_from(["none", "none", "open", "open", "closed", "broken"]))
            if kind == "none":
                continue
            vid = f"v-{pid}-{end}"
            valves.append((vid, pid, end))
            if kind == "closed":
                closed.append(vid)
            elif kind == "broken":
                broken.append(vid)
    sources = draw(st.lists(st.sampled_from(sorted(nodes)), min_size=1, max_size=2, unique=True))
    net = build(nodes, pipes, valves, sources, closed=closed, broken=broken)
    hit = draw(st.lists(st.sampled_from([p[0] for p in pipes]), min_size=1, max_size=2,
                        unique=True))
    return net, hit[0], hit


def dry_elements(net: Network, closed_valves: set[str], shut_sources: set[str],
                 shut_pipes: frozenset[str] = frozenset(),
                 shut_nodes: frozenset[str] = frozenset()) -> tuple[set[str], set[str]]:
    """(pipes, nodes) with no path from an open source, by plain BFS on pipes and nodes.

    ``shut_pipes`` and ``shut_nodes`` carry no water at all (a region shut off).
    """
    cut = {(v.pipe_id, v.node_id) for v in net.valves if v.id in closed_valves}
    by_node: dict[str, list[str]] = {n.id: [] for n in net.nodes}
    ends = {p.id: (p.from_node, p.to_node) for p in net.pipes}
    for p in net.pipes:
        by_node[p.from_node].append(p.id)
        by_node[p.to_node].append(p.id)
    start = {s.node_id for s in net.sources
             if s.id not in shut_sources and s.node_id not in shut_nodes}
    seen_n, seen_p = set(start), set()
    queue = deque(start)
    while queue:
        node = queue.popleft()
        for pid in by_node[node]:
            if pid in seen_p or pid in shut_pipes or (pid, node) in cut:
                continue
            seen_p.add(pid)
            for other in ends[pid]:
                if other not in seen_n and other not in shut_nodes and (pid, other) not in cut:
                    seen_n.add(other)
                    queue.append(other)
    return {p.id for p in net.pipes} - seen_p, {n.id for n in net.nodes} - seen_n


@settings(max_examples=250, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(networks(), st.booleans())
def test_affected_area_equals_brute_force(case: tuple[Network, str, list[str]],
                                          planned_job: bool) -> None:
    net, pipe, job = case
    normally_closed = {v.id for v in net.valves if v.state == "normal_closed"}
    dry_before = dry_elements(net, normally_closed, set())
    assume(not dry_before[0] and not dry_before[1])  # validation rejects islands
    index = build_index(net, 1, PROJECTOR)
    pipes = job if planned_job else [pipe]
    core = compute_plan(index, [index.pipe_index[p] for p in pipes], index.inoperable)
    plan = to_plan(index, core, plan_id="p", computed_at="t")
    closing = {v.valve.valve_id for v in plan.valves_to_close}
    dry_pipes, dry_nodes = dry_elements(net, normally_closed | closing, set(plan.sources_to_shut))
    assert dry_pipes == set(plan.segment_pipe_ids) | set(plan.cut_off_pipe_ids) | set(
        plan.extension.extra_pipe_ids)
    assert set(pipes) <= dry_pipes
    affected_nodes = set(plan.segment_node_ids) | set(plan.cut_off_node_ids)
    assert affected_nodes <= dry_nodes
    # no valve to close is inoperable, and each one has water behind it
    assert not closing & {v.id for v in net.valves if not v.operable}
    for v in plan.valves_to_close:
        assert v.valve.valve_id not in plan.valves_not_needed


@settings(max_examples=200, deadline=None)
@given(networks(), st.lists(st.integers(0, 10_000), min_size=1, max_size=4))
def test_region_query_matches_whole_graph_search(case: tuple[Network, str, list[str]],
                                                 picks: list[int]) -> None:
    net, _pipe, _job = case
    index = build_index(net, 1, PROJECTOR)
    g = index.graph
    assume(all(p >= 0 for p in g.pre))  # validation rejects islands
    region = frozenset(p % g.n_segments for p in picks)
    # the reference: the region's pipes and nodes carry no water; BFS on the raw network
    # (normally-closed valves cut) finds what else runs dry; those elements' segments
    shut_pipes = frozenset(p for i, p in enumerate(index.pipe_ids)
                           if int(g.pipe_segment[i]) in region)
    shut_nodes = frozenset(n for i, n in enumerate(index.node_ids)
                           if int(g.node_segment[i]) in region)
    normally_closed = {v.id for v in net.valves if v.state == "normal_closed"}
    dry_pipes, dry_nodes = dry_elements(net, normally_closed, set(), shut_pipes, shut_nodes)
    expected = frozenset(
        {int(g.pipe_segment[index.pipe_index[p]]) for p in dry_pipes - shut_pipes}
        | {int(g.node_segment[index.node_index[n]]) for n in dry_nodes - shut_nodes})
    assert isolate_region(g, region).cut_off == expected
    # the whole-graph fallback taken when a local search runs over budget agrees too
    assert isolate_region(g, region, budget=0).cut_off == expected
    assert brute_force_cut_off(g, region) == expected
