"""Row-level checks of a network before any analysis: every problem located and named.

The tools this replaces failed with "no inlet configured" or silently dropped duplicate
valve rows. Here every bad row is an ``ImportIssue`` naming its layer and id: duplicate
ids, pipes to unknown nodes, valves on unknown pipes or at a node that is not an end of
their pipe, two valves at one position, sources at unknown nodes, connections to unknown
pipes. Islands without a source need the segment graph and are found by
``geo.network.NetworkIndex.island_issues``.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from typing import Final

from geo.model import ImportIssue, IssueSeverity, Network

#: an error answer lists at most this many issues of one code, plus a summary counting the
#: rest (warnings are never capped: the import report keeps every one, paged)
MAX_PER_CODE: Final = 50


def _err(code: str, message: str, layer: str, entity_id: str | None = None) -> ImportIssue:
    return ImportIssue(severity=IssueSeverity.ERROR, code=code, message=message, layer=layer,
                       entity_id=entity_id)


def _warn(code: str, message: str, layer: str, entity_id: str | None = None) -> ImportIssue:
    return ImportIssue(severity=IssueSeverity.WARNING, code=code, message=message, layer=layer,
                       entity_id=entity_id)


def _duplicates(ids: Iterable[str], layer: str) -> list[ImportIssue]:
    counts = Counter(ids)
    return [_err("duplicate-id", f"{layer} id {i!r} appears {n} times", layer, i)
            for i, n in counts.items() if n > 1]


def cap_issues(issues: list[ImportIssue]) -> list[ImportIssue]:
    """The first MAX_PER_CODE issues of each code, plus one line per code counting the rest.

    The summary line keeps the severity, layer and code of the issues it stands for, so a
    count of warnings is never read as an error.
    """
    kept: list[ImportIssue] = []
    seen: Counter[str] = Counter()
    first: dict[str, ImportIssue] = {}
    for issue in issues:
        seen[issue.code] += 1
        first.setdefault(issue.code, issue)
        if seen[issue.code] <= MAX_PER_CODE:
            kept.append(issue)
    for code, n in seen.items():
        if n > MAX_PER_CODE:
            f = first[code]
            kept.append(ImportIssue(severity=f.severity, code=code, layer=f.layer,
                                    message=f"... and {n - MAX_PER_CODE} more {code} "
                                            f"{f.severity}s"))
    return kept


def validate_rows(net: Network) -> list[ImportIssue]:
    """Every row-level problem of ``net``, uncapped (errors block the import, warnings are
    reported in full)."""
    issues: list[ImportIssue] = []
    issues += _duplicates((n.id for n in net.nodes), "nodes")
    issues += _duplicates((p.id for p in net.pipes), "pipes")
    issues += _duplicates((v.id for v in net.valves), "valves")
    issues += _duplicates((h.id for h in net.hydrants), "hydrants")
    issues += _duplicates((s.id for s in net.sources), "sources")
    issues += _duplicates((c.customer_id for c in net.connections), "service_connections")
    nodes = {n.id for n in net.nodes}
    ends: dict[str, tuple[str, str]] = {}
    for p in net.pipes:
        ends[p.id] = (p.from_node, p.to_node)
        for n in (p.from_node, p.to_node):
            if n not in nodes:
                issues.append(_err("pipe-unknown-node", f"pipe {p.id} refers to unknown node {n}",
                                   "pipes", p.id))
        if p.from_node == p.to_node:
            issues.append(_err("pipe-self-loop", f"pipe {p.id} starts and ends at node "
                               f"{p.from_node}", "pipes", p.id))
        if len(p.coords) < 2:
            issues.append(_err("pipe-geometry", f"pipe {p.id} has fewer than two positions",
                               "pipes", p.id))
    positions: dict[tuple[str, str], str] = {}
    for v in net.valves:
        if v.pipe_id not in ends:
            issues.append(_err("valve-unknown-pipe", f"valve {v.id} is on unknown pipe "
                               f"{v.pipe_id or '(none)'}", "valves", v.id))
            continue
        if v.node_id not in ends[v.pipe_id]:
            a, b = ends[v.pipe_id]
            issues.append(_err("valve-node-not-pipe-end",
                               f"valve {v.id} is at node {v.node_id or '(none)'}, which is not an "
                               f"end of its pipe {v.pipe_id} ({a}, {b})", "valves", v.id))
            continue
        other = positions.setdefault((v.pipe_id, v.node_id), v.id)
        if other != v.id:
            issues.append(_err("valve-duplicate-position",
                               f"valves {other} and {v.id} both sit on pipe {v.pipe_id} next to "
                               f"node {v.node_id}", "valves", v.id))
    for s in net.sources:
        if s.node_id not in nodes:
            issues.append(_err("source-unknown-node", f"source {s.id} is at unknown node "
                               f"{s.node_id or '(none)'}", "sources", s.id))
    if net.pipes and not net.sources:
        issues.append(_err("no-source", "the network has no source (plant, reservoir or tank)",
                           "sources"))
    for c in net.connections:
        if c.pipe_id not in ends:
            issues.append(_err("connection-unknown-pipe",
                               f"customer {c.customer_id} is connected to unknown pipe "
                               f"{c.pipe_id or '(none)'}", "service_connections", c.customer_id))
    for h in net.hydrants:
        if h.pipe_id and h.pipe_id not in ends:
            issues.append(_warn("hydrant-unknown-pipe",
                                f"hydrant {h.id} names unknown pipe {h.pipe_id}", "hydrants", h.id))
    return issues
