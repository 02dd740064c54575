"""Valve segments and the segment graph: pure functions on integer arrays, no I/O.

A **segment** is what stays connected when every isolation valve is a cut at its
(pipe, node) position: pipe ``p`` is joined to its end node ``n`` unless a valve sits at
``(p, n)``. Segments are the connected components of that pipe/node incidence graph
(``scipy.sparse.csgraph.connected_components``, linear). A node whose every pipe is
valved next to it is a segment of its own (the cross of valves at a junction).

The **segment graph** has one vertex per segment, one edge per normally-open valve
joining two different segments, and a virtual root joined to every segment holding a
source. A valve with both sides in one segment (a loop goes round it) is never an edge:
closing it isolates nothing. Normally-closed valves are no edges at all: water never
passes them. A closed link (EPANET status CLOSED) is cut at both ends, so it is a segment
of its own that no valve joins to anything: a normally-closed boundary between its two
end nodes, whatever isolation valves a GIS layer puts on it.

``isolate_region(R)`` answers "which segments lose every path to a source when the
segments in R are shut off": one depth-first search at build time gives pre-order,
subtree sizes and low points; a query then searches only from R's neighbours and stops
as soon as a vertex is *certified* connected (its DFS-tree path to the root avoids R, or
its subtree hangs from R by a back edge above R). For one segment this is exact
articulation logic, so a query costs time proportional to its answer, not to the network.
"""

from __future__ import annotations

from bisect import bisect_right
from collections import deque
from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components

IntArray = npt.NDArray[np.int64]


@dataclass(frozen=True, slots=True)
class RegionResult:
    """The answer for a shut-off region R (segment indices)."""

    region: frozenset[int]
    #: segments outside R that lose every path to a source
    cut_off: frozenset[int]
    #: open border valves with water behind them (valve indices)
    to_close: tuple[int, ...]
    #: open border valves whose far side runs dry anyway
    not_needed: tuple[int, ...]


@dataclass(slots=True)
class SegmentGraph:
    n_segments: int
    pipe_segment: IntArray
    node_segment: IntArray
    #: CSR: pipes of segment s are seg_pipes[seg_pipe_ptr[s]:seg_pipe_ptr[s+1]]
    seg_pipe_ptr: IntArray
    seg_pipes: IntArray
    seg_node_ptr: IntArray
    seg_nodes: IntArray
    #: per valve: segment on the pipe side, segment on the node side
    valve_pipe_side: IntArray
    valve_node_side: IntArray
    valve_open: npt.NDArray[np.bool_]
    is_source: list[bool]
    #: per pipe: a closed link (a normally-closed boundary, its own segment)
    pipe_closed: npt.NDArray[np.bool_]
    #: adjacency by open valves: neighbour segments and the valve of each edge
    adj: list[list[int]]
    adj_valve: list[list[int]]
    pre: list[int] = field(default_factory=list)
    size: list[int] = field(default_factory=list)
    low: list[int] = field(default_factory=list)
    order: list[int] = field(default_factory=list)
    children_pre: list[list[int]] = field(default_factory=list)
    #: pre-order number and subtree size in a breadth-first tree from the root
    bfs_pre: list[int] = field(default_factory=list)
    bfs_size: list[int] = field(default_factory=list)

    @property
    def root(self) -> int:
        return self.n_segments

    def reachable(self) -> npt.NDArray[np.bool_]:
        """Segments with a path to a source through open valves (before any closing)."""
        return np.array([p >= 0 for p in self.pre[: self.n_segments]], dtype=bool)

    def far_side(self, valve: int, region: frozenset[int] | set[int]) -> int:
        a, b = int(self.valve_pipe_side[valve]), int(self.valve_node_side[valve])
        return b if a in region else a

    def pipes_of(self, segments: list[int] | frozenset[int]) -> IntArray:
        return gather_ranges(self.seg_pipe_ptr, self.seg_pipes, np.fromiter(segments, np.int64))

    def nodes_of(self, segments: list[int] | frozenset[int]) -> IntArray:
        return gather_ranges(self.seg_node_ptr, self.seg_nodes, np.fromiter(segments, np.int64))


def gather_ranges(ptr: IntArray, values: IntArray, rows: IntArray) -> IntArray:
    """Concatenate ``values[ptr[r]:ptr[r+1]]`` for every r in ``rows``, vectorised."""
    if rows.size == 0:
        return np.zeros(0, dtype=np.int64)
    starts = ptr[rows]
    lens = ptr[rows + 1] - starts
    total = int(lens.sum())
    if total == 0:
        return np.zeros(0, dtype=np.int64)
    shift = np.repeat(starts - (np.cumsum(lens) - lens), lens)
    return np.asarray(values[shift + np.arange(total)], dtype=np.int64)


