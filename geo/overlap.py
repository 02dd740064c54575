"""Outages at the same time, checked together (Giswater's mincut "conflicts").

Two planned jobs can each isolate cleanly and yet, done at the same time, cut a third
area off: its only supplies ran through the two shut regions. So overlapping outages
are combined: the shut region is the union of their regions (after each one's
inoperable-valve growth), all their valves are closed together, and whatever goes dry
then but is dry in none of them alone is the **conflict**: extra customers who must be
told, and an outage a supervisor must accept knowingly.

Pure functions on a ``NetworkIndex``; one ``isolate_region`` on the union, so the cost
is that of one query.
"""

from __future__ import annotations

from dataclasses import dataclass

from geo.isolation import PlanCore
from geo.network import NetworkIndex
from geo.segments import RegionResult, isolate_region


@dataclass(frozen=True, slots=True)
class CombinedCore:
    """The answer for several plans shut at once (segment and valve indices)."""

    result: RegionResult
    #: segments dry when all are shut together but in none of them alone
    conflict: frozenset[int]

    @property
    def affected(self) -> frozenset[int]:
        return self.result.region | self.result.cut_off


def combine_plans(index: NetworkIndex, cores: list[PlanCore]) -> CombinedCore:
    """Shut every plan's final region at once; the conflict is what only that dries."""
    region: frozenset[int] = frozenset().union(*(c.final.result.region for c in cores))
    alone: frozenset[int] = frozenset().union(*(c.final.affected for c in cores))
    result = isolate_region(index.graph, region)
    return CombinedCore(result=result, conflict=(region | result.cut_off) - alone)


def extra_from(index: NetworkIndex, core: PlanCore, others: list[PlanCore]) -> frozenset[int]:
    """Segments that go dry only because ``core`` joins ``others`` (which already overlap).

    ``others`` may have a conflict among themselves already; that one is not ``core``'s.
    """
    with_it = combine_plans(index, [core, *others]).affected
    without = combine_plans(index, others).affected if others else frozenset()
    return with_it - without - core.final.affected
