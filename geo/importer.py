"""Turning imported layers into one validated network: merge, lengths, snapping, checks.

Pure (no I/O): the service loads what is stored, calls ``prepare_network`` and writes
the result. Layers present in the import replace the stored ones; absent layers are kept.
Points without a pipe (valves, service connections) are snapped within a tolerance;
a valve goes next to the nearer end node of its pipe. What does not snap is reported as
a located warning and left out, never silently attached to a far pipe.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import msgspec
import numpy as np
import shapely

from geo.crs import Projector, Projectors
from geo.errors import BadCoordinatesError, NetworkValidationError, OutsideServiceAreaError
from geo.model import (
    ImportIssue,
    IssueSeverity,
    LinkKind,
    Network,
    Pipe,
    ServiceConnection,
    Source,
    Valve,
)
from geo.network import NetworkIndex, build_index, network_projector
from geo.snapping import PipeLocator, metric_lines
from geo.validation import cap_issues, validate_rows

#: (lon_min, lat_min, lon_max, lat_max), WGS84 degrees
BBox = tuple[float, float, float, float]


def check_position(partial: Network, service_area: BBox | None, crs: str) -> None:
    """Every imported position is a place on Earth, and the network lies in the service area.

    Only the imported layers are checked (stored ones passed before). The box found is
    that of the nodes, pipe vertices and points of the import.
    """
    layers: list[tuple[str, list[tuple[str, float, float]]]] = [
        ("nodes", [(n.id, n.lon, n.lat) for n in partial.nodes]),
        ("pipes", [(p.id, x, y) for p in partial.pipes for x, y in p.coords]),
        ("valves", [(v.id, v.lon, v.lat) for v in partial.valves if not math.isnan(v.lon)]),
        ("hydrants", [(h.id, h.lon, h.lat) for h in partial.hydrants]),
        ("service_connections", [(c.customer_id, c.lon, c.lat) for c in partial.connections]),
    ]
    lo_x = lo_y = math.inf
    hi_x = hi_y = -math.inf
    for layer, pts in layers:
        if not pts:
            continue
        xy = np.array([(x, y) for _i, x, y in pts], dtype=np.float64)
        bad = ~(np.isfinite(xy).all(axis=1) & (np.abs(xy[:, 0]) <= 180)
                & (np.abs(xy[:, 1]) <= 90))
        if bad.any():
            raise BadCoordinatesError(layer, pts[int(np.flatnonzero(bad)[0])][0], crs)
        lo_x, lo_y = min(lo_x, float(xy[:, 0].min())), min(lo_y, float(xy[:, 1].min()))
        hi_x, hi_y = max(hi_x, float(xy[:, 0].max())), max(hi_y, float(xy[:, 1].max()))
    if service_area is None or lo_x > hi_x:
        return
    a = service_area
    if lo_x < a[0] or lo_y < a[1] or hi_x > a[2] or hi_y > a[3]:
        raise OutsideServiceAreaError((lo_x, lo_y, hi_x, hi_y), a, crs)


@dataclass(frozen=True, slots=True)
class Prepared:
    network: Network
    layers: set[str]
    index: NetworkIndex
    warnings: list[ImportIssue]
    #: how the imported valves were placed: ``by_id`` (pipe and node given), ``snapped``
    valve_placement: dict[str, int]


def _warn(code: str, message: str, layer: str, entity_id: str) -> ImportIssue:
    return ImportIssue(severity=IssueSeverity.WARNING, code=code, message=message, layer=layer,
                       entity_id=entity_id)


def merge(stored: Network, partial: Network, present: set[str]) -> Network:
    """Layers in ``present`` from the import, the others as stored.

    Nodes generated for unnamed pipe ends join the stored nodes when no nodes layer came.
    """
    nodes = partial.nodes
    if "nodes" not in present:
        known = {n.id: n for n in stored.nodes}
        for n in partial.nodes:
            known.setdefault(n.id, n)
        nodes = list(known.values())
    return Network(
        nodes=nodes,
        pipes=partial.pipes if "pipes" in present else stored.pipes,
        valves=partial.valves if "valves" in present else stored.valves,
        hydrants=partial.hydrants if "hydrants" in present else stored.hydrants,
        sources=partial.sources if "sources" in present else stored.sources,
        connections=partial.connections if "service_connections" in present
        else stored.connections,
    )


def with_lengths(pipes: list[Pipe], projector: Projector) -> list[Pipe]:
    """Pipes whose length is unknown (0) get their projected length in metres.

    Pumps and control valves keep 0: their drawn line is a symbol in a pump station or
    valve chamber, not pipe in the ground, and must not count in pipe lengths or volumes.
    """
    todo = [i for i, p in enumerate(pipes) if p.length_m <= 0 and p.kind is LinkKind.PIPE]
    if not todo:
        return pipes
    lengths = projector.polyline_lengths([pipes[i].coords for i in todo])
    out = list(pipes)
    for i, length in zip(todo, lengths.tolist(), strict=True):
        p = out[i]
        out[i] = Pipe(id=p.id, from_node=p.from_node, to_node=p.to_node, coords=p.coords,
                      diameter_mm=p.diameter_mm, material=p.material,
                      install_year=p.install_year, length_m=round(length, 3), kind=p.kind,
                      street=p.street, closed=p.closed)
    return out


def _place_by_node(net: Network) -> list[Valve]:
    """Valves named by pipe and node but without a point (a CSV valve table) sit at the node."""
    if not any(math.isnan(v.lon) for v in net.valves):
        return net.valves
    at = {n.id: (n.lon, n.lat) for n in net.nodes}
    return [msgspec.structs.replace(v, lon=at[v.node_id][0], lat=at[v.node_id][1])
            if math.isnan(v.lon) and v.node_id in at else v for v in net.valves]


def _snap_valves(net: Network, locator: PipeLocator, projector: Projector,
                 tolerance_m: float, warnings: list[ImportIssue]) -> list[Valve]:
    """Only valves that do not name both their pipe and node are placed by geometry: with
    parallel pipes between the same two nodes a point cannot tell which pipe it is on."""
    pipe_at = {p.id: i for i, p in enumerate(net.pipes)}
    todo = [i for i, v in enumerate(net.valves) if not v.pipe_id or not v.node_id]
    if not todo:
        return net.valves
    x, y = projector.forward(np.array([net.valves[i].lon for i in todo]),
                             np.array([net.valves[i].lat for i in todo]))
    snap = locator.snap(x, y, tolerance_m)
    out = list(net.valves)
    drop: set[int] = set()
    for k, i in enumerate(todo):
        v = net.valves[i]
        if v.pipe_id and v.pipe_id not in pipe_at:
            continue  # validation names the unknown pipe
        pi = pipe_at[v.pipe_id] if v.pipe_id else int(snap.pipe[k])
        if pi < 0:
            warnings.append(_warn("valve-not-snapped",
                                  f"valve {v.id} is farther than {tolerance_m:g} m from every "
                                  f"pipe; left out", "valves", v.id))
            drop.add(i)
            continue
        p = net.pipes[pi]
        # pipe given without node: the nearer end of that pipe
        frac = _fraction_on(locator, pi, float(x[k]), float(y[k])) if v.pipe_id \
            else float(snap.fraction[k])
        out[i] = Valve(id=v.id, pipe_id=p.id, node_id=p.from_node if frac < 0.5 else p.to_node,
                       lon=v.lon, lat=v.lat, state=v.state, operable=v.operable,
                       diameter_mm=v.diameter_mm if v.diameter_mm is not None else p.diameter_mm)
    return [v for i, v in enumerate(out) if i not in drop]


def _valve_diameters(net: Network) -> list[Valve]:
    """A valve without a diameter gets its pipe's (the usual case in GIS layers)."""
    diameter = {p.id: p.diameter_mm for p in net.pipes}
    return [msgspec.structs.replace(v, diameter_mm=diameter[v.pipe_id])
            if v.diameter_mm is None and v.pipe_id in diameter else v for v in net.valves]


