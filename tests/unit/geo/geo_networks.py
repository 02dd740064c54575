"""Hand-made networks for geo tests: nodes on a small grid near Jinan (117E, 36.65N)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from geo.crs import Projector
from geo.model import Network, Node, NodeKind, Pipe, ServiceConnection, Source, Valve, ValveState

#: one projector for every test network (PROJ takes ~0.2 s to build a transformer)
PROJECTOR = Projector(4548)
#: about 90 m per 0.001 degree here
ORIGIN_LON = 117.0
ORIGIN_LAT = 36.65
STEP = 0.001


def node_at(node_id: str, x: float, y: float, kind: NodeKind = NodeKind.JUNCTION) -> Node:
    return Node(id=node_id, lon=ORIGIN_LON + x * STEP, lat=ORIGIN_LAT + y * STEP, kind=kind)


def build(
    nodes: dict[str, tuple[float, float]],
    pipes: Sequence[tuple[str, str, str]],
    valves: Sequence[tuple[str, str, str]] = (),
    sources: Iterable[str] = (),
    *,
    customers_per_pipe: int = 1,
    closed: Iterable[str] = (),
    broken: Iterable[str] = (),
    diameter_mm: float = 200.0,
) -> Network:
    """A network from ``{node: (x, y)}``, ``(pipe, from, to)`` and ``(valve, pipe, node)``.

    Each pipe gets ``customers_per_pipe`` customers named ``c-<pipe>-<k>`` in compound
    ``compound-<pipe>`` on ``street-<pipe>``.
    """
    closed, broken = set(closed), set(broken)
    source_set = set(sources)
    node_objs = {
        n: node_at(n, x, y, NodeKind.RESERVOIR if n in source_set else NodeKind.JUNCTION)
        for n, (x, y) in nodes.items()
    }
    pipe_objs = [
        Pipe(id=p, from_node=a, to_node=b, diameter_mm=diameter_mm,
             coords=[(node_objs[a].lon, node_objs[a].lat), (node_objs[b].lon, node_objs[b].lat)],
             length_m=100.0, street=f"street-{p}")
        for p, a, b in pipes
    ]
    valve_objs = [
        Valve(id=v, pipe_id=p, node_id=n, lon=node_objs[n].lon, lat=node_objs[n].lat,
              state=ValveState.NORMAL_CLOSED if v in closed else ValveState.NORMAL_OPEN,
              operable=v not in broken, diameter_mm=diameter_mm)
        for v, p, n in valves
    ]
    conns = []
    for p in pipe_objs:
        (ax, ay), (bx, by) = p.coords[0], p.coords[-1]
        for k in range(customers_per_pipe):
            t = (k + 1) / (customers_per_pipe + 1)
            conns.append(ServiceConnection(
                customer_id=f"c-{p.id}-{k}", pipe_id=p.id, lon=ax + (bx - ax) * t,
                lat=ay + (by - ay) * t + 0.0001, address=f"{k} {p.id} road",
                compound=f"compound-{p.id}", street=f"street-{p.id}"))
    return Network(
        nodes=list(node_objs.values()), pipes=pipe_objs, valves=valve_objs,
        sources=[Source(id=f"src-{n}", node_id=n, name=f"plant {n}") for n in source_set],
        connections=conns,
    )


def line_with_dead_end() -> Network:
    """S -p1- A -p2- B -p3- C, valves v1 (p2 at A), v2 (p2 at B), v3 (p3 at B).

    Segments: {p1, A}, {p2}, {B}, {p3, C}. A break on p2: close v1; behind v2 is only
    B and p3 (dead end, no source): v2 is not needed and p3/C are cut off.
    """
    return build(
        {"S": (0, 0), "A": (1, 0), "B": (2, 0), "C": (3, 0)},
        [("p1", "S", "A"), ("p2", "A", "B"), ("p3", "B", "C")],
        [("v1", "p2", "A"), ("v2", "p2", "B"), ("v3", "p3", "B")],
        sources=["S"],
    )


def to_layers(net: Network, *, with_ids: bool = True) -> dict[str, object]:
    """The network as GeoJSON FeatureCollections (the import body's ``layers``).

    ``with_ids=False`` leaves valves and service connections without pipe ids, so the
    import must snap them.
    """

    def fc(features: list[dict[str, object]]) -> dict[str, object]:
        return {"type": "FeatureCollection", "features": features}

    def point(lon: float, lat: float, props: dict[str, object]) -> dict[str, object]:
        return {"type": "Feature", "geometry": {"type": "Point", "coordinates": [lon, lat]},
                "properties": props}

    return {
        "nodes": fc([point(n.lon, n.lat, {"id": n.id, "kind": str(n.kind)}) for n in net.nodes]),
        "pipes": fc([{"type": "Feature", "properties": {
            "id": p.id, "from_node": p.from_node, "to_node": p.to_node,
            "diameter_mm": p.diameter_mm, "street": p.street},
            "geometry": {"type": "LineString", "coordinates": [list(c) for c in p.coords]}}
            for p in net.pipes]),
        "valves": fc([point(v.lon, v.lat, {
            "id": v.id, "state": str(v.state), "operable": v.operable,
            **({"pipe_id": v.pipe_id, "node_id": v.node_id} if with_ids else {})})
            for v in net.valves]),
        "sources": fc([point(*next((n.lon, n.lat) for n in net.nodes if n.id == s.node_id),
                             {"id": s.id, "node_id": s.node_id, "name": s.name})
                       for s in net.sources]),
        "service_connections": fc([point(c.lon, c.lat, {
            "customer_id": c.customer_id, "address": c.address, "compound": c.compound,
            "street": c.street, **({"pipe_id": c.pipe_id} if with_ids else {})})
            for c in net.connections]),
    }
