"""Isolation plans: valves to close, cut-off, inoperable-valve extension and plan B per valve.

Pure functions on a ``NetworkIndex``. The shut-off region starts as the segments of the
broken pipe(s). If a valve to close is inoperable (known broken, or reported by the crew)
the region grows by the segment behind it and the answer is recomputed, until every
valve to close can close; the plan lists what that added. For each valve to close the
plan carries its fallback (close the region plus the segment behind that valve), so a
crew that finds a valve seized has plan B without a connection.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Final

import numpy as np
import numpy.typing as npt

from geo.area import compound_counts, four_bounds, street_names
from geo.model import (
    AffectedZone,
    Extension,
    Fallback,
    IsolationPlan,
    ValveAction,
    ValveToClose,
)
from geo.network import NetworkIndex
from geo.segments import RegionResult, gather_ranges, isolate_region
from geo.supply import supply_options

IntArray = npt.NDArray[np.int64]
#: a fallback lists at most this many extra customer ids (its count is always exact)
FALLBACK_ID_CAP: Final = 500


@dataclass(frozen=True, slots=True)
class Resolved:
    result: RegionResult
    #: inoperable valves met on the way (valve indices), in the order they were met
    skipped: tuple[int, ...]

    @property
    def affected(self) -> frozenset[int]:
        return self.result.region | self.result.cut_off


@dataclass(frozen=True, slots=True)
class PlanCore:
    """Everything a plan needs, as indices; ``to_plan`` turns it into the wire Struct."""

    broken: tuple[int, ...]
    base: RegionResult
    final: Resolved
    fallbacks: dict[int, Resolved]
    #: valves reported inoperable for this request (not the stored ones)
    reported: frozenset[int] = frozenset()


def resolve(index: NetworkIndex, region: frozenset[int], inoperable: frozenset[int]) -> Resolved:
    """Grow ``region`` past inoperable valves until every valve to close can close."""
    g = index.graph
    skipped: list[int] = []
    result = isolate_region(g, region)
    while True:
        bad = [v for v in result.to_close if v in inoperable]
        if not bad:
            return Resolved(result, tuple(skipped))
        skipped.extend(bad)
        region = region | {g.far_side(v, region) for v in bad}
        result = isolate_region(g, region)


def known_inoperable(index: NetworkIndex) -> frozenset[int]:
    return index.inoperable


def compute_plan(index: NetworkIndex, pipes: list[int], inoperable: frozenset[int],
                 *, fallbacks: bool = True, reported: frozenset[int] = frozenset()) -> PlanCore:
    """The plan for shutting ``pipes``; ``reported`` are the valves the request says are
    seized (a subset of ``inoperable``), so the plan can say which of them it never needed.
    """
    g = index.graph
    region = frozenset(int(g.pipe_segment[p]) for p in pipes)
    base = isolate_region(g, region)
    final = resolve(index, region, inoperable)
    plans: dict[int, Resolved] = {}
    if fallbacks:
        for v in final.result.to_close:
            grown = final.result.region | {g.far_side(v, final.result.region)}
            plans[v] = resolve(index, grown, inoperable)
    return PlanCore(broken=tuple(pipes), base=base, final=final, fallbacks=plans,
                    reported=reported)


def customers_of_pipes(index: NetworkIndex, pipes: IntArray) -> IntArray:
    c = index.customers
    return gather_ranges(c.ptr, c.by_pipe, pipes)


def valve_action(index: NetworkIndex, v: int) -> ValveAction:
    """A valve as a crew acts on it: id, position, diameter."""
    valve = index.valves[v]
    return ValveAction(valve_id=valve.id, pipe_id=valve.pipe_id, node_id=valve.node_id,
                       lon=valve.lon, lat=valve.lat, diameter_mm=valve.diameter_mm,
                       operable=valve.operable)


def _ids(names: list[str], rows: IntArray) -> list[str]:
    return [names[i] for i in rows.tolist()]


def zoned_pipes(index: NetworkIndex, core: PlanCore) -> dict[AffectedZone, IntArray]:
    """Affected pipe indices by zone: broken segment(s), cut-off, inoperable extension."""
    g = index.graph
    base_aff = core.base.region | core.base.cut_off
    return {
        AffectedZone.SEGMENT: np.sort(g.pipes_of(core.base.region)),
        AffectedZone.CUT_OFF: np.sort(g.pipes_of(core.base.cut_off)),
        AffectedZone.EXTENSION: np.sort(g.pipes_of(core.final.affected - base_aff)),
    }


def _fallback(index: NetworkIndex, core: PlanCore, v: int) -> Fallback:
    fb = core.fallbacks[v]
    g = index.graph
    extra_segs = fb.affected - core.final.affected
    extra_pipes = g.pipes_of(extra_segs)
    extra_cust = customers_of_pipes(index, extra_pipes)
    already = set(core.final.result.to_close)
    return Fallback(
        failed_valve_id=index.valves[v].id,
        extra_valves=[valve_action(index, w) for w in fb.result.to_close if w not in already],
        extra_pipe_count=int(extra_pipes.size), extra_customer_count=int(extra_cust.size),
        extra_customer_ids=_ids(index.customers.ids, np.sort(extra_cust)[:FALLBACK_ID_CAP]),
        sources_to_shut=_sources_in(index, fb.result.region),
        extra_node_ids=sorted(_ids(index.node_ids, g.nodes_of(extra_segs))))


def _sources_in(index: NetworkIndex, region: frozenset[int]) -> list[str]:
    seg = index.graph.node_segment
    return [s.id for s in index.sources if int(seg[index.node_index[s.node_id]]) in region]


def to_plan(index: NetworkIndex, core: PlanCore, *, plan_id: str, computed_at: str,
            snapped_point: tuple[float, float] | None = None,
            snap_distance_m: float | None = None) -> IsolationPlan:
    g = index.graph
    zones = zoned_pipes(index, core)
    all_pipes = np.concatenate(list(zones.values()))
    cust = customers_of_pipes(index, all_pipes)
    ext_cust = customers_of_pipes(index, zones[AffectedZone.EXTENSION])
    final = core.final.result
    skipped = set(core.final.skipped)
    diam_m = index.pipe_diameter[all_pipes] / 1000.0
    length = index.pipe_length[all_pipes]
    source_ids = _sources_in(index, final.region)
    return IsolationPlan(
        id=plan_id, computed_at=computed_at, network_version=index.version,
        broken_pipe_ids=[index.pipe_ids[p] for p in core.broken],
        snapped_point=snapped_point, snap_distance_m=snap_distance_m,
        segment_pipe_ids=_ids(index.pipe_ids, zones[AffectedZone.SEGMENT]),
        segment_node_ids=_ids(index.node_ids, np.sort(g.nodes_of(core.base.region))),
        cut_off_pipe_ids=_ids(index.pipe_ids, zones[AffectedZone.CUT_OFF]),
        cut_off_node_ids=_ids(index.node_ids, np.sort(g.nodes_of(core.base.cut_off))),
        valves_to_close=[
            ValveToClose(valve=valve_action(index, v),
                         fallback=_fallback(index, core, v) if v in core.fallbacks else None)
            for v in final.to_close],
        valves_not_needed=[index.valves[v].id for v in final.not_needed],
        sources_to_shut=source_ids,
        extension=Extension(
            inoperable_valve_ids=[index.valves[v].id for v in core.final.skipped],
            extra_valve_ids=[index.valves[v].id for v in final.to_close
                             if v not in set(core.base.to_close) and v not in skipped],
            extra_pipe_ids=_ids(index.pipe_ids, zones[AffectedZone.EXTENSION]),
            extra_customer_ids=_ids(index.customers.ids, np.sort(ext_cust)),
            not_needed_inoperable_ids=sorted(index.valves[v].id
                                             for v in core.reported - skipped),
            extra_node_ids=sorted(_ids(index.node_ids, g.nodes_of(
                core.final.affected - core.base.region - core.base.cut_off)))),
        customer_count=int(cust.size),
        counts_by_compound=compound_counts(index, cust),
        compounds=sorted(k for k in compound_counts(index, cust)),
        streets=street_names(index, all_pipes, cust),
        bounds=four_bounds(index, all_pipes, cust),
        pipe_length_m=round(float(length.sum()), 2),
        drain_volume_m3=round(float((math.pi / 4 * diam_m**2 * length).sum()), 3),
        supply_options=supply_options(index, final),
    )
