"""Feeding a cut-off area from another zone: normally-closed valves worth opening.

A shut-off leaves some segments with no path to a source (the cut-off). A normally-closed
valve (a zone border) with one side in that cut-off and the other side still supplied
could feed it: opening it restores every cut-off segment reachable from its dry side
through open valves, without entering the shut region. Each such valve is proposed as an
option (Giswater proposes the same); the dispatcher accepts it or not, since opening a
zone border changes pressures and may need the other zone's agreement.

One valve is not always enough: a zone border is often a chamber with a closed valve on
each side (the chamber's node is a segment of its own, supplied by neither zone), or a
short run between two borders. When the far side of a cut-off border valve is such a
dead segment, a small search looks for the fewest further normally-closed valves that
reach supplied water through dead segments only, and proposes the whole set (``valve``
first, then ``also_open`` towards the supplying zone). The search is bounded: at most
``MAX_SET_SIZE`` valves per option and ``MAX_SEARCH_SEGMENTS`` segments visited per
border valve, so a plan's cost stays proportional to what it looks at.

Cost: the normally-closed valves are filtered with numpy (O(valves), vectorised), then
one breadth-first search per candidate over the cut-off only, plus the bounded set
search from each border valve whose far side is dead.
"""

from __future__ import annotations

from collections import deque
from typing import Final

import numpy as np

from geo.model import SupplyOption, ValveAction
from geo.network import NetworkIndex
from geo.segments import RegionResult, SegmentGraph, gather_ranges

#: an option lists at most this many restored customer ids (its count is exact)
OPTION_ID_CAP = 500
#: the most normally-closed valves one option opens together
MAX_SET_SIZE: Final = 3
#: segments one set search may visit before it gives up
MAX_SEARCH_SEGMENTS: Final = 2000


class _Candidate:
    __slots__ = ("restored", "valves")

    def __init__(self, valves: list[int], restored: frozenset[int]) -> None:
        #: the valves to open, from the cut-off side towards the supplying zone
        self.valves = valves
        self.restored = restored


def _action(index: NetworkIndex, v: int) -> ValveAction:
    valve = index.valves[v]
    return ValveAction(valve_id=valve.id, pipe_id=valve.pipe_id, node_id=valve.node_id,
                       lon=valve.lon, lat=valve.lat, diameter_mm=valve.diameter_mm,
                       operable=valve.operable)


def _border_valves(index: NetworkIndex) -> dict[int, list[int]]:
    """Segment -> the normally-closed valves on its border (closed links excluded)."""
    g = index.graph
    out: dict[int, list[int]] = {}
    for v in np.flatnonzero(~g.valve_open).tolist():
        if bool(g.pipe_closed[index.pipe_index[index.valves[v].pipe_id]]):
            continue
        a, b = int(g.valve_pipe_side[v]), int(g.valve_node_side[v])
        if a != b:
            out.setdefault(a, []).append(v)
            out.setdefault(b, []).append(v)
    return out


def _candidates(index: NetworkIndex, result: RegionResult) -> list[_Candidate]:
    """Every way found to feed part of the cut-off: one per border valve of the cut-off."""
    g = index.graph
    cut = result.cut_off
    if not cut:
        return []
    nc = np.flatnonzero(~g.valve_open)
    if nc.size == 0:
        return []
    cut_arr = np.fromiter(cut, np.int64, len(cut))
    a, b = g.valve_pipe_side[nc], g.valve_node_side[nc]
    in_a, in_b = np.isin(a, cut_arr), np.isin(b, cut_arr)
    borders: dict[int, list[int]] | None = None  # built only when a set is searched
    out: list[_Candidate] = []
    for k in np.flatnonzero(in_a ^ in_b).tolist():
        v = int(nc[k])
        dry, far = (int(a[k]), int(b[k])) if in_a[k] else (int(b[k]), int(a[k]))
        if far in result.region or bool(g.pipe_closed[index.pipe_index[
                index.valves[v].pipe_id]]):
            continue
        if g.pre[far] >= 0:  # supplied, and not cut off by this shut-off
            out.append(_Candidate([v], _reach(g.adj, dry, cut)))
            continue
        if borders is None:
            borders = _border_valves(index)
        found = _through_dead(g, borders, v, far, result)
        if found is not None:
            valves, dead = found
            out.append(_Candidate(valves, _reach(g.adj, dry, cut) | dead))
    return out


