"""Feeding a cut-off area from another zone: normally-closed valves worth opening.

A shut-off leaves some segments with no path to a source (the cut-off). A normally-closed
valve (a zone border) with one side in that cut-off and the other side still supplied
could feed it: opening it restores every cut-off segment reachable from its dry side
through open valves, without entering the shut region. Each such valve is proposed as an
option (Giswater proposes the same); the dispatcher accepts it or not, since opening a
zone border changes pressures and may need the other zone's agreement.

Cost: the normally-closed valves are filtered with numpy (O(valves), vectorised), then
one breadth-first search per candidate over the cut-off only.
"""

from __future__ import annotations

from collections import deque

import numpy as np

from geo.model import SupplyOption, ValveAction
from geo.network import NetworkIndex
from geo.segments import RegionResult, gather_ranges

#: an option lists at most this many restored customer ids (its count is exact)
OPTION_ID_CAP = 500


def supply_options(index: NetworkIndex, result: RegionResult) -> list[SupplyOption]:
    """Normally-closed valves that could feed part of ``result.cut_off``, best first."""
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
    options: list[SupplyOption] = []
    for k in np.flatnonzero(in_a ^ in_b).tolist():
        v = int(nc[k])
        dry, wet = (int(a[k]), int(b[k])) if in_a[k] else (int(b[k]), int(a[k]))
        valve = index.valves[v]
        if wet in result.region or g.pre[wet] < 0 \
                or bool(g.pipe_closed[index.pipe_index[valve.pipe_id]]):
            continue
        restored = _reach(g.adj, dry, cut)
        pipes = np.sort(g.pipes_of(restored))
        c = index.customers
        cust = np.sort(gather_ranges(c.ptr, c.by_pipe, pipes))
        options.append(SupplyOption(
            valve=ValveAction(valve_id=valve.id, pipe_id=valve.pipe_id, node_id=valve.node_id,
                              lon=valve.lon, lat=valve.lat, diameter_mm=valve.diameter_mm,
                              operable=valve.operable),
            restored_pipe_count=int(pipes.size),
            restored_node_ids=sorted(index.node_ids[i] for i in g.nodes_of(restored).tolist()),
            restored_customer_count=int(cust.size),
            restored_customer_ids=[c.ids[i] for i in cust[:OPTION_ID_CAP].tolist()]))
    options.sort(key=lambda o: (-o.restored_customer_count, o.valve.valve_id))
    return options


def restored_segments(index: NetworkIndex, result: RegionResult, valve: int
                      ) -> frozenset[int] | None:
    """The cut-off segments opening normally-closed ``valve`` would feed (None: it can't)."""
    g = index.graph
    if bool(g.valve_open[valve]):
        return None
    a, b = int(g.valve_pipe_side[valve]), int(g.valve_node_side[valve])
    if (a in result.cut_off) == (b in result.cut_off):
        return None
    dry, wet = (a, b) if a in result.cut_off else (b, a)
    if wet in result.region or g.pre[wet] < 0:
        return None
    return _reach(g.adj, dry, result.cut_off)


def _reach(adj: list[list[int]], start: int, within: frozenset[int]) -> frozenset[int]:
    seen = {start}
    queue = deque([start])
    while queue:
        for y in adj[queue.popleft()]:
            if y in within and y not in seen:
                seen.add(y)
                queue.append(y)
    return frozenset(seen)
