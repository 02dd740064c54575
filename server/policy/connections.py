"""The connection service's limits (用水报装 / 接水) as profile data, by project type.

The sources set the connection limits differently from the other rules: KF Table 1 gives
one total per *project type* (from acceptance to water on), with ranges ("0.5-6 个工作日")
the utility narrows by pipe size and length; JN 5.3 gives fast connection 5 days and JN 15
the return visit 3 working days after the meter is fitted; KF 二.3 lets documents be missing
at acceptance (容缺受理) if completed within 5 days; JM §6 gives the handling unit 5
working days to report back. So a profile's ``[connections]`` table holds: acceptance
limits by channel, default stage limits, and per project type its documents, its total
and any stage limits of its own. A stage with no limit of its own is due when the whole
connection is due (it has to be done by then anyway).

This module is standalone (units as plain strings checked against the policy's clock
names) so ``server.policy.model`` can embed it without an import cycle.
"""

from __future__ import annotations

from typing import Final, Literal

import msgspec

#: the clocks a connection limit may count on (the names of ``TimeUnit``)
Unit = Literal["minutes", "hours", "days", "working_hours", "working_days"]
#: what the stage clocks do while documents accepted as missing are outstanding
MissingDocumentsClock = Literal["runs", "waits"]

#: the stages that carry a clock, in the order a connection passes them
STAGES: Final = ("acceptance", "documents", "survey", "design", "construction",
                 "meter_fitting", "water_on", "return_visit")
CHANNELS: Final = ("counter", "online", "hotline")


class ConnectionLimit(msgspec.Struct, frozen=True, kw_only=True):
    """One limit: ``limit`` (for a range its lower end, ``limit_max`` its upper end)."""

    limit: float
    limit_max: float | None = None
    unit: Unit
    clause: str
    title: str = ""
    source: str = ""

    @property
    def upper(self) -> float:
        """The promise that must not be broken: the upper end of a range."""
        return self.limit if self.limit_max is None else self.limit_max


class SizeBand(msgspec.Struct, frozen=True, kw_only=True):
    """One row of a utility's table that narrows a type's range by project size.

    KF 表1 gives a range ("0.5-6 个工作日") and says the utility sets the value "依据不同
    管网口径和管线长度" (by pipe diameter and line length) without publishing the table, so
    the rows are the profile's own data. A project fits a band when its service diameter
    is at most ``max_dn_mm`` and its external line at most ``max_line_m`` (a bound left
    out always fits; a line bound needs a known length). The first band that fits wins.
    """

    max_dn_mm: int | None = None
    max_line_m: float | None = None
    #: the limit inside the type's range, in the range's unit
    limit: float
    clause: str

    def fits(self, dn_mm: int | None, line_m: float | None) -> bool:
        if self.max_dn_mm is not None and (dn_mm is None or dn_mm > self.max_dn_mm):
            return False
        return self.max_line_m is None or (line_m is not None and line_m <= self.max_line_m)

    def describe(self) -> str:
        parts = ([f"DN ≤ {self.max_dn_mm}"] if self.max_dn_mm is not None else []) + \
            ([f"line ≤ {self.max_line_m:g} m"] if self.max_line_m is not None else [])
        return ", ".join(parts) or "any size"


class ProjectTypePolicy(msgspec.Struct, frozen=True, kw_only=True):
    title: str
    #: 有外线工程: pipes laid outside the plot (road opening, trench, main tie-in)
    external_works: bool = True
    #: "零资料": the customer hands in nothing; the utility gets what it needs itself
    zero_documents: bool = True
    #: the documents an application of this type needs when it is not zero-documents
    documents: list[str] = msgspec.field(default_factory=list)
    #: the whole service, acceptance to water on (KF 表1 "受理后…接入时限")
    total: ConnectionLimit
    #: stage -> this type's own limit (overrides the profile's default for the stage)
    stages: dict[str, ConnectionLimit] = msgspec.field(default_factory=dict)
    #: smallest main (DN, mm) the survey looks for as the tie-in
    min_main_dn_mm: int = 100
    #: the range narrowed by project size, first fitting band wins (none: the upper end)
    size_bands: list[SizeBand] = msgspec.field(default_factory=list)

    def __post_init__(self) -> None:
        for band in self.size_bands:
            if self.total.limit_max is None:
                raise ValueError(f"{self.title}: size bands narrow a range, and the total "
                                 f"({self.total.limit:g}) is not one")
            if not self.total.limit <= band.limit <= self.total.upper:
                raise ValueError(f"{self.title}: size band {band.describe()} limit "
                                 f"{band.limit:g} lies outside the total's range "
                                 f"{self.total.limit:g}-{self.total.upper:g}")

    def size_band(self, dn_mm: int | None, line_m: float | None) -> SizeBand | None:
        """The band a project of this size falls in (None: no band fits, or none set)."""
        return next((b for b in self.size_bands if b.fits(dn_mm, line_m)), None)