def _through_dead(g: SegmentGraph, borders: dict[int, list[int]], first: int, start: int,
                  result: RegionResult) -> tuple[list[int], frozenset[int]] | None:
    """The fewest normally-closed valves from dead segment ``start`` to supplied water.

    A 0-1 breadth-first search: open valves cost nothing, normally-closed ones one. Only
    dead segments (never supplied, outside the shut region and the cut-off) are crossed.
    Returns the valves (``first`` included) and the dead segments on the way, or None if
    no set of at most ``MAX_SET_SIZE`` valves within ``MAX_SEARCH_SEGMENTS`` does it.
    """
    cost = {start: 1}
    parent: dict[int, tuple[int, int | None]] = {}
    queue: deque[int] = deque([start])
    done: set[int] = set()
    while queue and len(done) < MAX_SEARCH_SEGMENTS:
        s = queue.popleft()
        if s in done:
            continue
        done.add(s)
        steps = [(y, None) for y in g.adj[s]] + [(g.far_side(v, {s}), v)
                                                   for v in borders.get(s, [])]
        for y, valve in steps:
            c = cost[s] + (0 if valve is None else 1)
            if y in result.region or y in result.cut_off or c > MAX_SET_SIZE:
                continue
            if g.pre[y] >= 0:  # supplied water reached
                if valve is None:
                    continue  # an open way to a supplied segment: start was never dead
                path = [valve]
                dead = {s}
                at = s
                while at != start:
                    prev, used = parent[at]
                    if used is not None:
                        path.append(used)
                    at = prev
                    dead.add(at)
                return [first, *reversed(path)], frozenset(dead)
            if y not in cost or c < cost[y]:
                cost[y] = c
                parent[y] = (s, valve)
                if valve is None:
                    queue.appendleft(y)
                else:
                    queue.append(y)
    return None


def supply_options(index: NetworkIndex, result: RegionResult) -> list[SupplyOption]:
    """Normally-closed valves (or sets of them) that could feed part of the cut-off, best
    first: most customers restored, then fewest valves to open."""
    g = index.graph
    c = index.customers
    options: list[SupplyOption] = []
    for cand in _candidates(index, result):
        pipes = np.sort(g.pipes_of(cand.restored))
        cust = np.sort(gather_ranges(c.ptr, c.by_pipe, pipes))
        options.append(SupplyOption(
            valve=_action(index, cand.valves[0]),
            also_open=[_action(index, v) for v in cand.valves[1:]],
            restored_pipe_count=int(pipes.size),
            restored_node_ids=sorted(index.node_ids[i]
                                     for i in g.nodes_of(cand.restored).tolist()),
            restored_customer_count=int(cust.size),
            restored_customer_ids=[c.ids[i] for i in cust[:OPTION_ID_CAP].tolist()]))
    options.sort(key=lambda o: (-o.restored_customer_count, len(o.also_open),
                                o.valve.valve_id))
    return options


def restored_segments(index: NetworkIndex, result: RegionResult, valve: int
                      ) -> tuple[list[int], frozenset[int]] | None:
    """The valves to open and the segments fed by the option that starts at ``valve``
    (None: no such option on this plan)."""
    for cand in _candidates(index, result):
        if cand.valves[0] == valve:
            return cand.valves, cand.restored
    return None


def _reach(adj: list[list[int]], start: int, within: frozenset[int]) -> frozenset[int]:
    seen = {start}
    queue = deque([start])
    while queue:
        for y in adj[queue.popleft()]:
            if y in within and y not in seen:
                seen.add(y)
                queue.append(y)
    return frozenset(seen)