def _fraction_on(locator: PipeLocator, pipe: int, x: float, y: float) -> float:
    return float(shapely.line_locate_point(locator.lines[pipe], shapely.Point(x, y),
                                           normalized=True))


def _snap_connections(net: Network, locator: PipeLocator, projector: Projector,
                      tolerance_m: float, warnings: list[ImportIssue]) -> list[ServiceConnection]:
    todo = [i for i, c in enumerate(net.connections) if not c.pipe_id]
    if not todo:
        return net.connections
    x, y = projector.forward(np.array([net.connections[i].lon for i in todo]),
                             np.array([net.connections[i].lat for i in todo]))
    snap = locator.snap(x, y, tolerance_m)
    out = list(net.connections)
    drop: set[int] = set()
    for k, i in enumerate(todo):
        c = net.connections[i]
        pi = int(snap.pipe[k])
        if pi < 0:
            warnings.append(_warn("connection-not-snapped",
                                  f"customer {c.customer_id} is farther than {tolerance_m:g} m "
                                  f"from every pipe; left out", "service_connections",
                                  c.customer_id))
            drop.add(i)
            continue
        out[i] = ServiceConnection(customer_id=c.customer_id, pipe_id=net.pipes[pi].id,
                                   lon=c.lon, lat=c.lat, address=c.address,
                                   compound=c.compound, street=c.street)
    return [c for i, c in enumerate(out) if i not in drop]


