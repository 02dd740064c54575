"""The in-memory, precomputed network: ids to indices, segments, pipe locator, customers.

Built once per network version from a validated ``Network`` (O(pipes + valves +
customers)); every isolation query afterwards is lookups on these arrays. Customers are
kept as columns (id, pipe, compound code, street code, metric x/y) grouped by pipe, so
500,000 of them cost tens of megabytes, not Python objects per row.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from geo.crs import Projector, Projectors
from geo.model import (
    ImportIssue,
    IssueSeverity,
    LinkKind,
    Network,
    Source,
    Valve,
    ValveState,
)
from geo.segments import SegmentGraph, build_segment_graph, csr_by
from geo.snapping import PipeLocator, metric_lines
from geo.validation import MAX_PER_CODE

IntArray = npt.NDArray[np.int64]
FloatArray = npt.NDArray[np.float64]


def _codes(values: list[str]) -> tuple[IntArray, list[str]]:
    """Dictionary-encode strings: codes per row and the sorted distinct values."""
    names = sorted(set(values))
    pos = {n: i for i, n in enumerate(names)}
    return np.fromiter((pos[v] for v in values), dtype=np.int64, count=len(values)), names


@dataclass(slots=True)
class Customers:
    ids: list[str]
    pipe: IntArray
    compound: IntArray
    street: IntArray
    compounds: list[str]
    streets: list[str]
    x: FloatArray
    y: FloatArray
    #: rows of pipe p: by_pipe[ptr[p]:ptr[p+1]]
    ptr: IntArray
    by_pipe: IntArray


@dataclass(slots=True)
class NetworkIndex:
    version: int
    projector: Projector
    pipe_ids: list[str]
    pipe_index: dict[str, int]
    pipe_from: IntArray
    pipe_to: IntArray
    pipe_diameter: FloatArray
    pipe_length: FloatArray
    pipe_street: IntArray
    pipe_streets: list[str]
    #: midpoint of each pipe's bounding box, metres (for the four bounds)
    pipe_mx: FloatArray
    pipe_my: FloatArray
    node_ids: list[str]
    node_index: dict[str, int]
    valves: list[Valve]
    valve_index: dict[str, int]
    #: valves stored as inoperable (they will not close)
    inoperable: frozenset[int]
    sources: list[Source]
    graph: SegmentGraph
    locator: PipeLocator
    customers: Customers

    @property
    def lines(self) -> npt.NDArray[np.object_]:
        return self.locator.lines

    def island_issues(self) -> list[ImportIssue]:
        """One error per group of segments with no path to any source (first pipes named)."""
        g = self.graph
        # a closed link is a segment of its own that carries no water by design
        dry = [s for s in range(g.n_segments) if g.pre[s] < 0
               and g.seg_pipe_ptr[s + 1] > g.seg_pipe_ptr[s]
               and not bool(g.pipe_closed[g.seg_pipes[g.seg_pipe_ptr[s]:g.seg_pipe_ptr[s + 1]]]
                            .all())]
        dry_set, issues, done = set(dry), [], set()
        for s in dry:
            if s in done:
                continue
            group, queue = [s], deque([s])
            done.add(s)
            while queue:
                for y in g.adj[queue.popleft()]:
                    if y in dry_set and y not in done:
                        done.add(y)
                        group.append(y)
                        queue.append(y)
            pipes = [self.pipe_ids[i] for i in g.pipes_of(group)[:5].tolist()]
            n = int(sum(g.seg_pipe_ptr[t + 1] - g.seg_pipe_ptr[t] for t in group))
            issues.append(ImportIssue(
                severity=IssueSeverity.ERROR, code="island-without-source", layer="pipes",
                entity_id=pipes[0] if pipes else None,
                message=f"{n} pipe(s) have no path to any source through open valves, "
                        f"e.g. {', '.join(pipes)}"))
            if len(issues) >= MAX_PER_CODE:
                break
        return issues


def network_projector(net: Network, projectors: Projectors) -> Projector:
    """The GK zone of the median node longitude (117E when the network is empty)."""
    lons = [n.lon for n in net.nodes] or [117.0]
    return projectors.for_longitude(float(np.median(lons)))


def build_index(net: Network, version: int, projector: Projector | None = None) -> NetworkIndex:
    """Precompute everything queries need. ``net`` must have passed ``validate_rows``.

    Pass the ``projector`` from a long-lived ``Projectors``: building one costs ~0.5 s.
    """
    pipe_ids = [p.id for p in net.pipes]
    pipe_index = {pid: i for i, pid in enumerate(pipe_ids)}
    node_ids = [n.id for n in net.nodes]
    node_index = {nid: i for i, nid in enumerate(node_ids)}
    if projector is None:
        projector = network_projector(net, Projectors())
    n_p = len(net.pipes)
    pipe_from = np.fromiter((node_index[p.from_node] for p in net.pipes), np.int64, n_p)
    pipe_to = np.fromiter((node_index[p.to_node] for p in net.pipes), np.int64, n_p)
    coords = [p.coords for p in net.pipes]
    flat = np.array([c for cs in coords for c in cs], dtype=np.float64).reshape(-1, 2)
    fx, fy = projector.forward(flat[:, 0], flat[:, 1])
    lines = metric_lines(coords, (fx, fy))
    counts = np.fromiter((len(c) for c in coords), np.int64, n_p)
    starts = np.concatenate(([0], np.cumsum(counts)[:-1])).astype(np.int64)
    pipe_mx = (np.maximum.reduceat(fx, starts) + np.minimum.reduceat(fx, starts)) / 2 \
        if n_p else np.zeros(0)
    pipe_my = (np.maximum.reduceat(fy, starts) + np.minimum.reduceat(fy, starts)) / 2 \
        if n_p else np.zeros(0)
    # pumps and control valves have no length in the ground (nor volume to drain)
    length = np.fromiter((p.length_m if p.kind is LinkKind.PIPE else 0.0 for p in net.pipes),
                         np.float64, n_p)
    street_codes, streets = _codes([p.street for p in net.pipes])

    n_v = len(net.valves)
    valve_pipe = np.fromiter((pipe_index[v.pipe_id] for v in net.valves), np.int64, n_v)
    valve_node = np.fromiter((node_index[v.node_id] for v in net.valves), np.int64, n_v)
    valve_open = np.fromiter((v.state is ValveState.NORMAL_OPEN for v in net.valves), bool, n_v)
    source_nodes = np.fromiter((node_index[s.node_id] for s in net.sources), np.int64,
                               len(net.sources))
    pipe_closed = np.fromiter((p.closed for p in net.pipes), bool, n_p)
    graph = build_segment_graph(len(node_ids), pipe_from, pipe_to, valve_pipe, valve_node,
                                valve_open, source_nodes, pipe_closed)

    conns = net.connections
    n_c = len(conns)
    c_pipe = np.fromiter((pipe_index[c.pipe_id] for c in conns), np.int64, n_c)
    c_comp, compounds = _codes([c.compound for c in conns])
    c_street, c_streets = _codes([c.street for c in conns])
    cx, cy = projector.forward(np.fromiter((c.lon for c in conns), np.float64, n_c),
                               np.fromiter((c.lat for c in conns), np.float64, n_c))
    ptr, by_pipe = csr_by(c_pipe, n_p)
    customers = Customers(ids=[c.customer_id for c in conns], pipe=c_pipe, compound=c_comp,
                          street=c_street, compounds=compounds, streets=c_streets, x=cx, y=cy,
                          ptr=ptr, by_pipe=by_pipe)
    return NetworkIndex(
        version=version, projector=projector, pipe_ids=pipe_ids, pipe_index=pipe_index,
        pipe_from=pipe_from, pipe_to=pipe_to,
        pipe_diameter=np.fromiter((p.diameter_mm for p in net.pipes), np.float64, n_p),
        pipe_length=length, pipe_street=street_codes, pipe_streets=streets,
        pipe_mx=pipe_mx, pipe_my=pipe_my, node_ids=node_ids, node_index=node_index,
        valves=list(net.valves), valve_index={v.id: i for i, v in enumerate(net.valves)},
        inoperable=frozenset(i for i, v in enumerate(net.valves) if not v.operable),
        sources=list(net.sources), graph=graph, locator=PipeLocator(lines), customers=customers,
    )