def csr_by(keys: IntArray, n_keys: int) -> tuple[IntArray, IntArray]:
    """Group row numbers by key: (ptr, rows) with rows of key k at rows[ptr[k]:ptr[k+1]]."""
    order = np.argsort(keys, kind="stable").astype(np.int64)
    counts = np.bincount(keys, minlength=n_keys)
    ptr = np.concatenate(([0], np.cumsum(counts))).astype(np.int64)
    return ptr, order


def build_segment_graph(n_nodes: int, pipe_from: IntArray, pipe_to: IntArray,
                        valve_pipe: IntArray, valve_node: IntArray,
                        valve_open: npt.NDArray[np.bool_], source_nodes: IntArray,
                        pipe_closed: npt.NDArray[np.bool_] | None = None) -> SegmentGraph:
    """Segments, segment graph and its DFS structure. Valves must sit at an end of their pipe.

    ``pipe_closed`` marks closed links: cut at both ends, and valves on them are no edges.
    Complexity O(nodes + pipes + valves), the DFS in Python over segments only.
    """
    n_pipes = int(pipe_from.size)
    closed = np.zeros(n_pipes, dtype=bool) if pipe_closed is None else pipe_closed.astype(bool)
    cut_from = closed.copy()
    cut_to = closed.copy()
    at_from = pipe_from[valve_pipe] == valve_node
    cut_from[valve_pipe[at_from]] = True
    cut_to[valve_pipe[~at_from]] = True
    pipe_vertex = n_nodes + np.arange(n_pipes, dtype=np.int64)
    rows = np.concatenate([pipe_vertex[~cut_from], pipe_vertex[~cut_to]])
    cols = np.concatenate([pipe_from[~cut_from], pipe_to[~cut_to]])
    n_vertices = n_nodes + n_pipes
    graph = coo_matrix((np.ones(rows.size, dtype=np.int8), (rows, cols)),
                       shape=(n_vertices, n_vertices)).tocsr()
    n_seg, labels32 = connected_components(graph, directed=False)
    labels = labels32.astype(np.int64)
    node_segment = labels[:n_nodes]
    pipe_segment = labels[n_nodes:]
    seg_pipe_ptr, seg_pipes = csr_by(pipe_segment, n_seg)
    seg_node_ptr, seg_nodes = csr_by(node_segment, n_seg)
    v_pipe_side = pipe_segment[valve_pipe]
    v_node_side = node_segment[valve_node]

    adj: list[list[int]] = [[] for _ in range(n_seg + 1)]
    adj_valve: list[list[int]] = [[] for _ in range(n_seg + 1)]
    edge = np.flatnonzero(valve_open & (v_pipe_side != v_node_side) & ~closed[valve_pipe])
    for v, a, b in zip(edge.tolist(), v_pipe_side[edge].tolist(), v_node_side[edge].tolist(),
                       strict=True):
        adj[a].append(b)
        adj_valve[a].append(v)
        adj[b].append(a)
        adj_valve[b].append(v)
    is_source = [False] * n_seg
    for s in set(node_segment[source_nodes].tolist()):
        is_source[s] = True
        adj[n_seg].append(s)
        adj[s].append(n_seg)
        adj_valve[n_seg].append(-1)
        adj_valve[s].append(-1)
    g = SegmentGraph(
        n_segments=int(n_seg), pipe_segment=pipe_segment, node_segment=node_segment,
        seg_pipe_ptr=seg_pipe_ptr, seg_pipes=seg_pipes, seg_node_ptr=seg_node_ptr,
        seg_nodes=seg_nodes, valve_pipe_side=v_pipe_side, valve_node_side=v_node_side,
        valve_open=valve_open.astype(bool), is_source=is_source, pipe_closed=closed,
        adj=adj, adj_valve=adj_valve,
    )
    _depth_first(g)
    _breadth_first_tree(g)
    return g


def _breadth_first_tree(g: SegmentGraph) -> None:
    """A shortest-path tree from the root, numbered in pre-order (subtree = one range).

    Its paths are short and spread sideways, so "my tree path avoids R" certifies most
    vertices near R even when R sits high in the (deep) DFS tree.
    """
    n = g.n_segments + 1
    parent = [-1] * n
    parent[g.root] = g.root
    order = [g.root]
    queue = deque([g.root])
    children: list[list[int]] = [[] for _ in range(n)]
    while queue:
        v = queue.popleft()
        for w in g.adj[v]:
            if parent[w] < 0:
                parent[w] = v
                children[v].append(w)
                queue.append(w)
                order.append(w)
    pre = [-1] * n
    size = [1] * n
    counter = 0
    stack = [g.root]
    while stack:
        v = stack.pop()
        pre[v] = counter
        counter += 1
        stack.extend(reversed(children[v]))
    for v in reversed(order):
        p = parent[v]
        if p != v:
            size[p] += size[v]
    g.bfs_pre, g.bfs_size = pre, size


