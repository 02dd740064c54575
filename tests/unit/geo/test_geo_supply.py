"""Normally-closed valves proposed to feed a cut-off area from another zone."""

from __future__ import annotations

import pytest

from geo.model import Network
from tests.unit.geo.geo_networks import build
from tests.unit.geo.test_geo_isolation import plan_for

pytestmark = pytest.mark.unit


def two_zones() -> Network:
    """Zone 1: S1 -p1- A -p2- B -p3- C, p2 valved at both ends. Zone 2: S2 -q1- D -q2- C,
    with the zone border nc (normally closed) on q2 next to C. A break on p2 cuts B, p3
    and C off from S1; opening nc would feed them from S2."""
    return build(
        {"S1": (0, 0), "A": (1, 0), "B": (2, 0), "C": (3, 0), "D": (3, 1), "S2": (3, 2)},
        [("p1", "S1", "A"), ("p2", "A", "B"), ("p3", "B", "C"), ("q1", "S2", "D"),
         ("q2", "D", "C")],
        [("v2a", "p2", "A"), ("v2b", "p2", "B"), ("nc", "q2", "C")],
        sources=["S1", "S2"], closed=["nc"])


def test_a_zone_border_that_could_feed_the_cut_off_is_proposed() -> None:
    plan = plan_for(two_zones(), "p2")
    assert plan.cut_off_pipe_ids == ["p3"]
    [option] = plan.supply_options
    assert option.valve.valve_id == "nc"
    assert option.restored_customer_ids == ["c-p3-0"]
    assert option.restored_node_ids == ["B", "C"]
    assert option.restored_pipe_count == 1


def test_with_the_plant_segment_shut_the_other_zone_can_feed_all_of_zone_one() -> None:
    plan = plan_for(two_zones(), "p1")  # S1's own segment: everything past v2a is dry
    [option] = plan.supply_options
    assert option.restored_customer_ids == ["c-p2-0", "c-p3-0"]


def test_no_option_when_the_border_has_no_water_on_its_far_side() -> None:
    # a break on zone 2's only pipe to C: q1/q2 are shut, zone 1 stays fed: nothing to do
    plan = plan_for(two_zones(), "q2")
    assert plan.cut_off_pipe_ids == []
    assert plan.supply_options == []


def chamber_between_zones(*, long_chain: bool = False) -> Network:
    """Zone 1 as above; zone 2 reaches C only through a border chamber J closed on both
    sides (nc1 on q3 towards C, nc2 on q2 towards D): J is a segment of its own that
    neither zone feeds, so opening one valve restores nothing. With ``long_chain`` the
    border is four closed valves deep (J1, a closed-off pipe r, J2)."""
    nodes: dict[str, tuple[float, float]] = {"S1": (0, 0), "A": (1, 0), "B": (2, 0),
                                             "C": (3, 0), "D": (3, 3), "S2": (3, 4)}
    pipes = [("p1", "S1", "A"), ("p2", "A", "B"), ("p3", "B", "C"), ("q1", "S2", "D")]
    valves = [("v2a", "p2", "A"), ("v2b", "p2", "B")]
    if long_chain:
        nodes |= {"J1": (3, 1), "J2": (3, 2)}
        pipes += [("q3", "C", "J1"), ("r", "J1", "J2"), ("q2", "D", "J2")]
        valves += [("nc1", "q3", "J1"), ("ncA", "r", "J1"), ("ncB", "r", "J2"),
                   ("nc2", "q2", "J2")]
        closed = ["nc1", "ncA", "ncB", "nc2"]
    else:
        nodes |= {"J": (3, 1.5)}
        pipes += [("q3", "C", "J"), ("q2", "D", "J")]
        valves += [("nc1", "q3", "J"), ("nc2", "q2", "J")]
        closed = ["nc1", "nc2"]
    return build(nodes, pipes, valves, sources=["S1", "S2"], closed=closed)


def test_a_border_chamber_closed_on_both_sides_is_proposed_as_a_set_of_two() -> None:
    plan = plan_for(chamber_between_zones(), "p2")
    assert plan.cut_off_pipe_ids == ["p3", "q3"]
    [option] = plan.supply_options
    assert option.valve.valve_id == "nc1"  # on the cut-off's border: names the option
    assert [v.valve_id for v in option.also_open] == ["nc2"]
    assert option.restored_customer_ids == ["c-p3-0", "c-q3-0"]
    assert option.restored_node_ids == ["B", "C", "J"]
    assert option.restored_pipe_count == 2


def test_a_single_valve_option_needs_nothing_else_opened() -> None:
    [option] = plan_for(two_zones(), "p2").supply_options
    assert option.also_open == []


def test_the_set_search_stops_at_three_valves() -> None:
    # four closed valves between the cut-off and zone 2: past the bound, nothing proposed
    plan = plan_for(chamber_between_zones(long_chain=True), "p2")
    assert "q3" in plan.cut_off_pipe_ids
    assert plan.supply_options == []
