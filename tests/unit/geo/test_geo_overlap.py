"""Overlapping outages: the combined shut-off, and its conflict, against brute force."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from geo.isolation import compute_plan, to_plan
from geo.model import Network
from geo.network import build_index
from geo.overlap import combine_plans, extra_from
from tests.unit.geo.geo_networks import PROJECTOR, build
from tests.unit.geo.test_geo_isolation_property import dry_elements, networks

pytestmark = pytest.mark.unit


def two_feeds() -> Network:
    """S -p0- A; A -pa- B and A -pb- C, each valved at both ends; B and C feed a ring of
    seven junctions x1..x7 between them. Shutting pa alone or pb alone dries nothing
    else (the ring is fed from the other side); shutting both dries B, C and the ring:
    nine nodes, and the customers on pb1, the ring pipes and pc1."""
    nodes: dict[str, tuple[float, float]] = {"S": (0, 0), "A": (1, 0), "B": (2, 1), "C": (2, -1),
             **{f"x{i}": (3 + i * 0.5, 0) for i in range(1, 8)}}
    ring = [(f"r{i}", f"x{i}", f"x{i + 1}") for i in range(1, 7)]
    pipes = [("p0", "S", "A"), ("pa", "A", "B"), ("pb", "A", "C"), ("pb1", "B", "x1"),
             ("pc1", "C", "x7"), *ring]
    valves = [("va1", "pa", "A"), ("va2", "pa", "B"), ("vb1", "pb", "A"), ("vb2", "pb", "C")]
    return build(nodes, pipes, valves, ["S"])


def test_two_clean_isolations_together_dry_nine_more_nodes() -> None:
    net = two_feeds()
    index = build_index(net, 1, PROJECTOR)
    a = compute_plan(index, [index.pipe_index["pa"]], index.inoperable)
    b = compute_plan(index, [index.pipe_index["pb"]], index.inoperable)
    for core in (a, b):
        assert core.final.result.cut_off == frozenset()  # each one alone is clean
    both = combine_plans(index, [a, b])
    g = index.graph
    nodes = sorted(index.node_ids[i] for i in g.nodes_of(both.conflict).tolist())
    assert nodes == sorted(["B", "C", *(f"x{i}" for i in range(1, 8))])
    pipes = {index.pipe_ids[i] for i in g.pipes_of(both.conflict).tolist()}
    assert pipes == {"pb1", "pc1", *(f"r{i}" for i in range(1, 7))}
    # closing all their valves together: the four valves next to A are the ones with
    # water behind them; the two at B and C have only the dry ring behind
    closing = {index.valves[v].id for v in both.result.to_close}
    assert closing == {"va1", "vb1"}
    assert extra_from(index, b, [a]) == both.conflict


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(networks(), st.data())
def test_combined_conflict_equals_brute_force(case: tuple[Network, str, list[str]],
                                              data: st.DataObject) -> None:
    net, _pipe, _job = case
    normally_closed = {v.id for v in net.valves if v.state == "normal_closed"}
    assume(dry_elements(net, normally_closed, set()) == (set(), set()))
    index = build_index(net, 1, PROJECTOR)
    pipe_ids = [p.id for p in net.pipes]
    jobs = data.draw(st.lists(st.lists(st.sampled_from(pipe_ids), min_size=1, max_size=2,
                                       unique=True), min_size=2, max_size=3))
    cores = [compute_plan(index, [index.pipe_index[p] for p in job], index.inoperable)
             for job in jobs]
    plans = [to_plan(index, c, plan_id=str(k), computed_at="t") for k, c in enumerate(cores)]
    # brute force: each plan's valves closed (and sources shut) alone, then all together
    alone_pipes: set[str] = set()
    alone_nodes: set[str] = set()
    all_closing, all_shut = set(normally_closed), set()
    for plan in plans:
        closing = {v.valve.valve_id for v in plan.valves_to_close}
        dp, dn = dry_elements(net, normally_closed | closing, set(plan.sources_to_shut))
        alone_pipes |= dp
        alone_nodes |= dn
        all_closing |= closing
        all_shut |= set(plan.sources_to_shut)
    together_pipes, together_nodes = dry_elements(net, all_closing, all_shut)
    combined = combine_plans(index, cores)
    g = index.graph
    assert {index.pipe_ids[i] for i in g.pipes_of(combined.conflict).tolist()} == \
        together_pipes - alone_pipes
    conflict_nodes = {index.node_ids[i] for i in g.nodes_of(combined.conflict).tolist()}
    assert conflict_nodes == together_nodes - alone_nodes
    # and what the combination closes is exactly a subset of the plans' own valves
    assert {index.valves[v].id for v in combined.result.to_close} <= all_closing