def _depth_first(g: SegmentGraph) -> None:
    """Iterative DFS from the root: pre-order number, subtree size, low point, children."""
    n = g.n_segments + 1
    adj = g.adj
    pre = [-1] * n
    low = [0] * n
    parent = [-1] * n
    size = [1] * n
    it = [0] * n
    children: list[list[int]] = [[] for _ in range(n)]
    order: list[int] = [g.root]
    pre[g.root] = 0
    counter = 1
    stack = [g.root]
    while stack:
        v = stack[-1]
        nbrs = adj[v]
        i = it[v]
        if i < len(nbrs):
            it[v] = i + 1
            w = nbrs[i]
            if pre[w] < 0:
                parent[w] = v
                pre[w] = low[w] = counter
                counter += 1
                order.append(w)
                children[v].append(counter - 1)
                stack.append(w)
            elif w != parent[v] and pre[w] < low[v]:
                low[v] = pre[w]
        else:
            stack.pop()
            p = parent[v]
            if p >= 0:
                if low[v] < low[p]:
                    low[p] = low[v]
                size[p] += size[v]
    g.pre, g.low, g.size, g.order, g.children_pre = pre, low, size, order, children


class _Certifier:
    """Decides cheaply that a segment keeps a path to the root once R is removed."""

    def __init__(self, g: SegmentGraph, region: frozenset[int]) -> None:
        self.g = g
        self.region = region
        self.spans = [(g.pre[r], g.pre[r] + g.size[r], r) for r in region]
        self.bfs_spans = [(g.bfs_pre[r], g.bfs_pre[r] + g.bfs_size[r]) for r in region]

    def _r_ancestor(self, p: int) -> int:
        """The deepest R vertex whose subtree holds pre-order number p, or -1."""
        best, best_pre = -1, -1
        for lo, hi, r in self.spans:
            if lo <= p < hi and lo > best_pre:
                best, best_pre = r, lo
        return best

    def safe(self, x: int) -> bool:
        g = self.g
        bx = g.bfs_pre[x]
        if not any(lo <= bx < hi for lo, hi in self.bfs_spans):
            return True  # the breadth-first tree path to the root avoids R
        px = g.pre[x]
        anc = self._r_ancestor(px)
        if anc < 0:
            return True  # the tree path to the root avoids R
        kids = g.children_pre[anc]
        c_pre = kids[bisect_right(kids, px) - 1]
        c = g.order[c_pre]
        c_end = c_pre + g.size[c]
        if any(c_pre <= lo < c_end for lo, _hi, _r in self.spans):
            return False  # R inside this subtree: not decidable here, keep searching
        top = g.low[c]
        return top < g.pre[anc] and self._r_ancestor(top) < 0 and g.order[top] not in self.region


#: vertices a local search may visit before the exact whole-graph search takes over
SEARCH_BUDGET = 5_000


def isolate_region(g: SegmentGraph, region: frozenset[int],
                   budget: int = SEARCH_BUDGET) -> RegionResult:
    """Cut-off segments and the valves to close when every segment in ``region`` is shut.

    Exact. Local searches from R's neighbours stop at the first certified vertex; if they
    visit more than ``budget`` vertices (a huge cut-off, or an undecided separation
    pair), one plain search from the root over the whole graph decides instead.
    """
    cert = _Certifier(g, region)
    status: dict[int, bool] = {}
    border: list[tuple[int, int]] = []
    root = g.root
    for r in region:
        for w, v in zip(g.adj[r], g.adj_valve[r], strict=True):
            if w != root and w not in region:
                border.append((v, w))
    for _v, w in border:
        if w in status:
            continue
        seen = {w}
        queue = deque([w])
        safe = False
        while queue and not safe:
            x = queue.popleft()
            if g.is_source[x] or cert.safe(x):
                safe = True
                break
            for y in g.adj[x]:
                if y == root or y in region or y in seen:
                    continue
                if status.get(y):
                    # y's component was already found connected: so is this one
                    safe = True
                    break
                seen.add(y)
                queue.append(y)
        for s in seen:
            status[s] = safe
        if len(status) > budget:
            cut_all = brute_force_cut_off(g, region)
            status = {w2: w2 not in cut_all for _v2, w2 in border}
            status.update(dict.fromkeys(cut_all, False))
            break
    to_close = sorted({v for v, w in border if status[w]})
    not_needed = sorted({v for v, w in border if not status[w]} - set(to_close))
    cut = frozenset(s for s, ok in status.items() if not ok)
    return RegionResult(region=region, cut_off=cut, to_close=tuple(to_close),
                        not_needed=tuple(not_needed))


def brute_force_cut_off(g: SegmentGraph, region: frozenset[int]) -> frozenset[int]:
    """Reference answer by plain BFS from the root over the whole graph (tests, bench)."""
    seen = {g.root}
    queue = deque([g.root])
    while queue:
        x = queue.popleft()
        for y in g.adj[x]:
            if y not in seen and y not in region:
                seen.add(y)
                queue.append(y)
    return frozenset(s for s in range(g.n_segments) if s not in seen and s not in region
                     and g.pre[s] >= 0)