class ConnectionPolicy(msgspec.Struct, frozen=True, kw_only=True):
    #: channel -> acceptance limit from the application (KF 图3: counter at once, online 0.25)
    acceptance: dict[str, ConnectionLimit] = msgspec.field(default_factory=dict)
    #: documents accepted as missing must be completed within this (KF 二.3, ZJ 容缺受理)
    documents: ConnectionLimit | None = None
    #: whether documents may be missing at acceptance at all (容缺受理)
    accept_missing_documents: bool = True
    #: ``runs``: the stage clocks run from acceptance; ``waits``: they start when the
    #: documents are complete (ZJ: the promise holds "在申请材料有效齐全时")
    missing_documents_clock: MissingDocumentsClock = "runs"
    #: stage -> default limit for every project type
    stages: dict[str, ConnectionLimit] = msgspec.field(default_factory=dict)
    types: dict[str, ProjectTypePolicy] = msgspec.field(default_factory=dict)
    #: where the two settings above come from (shown in docs/rules.md)
    clauses: dict[str, str] = msgspec.field(default_factory=dict)

    def stage_limit(self, project_type: str, stage: str) -> ConnectionLimit | None:
        """The limit of ``stage`` for ``project_type`` (its own, else the default)."""
        own = self.types[project_type].stages.get(stage)
        return own if own is not None else self.stages.get(stage)


_NOMINAL_H: Final = {"minutes": 1 / 60, "hours": 1.0, "days": 24.0,
                     "working_hours": 1.0, "working_days": 24.0}


def nominal_hours(limit: ConnectionLimit) -> float:
    """The upper limit in hours, counting working units as calendar ones (comparison only)."""
    return limit.upper * _NOMINAL_H[limit.unit]


def _stricter(a: ConnectionLimit | None, b: ConnectionLimit | None) -> ConnectionLimit | None:
    if a is None or b is None:
        return a or b
    if nominal_hours(a) != nominal_hours(b):
        return a if nominal_hours(a) < nominal_hours(b) else b
    # same length: calendar time is stricter than working time
    return a if not a.unit.startswith("working") else b


def _stricter_map(maps: list[dict[str, ConnectionLimit]]) -> dict[str, ConnectionLimit]:
    out: dict[str, ConnectionLimit] = {}
    for m in maps:
        for key, limit in m.items():
            best = _stricter(out.get(key), limit)
            assert best is not None  # noqa: S101 - limit is not None
            out[key] = best
    return out


def strictest_connections(policies: list[ConnectionPolicy]) -> ConnectionPolicy:
    """The strictest value of each connection limit across ``policies``.

    Zero documents wins over documents (less asked of the customer); a clock that runs
    while documents are missing is stricter than one that waits.
    """
    if not policies:
        return ConnectionPolicy()
    names = sorted({t for p in policies for t in p.types})
    types: dict[str, ProjectTypePolicy] = {}
    for name in names:
        variants = [p.types[name] for p in policies if name in p.types]
        total = variants[0].total
        for v in variants[1:]:
            total = _stricter(total, v.total) or total
        # the size bands go with the total they narrow
        bands = next((v.size_bands for v in variants if v.total == total), [])
        types[name] = msgspec.structs.replace(
            variants[0], total=total, size_bands=list(bands),
            zero_documents=any(v.zero_documents for v in variants),
            documents=[] if any(v.zero_documents for v in variants) else variants[0].documents,
            stages=_stricter_map([v.stages for v in variants]))
    documents = None
    for p in policies:
        documents = _stricter(documents, p.documents)
    return ConnectionPolicy(
        acceptance=_stricter_map([p.acceptance for p in policies]),
        documents=documents,
        accept_missing_documents=all(p.accept_missing_documents for p in policies),
        missing_documents_clock="runs" if any(p.missing_documents_clock == "runs"
                                              for p in policies) else "waits",
        stages=_stricter_map([p.stages for p in policies]),
        types=types,
        clauses=dict(policies[0].clauses))