def _place_sources(net: Network, points: np.ndarray, projector: Projector, tolerance_m: float,
                   warnings: list[ImportIssue]) -> list[Source]:
    todo = [i for i, s in enumerate(net.sources) if not s.node_id]
    if not todo or not net.nodes:
        return net.sources
    nx, ny = projector.forward(np.array([n.lon for n in net.nodes]),
                               np.array([n.lat for n in net.nodes]))
    out = list(net.sources)
    for i in todo:
        s = net.sources[i]
        sx, sy = projector.forward(points[i:i + 1, 0], points[i:i + 1, 1])
        d = np.hypot(nx - sx[0], ny - sy[0])
        k = int(np.argmin(d))
        if d[k] > tolerance_m:
            warnings.append(_warn("source-not-snapped", f"source {s.id} is {d[k]:.0f} m from "
                                  f"the nearest node; give node_id", "sources", s.id))
            continue
        out[i] = Source(id=s.id, node_id=net.nodes[k].id, kind=s.kind, name=s.name)
    return out


def prepare_network(stored: Network, partial: Network, present: set[str], version: int, *,
                    source_points: np.ndarray | None = None, snap_tolerance_m: float = 5.0,
                    connection_tolerance_m: float = 50.0,
                    warnings: list[ImportIssue] | None = None,
                    projectors: Projectors | None = None, strict: bool = False,
                    service_area: BBox | None = None, crs: str = "EPSG:4326",
                    progress: Callable[[str], None] | None = None) -> Prepared:
    """Merge, check the position, measure, snap, validate and precompute.

    Raises ``BadCoordinatesError`` or ``OutsideServiceAreaError`` before any metric work
    (a wrong CRS must not reach PROJ's GK zones or the store), ``NetworkValidationError``
    for errors, and with ``strict`` for warnings too. Warnings never block otherwise.
    """
    say = progress or (lambda _stage: None)
    warns = list(warnings or [])
    net = merge(stored, partial, present)
    check_position(partial, service_area, crs)
    say(f"positions checked; measuring {len(net.pipes)} pipes")
    projector = network_projector(net, projectors or Projectors())
    net.pipes = with_lengths(net.pipes, projector)
    placement = {"by_id": 0, "snapped": 0}
    if "valves" in present:
        placement["by_id"] = sum(1 for v in partial.valves if v.pipe_id and v.node_id)
        placement["snapped"] = len(partial.valves) - placement["by_id"]
    net.valves = _place_by_node(net)
    if net.pipes:
        say(f"placing {len(net.valves)} valves and {len(net.connections)} service connections")
        coords = [p.coords for p in net.pipes]
        flat = np.array([c for cs in coords for c in cs], dtype=np.float64).reshape(-1, 2)
        locator = PipeLocator(metric_lines(coords, projector.forward(flat[:, 0], flat[:, 1])))
        net.valves = _snap_valves(net, locator, projector, snap_tolerance_m, warns)
        net.valves = _valve_diameters(net)
        net.connections = _snap_connections(net, locator, projector, connection_tolerance_m,
                                            warns)
    if source_points is not None and len(source_points):
        net.sources = _place_sources(net, source_points, projector, snap_tolerance_m, warns)
    layers = set(present)
    if "pipes" in present:
        layers.add("nodes")
    if "valves" not in present and "pipes" in present:
        layers.add("valves")  # valves that lost their pipe must be re-checked
    say("validating rows")
    issues = validate_rows(net)
    errors = [i for i in issues if i.severity is IssueSeverity.ERROR]
    if errors:
        raise NetworkValidationError([_as_dict(i) for i in cap_issues(errors)])
    say("computing valve segments")
    index = build_index(net, version, projector)
    islands = index.island_issues()
    if islands:
        raise NetworkValidationError([_as_dict(i) for i in islands])
    warns += [i for i in issues if i.severity is IssueSeverity.WARNING]
    if strict and warns:
        raise NetworkValidationError([_as_dict(msgspec.structs.replace(
            i, severity=IssueSeverity.ERROR)) for i in cap_issues(warns)])
    return Prepared(network=net, layers=layers, index=index, warnings=warns,
                    valve_placement=placement)


def _as_dict(issue: ImportIssue) -> dict[str, object]:
    return {k: v for k, v in (("severity", str(issue.severity)), ("code", issue.code),
                              ("message", issue.message), ("layer", issue.layer),
                              ("entity_id", issue.entity_id), ("line", issue.line),
                              ("feature", issue.feature)) if v is not None}
