"""Isolation on hand-made networks with known answers."""

from __future__ import annotations

import msgspec
import pytest

from geo.isolation import compute_plan, to_plan
from geo.model import IsolationPlan, Network
from geo.network import NetworkIndex, build_index
from tests.unit.geo.geo_networks import PROJECTOR, build, line_with_dead_end

pytestmark = pytest.mark.unit


def plan_for(net: Network, *pipes: str, inoperable: tuple[str, ...] = ()) -> IsolationPlan:
    index = build_index(net, 1, PROJECTOR)
    return plan_on(index, *pipes, inoperable=inoperable)


def plan_on(index: NetworkIndex, *pipes: str, inoperable: tuple[str, ...] = ()) -> IsolationPlan:
    bad = index.inoperable | {index.valve_index[v] for v in inoperable}
    core = compute_plan(index, [index.pipe_index[p] for p in pipes], frozenset(bad))
    return to_plan(index, core, plan_id="t", computed_at="2026-11-23T01:00:00+00:00")


def closing(plan: IsolationPlan) -> list[str]:
    return sorted(v.valve.valve_id for v in plan.valves_to_close)


def test_dead_end_needs_no_valve_behind_it_and_is_cut_off() -> None:
    plan = plan_for(line_with_dead_end(), "p2")
    assert closing(plan) == ["v1"]
    assert plan.valves_not_needed == ["v2"]
    assert plan.segment_pipe_ids == ["p2"]
    assert plan.cut_off_pipe_ids == ["p3"]
    assert set(plan.cut_off_node_ids) == {"B", "C"}
    assert plan.customer_count == 2
    assert plan.counts_by_compound == {"compound-p2": 1, "compound-p3": 1}


def test_break_in_source_segment_shuts_the_source() -> None:
    plan = plan_for(line_with_dead_end(), "p1")
    assert closing(plan) == []
    assert plan.sources_to_shut == ["src-S"]
    # everything downstream of the plant loses water
    assert set(plan.cut_off_pipe_ids) == {"p2", "p3"}


def loop() -> Network:
    """S -p0- A; square A-B-C-D with a valve at each corner on each side.

    p1 A-B, p2 B-C, p3 C-D, p4 D-A; valves at both ends of p2 and of p4.
    """
    return build(
        {"S": (0, 0), "A": (1, 0), "B": (2, 0), "C": (2, 1), "D": (1, 1)},
        [("p0", "S", "A"), ("p1", "A", "B"), ("p2", "B", "C"), ("p3", "C", "D"),
         ("p4", "D", "A")],
        [("v2b", "p2", "B"), ("v2c", "p2", "C"), ("v4d", "p4", "D"), ("v4a", "p4", "A")],
        sources=["S"],
    )


def test_loop_feeds_the_far_side_so_nothing_is_cut_off() -> None:
    plan = plan_for(loop(), "p2")
    assert closing(plan) == ["v2b", "v2c"]
    assert plan.cut_off_pipe_ids == []
    assert plan.customer_count == 1


def test_valve_on_a_pipe_between_two_segments_isolates_only_that_pipe() -> None:
    plan = plan_for(loop(), "p4")
    assert plan.segment_pipe_ids == ["p4"]
    assert closing(plan) == ["v4a", "v4d"]


def test_a_valve_inside_a_segment_is_never_a_valve_to_close() -> None:
    # the valve "inside" sits on p2 at B, but the loop goes round it: it splits nothing
    net = build(
        {"S": (0, 0), "A": (1, 0), "B": (2, 0), "C": (2, 1), "D": (1, 1), "E": (3, 1)},
        [("p0", "S", "A"), ("p1", "A", "B"), ("p2", "B", "C"), ("p3", "C", "D"),
         ("p4", "D", "A"), ("p5", "C", "E")],
        [("inside", "p2", "B"), ("v5", "p5", "C"), ("v0", "p0", "A")],
        sources=["S"],
    )
    plan = plan_for(net, "p3")
    assert closing(plan) == ["v0"]
    assert set(plan.segment_pipe_ids) == {"p1", "p2", "p3", "p4"}
    assert "inside" not in plan.valves_not_needed
    # p5 hangs from the loop: its valve has no water behind it, and it runs dry
    assert plan.valves_not_needed == ["v5"]
    assert plan.cut_off_pipe_ids == ["p5"]


def two_sources() -> Network:
    """S1 -p1- A -p2- B -p3- S2 with valves around p2."""
    return build(
        {"S1": (0, 0), "A": (1, 0), "B": (2, 0), "S2": (3, 0)},
        [("p1", "S1", "A"), ("p2", "A", "B"), ("p3", "B", "S2")],
        [("va", "p2", "A"), ("vb", "p2", "B")],
        sources=["S1", "S2"],
    )


def test_two_sources_need_both_valves_and_cut_off_nothing() -> None:
    plan = plan_for(two_sources(), "p2")
    assert closing(plan) == ["va", "vb"]
    assert plan.cut_off_pipe_ids == []
    assert plan.valves_not_needed == []


def test_one_source_leaves_the_far_side_dry() -> None:
    net = two_sources()
    net.sources = [s for s in net.sources if s.node_id == "S1"]
    plan = plan_for(net, "p2")
    assert closing(plan) == ["va"]
    assert plan.valves_not_needed == ["vb"]
    assert plan.cut_off_pipe_ids == ["p3"]


