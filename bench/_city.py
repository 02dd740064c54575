"""A deterministic synthetic city: a street grid of pipes with valves, plants and customers.

Nodes sit on a square grid (about 100 m apart) near Jinan. Pipes follow the grid: a
random spanning tree keeps everything connected, and most of the other grid edges are
added back as loops, so there are meshes and dead ends. Each pipe end gets a valve with
some probability, a few are normally closed or known broken. Four plants feed the grid.
Customers hang off random pipes, grouped into compounds by block, on named streets.
"""

from __future__ import annotations

import math
import random

from geo.model import (
    Network,
    Node,
    NodeKind,
    Pipe,
    ServiceConnection,
    Source,
    SourceKind,
    Valve,
    ValveState,
)

ORIGIN_LON = 116.9
ORIGIN_LAT = 36.6
STEP_LAT = 0.0009  # ~100 m
STEP_LON = 0.0009 / math.cos(math.radians(ORIGIN_LAT))


def _find(parent: list[int], i: int) -> int:
    while parent[i] != i:
        parent[i] = parent[parent[i]]
        i = parent[i]
    return i


def synthetic_city(n_pipes: int, n_customers: int, seed: int = 7, *,
                   valve_rate: float = 0.7, loop_rate: float = 0.8) -> Network:
    """About ``n_pipes`` pipes (exactly the grid edges kept) and ``n_customers`` customers."""
    rng = random.Random(seed)
    # grid edges ~ 2 * side^2 * (tree + loop_rate * rest) -> pick the side for n_pipes
    side = max(3, int(math.sqrt(n_pipes / (1.0 + loop_rate) + 1)))
    n_nodes = side * side

    def nid(r: int, c: int) -> int:
        return r * side + c

    edges = [(nid(r, c), nid(r, c + 1), r, True) for r in range(side) for c in range(side - 1)]
    edges += [(nid(r, c), nid(r + 1, c), c, False) for r in range(side - 1) for c in range(side)]
    rng.shuffle(edges)
    parent = list(range(n_nodes))
    tree, rest = [], []
    for e in edges:
        a, b = _find(parent, e[0]), _find(parent, e[1])
        if a != b:
            parent[a] = b
            tree.append(e)
        else:
            rest.append(e)
    kept = tree + [e for e in rest if rng.random() < loop_rate]
    kept = kept[: max(n_pipes, len(tree))]

    nodes = [Node(id=f"N{i}", lon=ORIGIN_LON + (i % side) * STEP_LON,
                  lat=ORIGIN_LAT + (i // side) * STEP_LAT) for i in range(n_nodes)]
    plants = {nid(0, 0), nid(side - 1, side - 1), nid(0, side - 1), nid(side // 2, side // 2)}
    nodes = [Node(id=n.id, lon=n.lon, lat=n.lat, kind=NodeKind.SOURCE) if i in plants else n
             for i, n in enumerate(nodes)]
    pipes: list[Pipe] = []
    at_node: list[list[int]] = [[] for _ in range(n_nodes)]
    for k, (a, b, line, horizontal) in enumerate(kept):
        na, nb = nodes[a], nodes[b]
        street = f"纬{line}路" if horizontal else f"经{line}路"
        pipes.append(Pipe(id=f"P{k}", from_node=na.id, to_node=nb.id,
                          diameter_mm=rng.choice((100, 150, 200, 200, 300, 400, 600)),
                          coords=[(na.lon, na.lat), (nb.lon, nb.lat)], material="DI",
                          install_year=rng.randint(1970, 2024), street=street))
        at_node[a].append(k)
        at_node[b].append(k)
    # the usual rule: at a junction of n pipes, valves on n - 1 of them (some missing)
    valves: list[Valve] = []
    for i, ks in enumerate(at_node):
        node = nodes[i]
        for k in ks[1:]:
            if rng.random() > valve_rate:
                continue
            p = pipes[k]
            far = p.coords[1] if p.from_node == node.id else p.coords[0]
            roll = rng.random()
            valves.append(Valve(
                id=f"V{len(valves)}", pipe_id=p.id, node_id=node.id,
                lon=node.lon + (far[0] - node.lon) * 0.05,
                lat=node.lat + (far[1] - node.lat) * 0.05,
                # normally closed: loop pipes, from end only, so a zone border never makes an island
                state=ValveState.NORMAL_CLOSED if roll < 0.01 and k >= len(tree)
                and p.from_node == node.id
                else ValveState.NORMAL_OPEN,
                operable=roll > 0.08, diameter_mm=p.diameter_mm))
    sources = [Source(id=f"plant-{i}", node_id=f"N{i}", kind=SourceKind.PLANT,
                      name=f"No. {k + 1} plant") for k, i in enumerate(sorted(plants))]
    conns: list[ServiceConnection] = []
    for k in range(n_customers):
        p = pipes[rng.randrange(len(pipes))]
        (ax, ay), (bx, by) = p.coords
        t = rng.random()
        lon = ax + (bx - ax) * t + rng.uniform(-1, 1) * STEP_LON * 0.15
        lat = ay + (by - ay) * t + rng.uniform(-1, 1) * STEP_LAT * 0.15
        row, col = int((lat - ORIGIN_LAT) / STEP_LAT) // 4, int((lon - ORIGIN_LON) / STEP_LON) // 4
        block = f"{row}-{col}"
        conns.append(ServiceConnection(customer_id=f"C{k:07d}", pipe_id=p.id, lon=lon, lat=lat,
                                       address=f"{k % 40 + 1}号楼 {p.street}",
                                       compound=f"{block}小区", street=p.street))
    return Network(nodes=nodes, pipes=pipes, valves=valves, sources=sources, connections=conns)