def chain() -> Network:
    """Two sources, a chain of segments: S1 -p1- A -p2- B -p3- C -p4- S2.

    Valves at both ends of p2 and at C on p3: segments {S1,p1,A}, {p2}, {B,p3}, {C,p4,S2}.
    """
    return build(
        {"S1": (0, 0), "A": (1, 0), "B": (2, 0), "C": (3, 0), "S2": (4, 0)},
        [("p1", "S1", "A"), ("p2", "A", "B"), ("p3", "B", "C"), ("p4", "C", "S2")],
        [("v2a", "p2", "A"), ("v2b", "p2", "B"), ("v3c", "p3", "C")],
        sources=["S1", "S2"],
    )


def test_inoperable_valve_extends_to_the_next_valves_and_lists_what_it_adds() -> None:
    plan = plan_for(chain(), "p2", inoperable=("v2b",))
    assert closing(plan) == ["v2a", "v3c"]
    assert plan.extension.inoperable_valve_ids == ["v2b"]
    assert plan.extension.extra_valve_ids == ["v3c"]
    assert plan.extension.extra_pipe_ids == ["p3"]
    assert plan.extension.extra_customer_ids == ["c-p3-0"]
    assert plan.customer_count == 2


def test_valve_stored_as_broken_is_skipped_the_same_way() -> None:
    net = chain()
    net.valves = [msgspec.structs.replace(v, operable=v.id != "v2b") for v in net.valves]
    plan = plan_for(net, "p2")
    assert closing(plan) == ["v2a", "v3c"]
    assert plan.extension.inoperable_valve_ids == ["v2b"]


def test_node_between_two_valves_is_a_segment_of_its_own() -> None:
    # valves on both sides of node B: if v2b fails, only B joins and v3b closes instead
    net = chain()
    net.valves = [*net.valves, msgspec.structs.replace(net.valves[0], id="v3b", pipe_id="p3",
                                                       node_id="B")]
    plan = plan_for(net, "p2", inoperable=("v2b",))
    assert closing(plan) == ["v2a", "v3b"]
    assert plan.extension.extra_pipe_ids == []
    assert plan.extension.extra_customer_ids == []


def test_plan_b_of_a_junction_valved_on_every_side_names_the_junction() -> None:
    net = chain()
    net.valves = [*net.valves, msgspec.structs.replace(net.valves[0], id="v3b", pipe_id="p3",
                                                       node_id="B")]
    plan = plan_for(net, "p2")
    fb = {v.valve.valve_id: v.fallback for v in plan.valves_to_close}["v2b"]
    assert fb is not None
    assert fb.extra_pipe_count == 0
    assert fb.extra_customer_count == 0
    assert fb.extra_node_ids == ["B"]  # the grown area is that junction alone
    assert [v.valve_id for v in fb.extra_valves] == ["v3b"]
    extended = plan_for(net, "p2", inoperable=("v2b",))
    assert extended.extension.extra_node_ids == ["B"]


def test_an_inoperable_valve_the_plan_never_needed_is_said_so() -> None:
    index = build_index(chain(), 1, PROJECTOR)
    reported = frozenset({index.valve_index["v3c"]})  # not on p2's border
    core = compute_plan(index, [index.pipe_index["p2"]], index.inoperable | reported,
                        reported=reported)
    plan = to_plan(index, core, plan_id="t", computed_at="t")
    assert closing(plan) == ["v2a", "v2b"]  # unchanged
    assert plan.extension.not_needed_inoperable_ids == ["v3c"]
    assert plan.extension.inoperable_valve_ids == []


def test_each_valve_to_close_carries_its_plan_b() -> None:
    plan = plan_for(chain(), "p2")
    fb = {v.valve.valve_id: v.fallback for v in plan.valves_to_close}
    assert fb["v2b"] is not None
    assert [v.valve_id for v in fb["v2b"].extra_valves] == ["v3c"]
    assert fb["v2b"].extra_customer_ids == ["c-p3-0"]
    assert fb["v2a"] is not None
    # behind v2a is the plant S1's segment: plan B shuts that source and p1's customer
    assert fb["v2a"].sources_to_shut == ["src-S1"]
    assert fb["v2a"].extra_valves == []
    assert fb["v2a"].extra_customer_ids == ["c-p1-0"]


def test_normally_closed_valve_is_a_border_and_never_to_close() -> None:
    # p3's far side is fed from S2 only through a normally-closed valve: it is its own zone
    net = build(
        {"S1": (0, 0), "A": (1, 0), "B": (2, 0), "C": (3, 0), "S2": (4, 0)},
        [("p1", "S1", "A"), ("p2", "A", "B"), ("p3", "B", "C"), ("p4", "C", "S2")],
        [("v2a", "p2", "A"), ("v2b", "p2", "B"), ("nc", "p3", "C")],
        sources=["S1", "S2"], closed=["nc"],
    )
    plan = plan_for(net, "p2")
    assert closing(plan) == ["v2a"]
    assert "nc" not in plan.valves_not_needed
    assert plan.cut_off_pipe_ids == ["p3"]


def test_planned_job_on_several_pipes_isolates_their_union() -> None:
    plan = plan_for(chain(), "p2", "p3")
    assert closing(plan) == ["v2a", "v3c"]
    assert set(plan.segment_pipe_ids) == {"p2", "p3"}
    assert set(plan.segment_node_ids) == {"B"} or "B" in plan.cut_off_node_ids


def test_notice_geography_and_volume() -> None:
    plan = plan_for(line_with_dead_end(), "p2")
    assert plan.streets == ["street-p2", "street-p3"]
    assert plan.bounds.east == "street-p3"
    assert plan.bounds.west == "street-p2"
    assert plan.pipe_length_m == pytest.approx(200.0)
    # two 200 mm pipes of 100 m: 2 * pi/4 * 0.04 * 100
    assert plan.drain_volume_m3 == pytest.approx(6.283, abs=1e-3)
