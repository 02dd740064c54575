"""GeoJSON FeatureCollections <-> the network model.

One FeatureCollection per layer (pipes, nodes, valves, hydrants, sources, service
connections). Ids come from ``properties.id`` (or ``customer_id``) or the feature's own
``id``. Pipes without ``from_node``/``to_node`` get their end nodes from the nodes layer
(by coordinate, to 1e-7 degree) or a generated junction named by its coordinate, so
re-importing the same file gives the same ids. Points without a ``pipe_id`` (valves,
service connections) or ``node_id`` (sources) are left blank here and snapped by
``geo.snapping`` against the whole network.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Final, TypeVar

import msgspec
import numpy as np

from geo.crs import to_wgs84_arrays
from geo.errors import GeoJSONFormatError
from geo.model import (
    Hydrant,
    LinkKind,
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

Props = dict[str, object]


class Point(msgspec.Struct, tag_field="type", tag="Point"):
    #: [x, y] in the import's CRS (for WGS84: longitude, latitude)
    coordinates: list[float]


class LineString(msgspec.Struct, tag_field="type", tag="LineString"):
    #: the line's points, each [x, y] in the import's CRS
    coordinates: list[list[float]]


class MultiLineString(msgspec.Struct, tag_field="type", tag="MultiLineString"):
    #: the lines, each a list of [x, y] in the import's CRS
    coordinates: list[list[list[float]]]


Geometry = Point | LineString | MultiLineString


class Feature(msgspec.Struct, tag_field="type", tag="Feature"):
    #: the feature's geometry (Point, LineString or MultiLineString)
    geometry: Geometry | None = None
    #: the feature's attributes (id, diameter, material...) by the layer's names
    properties: Props | None = None
    #: the feature's id, if given outside its properties
    id: str | int | None = None


class FeatureCollection(msgspec.Struct, tag_field="type", tag="FeatureCollection"):
    #: the layer's features
    features: list[Feature] = msgspec.field(default_factory=list)


#: the layers a GeoJSON import may carry, by the key used in requests and the CLI
LAYERS: Final = ("pipes", "nodes", "valves", "hydrants", "sources", "service_connections")
_KEY_DIGITS: Final = 7
T = TypeVar("T")


def coord_key(lon: float, lat: float) -> tuple[float, float]:
    return (round(lon, _KEY_DIGITS), round(lat, _KEY_DIGITS))


def auto_node_id(lon: float, lat: float) -> str:
    return f"J{lon:.{_KEY_DIGITS}f},{lat:.{_KEY_DIGITS}f}"


def _str(props: Props, *names: str, default: str = "") -> str:
    for n in names:
        v = props.get(n)
        if v is not None and v != "":
            return str(v)
    return default


def _num(props: Props, layer: str, i: int, *names: str) -> float | None:
    for n in names:
        v = props.get(n)
        if v is None or v == "":
            continue
        if isinstance(v, bool) or not isinstance(v, int | float | str):
            raise GeoJSONFormatError(f"{n} must be a number", layer, i)
        try:
            return float(v)
        except ValueError as exc:
            raise GeoJSONFormatError(f"{n} must be a number, got {v!r}", layer, i) from exc
    return None


def _enum(cls: Callable[[str], T], raw: str, layer: str, i: int, field: str) -> T:
    try:
        return cls(raw)
    except ValueError as exc:
        raise GeoJSONFormatError(f"{field} {raw!r} is not allowed", layer, i) from exc


def _feature_id(f: Feature, props: Props, layer: str, i: int, *names: str) -> str:
    fid = _str(props, *names) or ("" if f.id is None else str(f.id))
    if not fid:
        raise GeoJSONFormatError("feature has no id", layer, i)
    return fid


#: the columns valve layers use for the pipe and node a valve sits on (WNTR: link, node)
VALVE_PIPE_KEYS: Final = ("pipe_id", "link", "pipe", "link_id", "linkid", "pipeid")
VALVE_NODE_KEYS: Final = ("node_id", "node", "nodeid")
VALVE_ID_KEYS: Final = ("id", "valve_id", "valveid", "valve")


def _points(fc: FeatureCollection, layer: str, crs: str,
            positionless: Callable[[Props], bool] | None = None
            ) -> tuple[list[Props], np.ndarray]:
    """Properties and WGS84 points; a feature without geometry gets NaN when
    ``positionless(props)`` allows it (a valve named by pipe and node)."""
    props, xy = [], []
    for i, f in enumerate(fc.features):
        # GIS exports shout (LINK, Node_ID): property names are matched case-insensitively
        p = {k.lower(): v for k, v in (f.properties or {}).items()}
        if f.geometry is None and positionless is not None and positionless(p):
            props.append(p)
            xy.append([math.nan, math.nan])
            continue
        if not isinstance(f.geometry, Point) or len(f.geometry.coordinates) < 2:
            raise GeoJSONFormatError("expected a Point geometry", layer, i)
        props.append(p)
        xy.append(f.geometry.coordinates[:2])
    arr = np.array(xy, dtype=np.float64).reshape(-1, 2)
    lon, lat = to_wgs84_arrays(arr[:, 0], arr[:, 1], crs)
    return props, np.column_stack([lon, lat])


def read_nodes(fc: FeatureCollection, crs: str = "EPSG:4326") -> list[Node]:
    props, ll = _points(fc, "nodes", crs)
    return [
        Node(id=_feature_id(fc.features[i], p, "nodes", i, "id"),
             lon=float(ll[i, 0]), lat=float(ll[i, 1]),
             kind=_enum(NodeKind, _str(p, "kind", default="junction"), "nodes", i, "kind"),
             elevation_m=_num(p, "nodes", i, "elevation_m", "elevation"))
        for i, p in enumerate(props)
    ]


def read_pipes(fc: FeatureCollection, crs: str = "EPSG:4326",
               nodes: list[Node] | None = None) -> tuple[list[Pipe], list[Node]]:
    """Pipes, plus the junctions generated for unnamed end points (new ones only)."""
    by_key = {coord_key(n.lon, n.lat): n.id for n in nodes or []}
    lines: list[list[list[float]]] = []
    for i, f in enumerate(fc.features):
        g = f.geometry
        if isinstance(g, LineString):
            line = g.coordinates
        elif isinstance(g, MultiLineString) and len(g.coordinates) == 1:
            line = g.coordinates[0]
        else:
            raise GeoJSONFormatError("expected a LineString geometry", "pipes", i)
        if len(line) < 2 or any(len(c) < 2 for c in line):
            raise GeoJSONFormatError("a pipe needs at least two positions", "pipes", i)
        lines.append(line)
    flat = np.array([c[:2] for line in lines for c in line], dtype=np.float64).reshape(-1, 2)
    lon, lat = to_wgs84_arrays(flat[:, 0], flat[:, 1], crs)
    pipes: list[Pipe] = []
    new_nodes: dict[str, Node] = {}
    at = 0
    for i, (f, line) in enumerate(zip(fc.features, lines, strict=True)):
        p = f.properties or {}
        coords = [(float(lon[k]), float(lat[k])) for k in range(at, at + len(line))]
        at += len(line)
        ends: list[str] = []
        for name, (x, y) in (("from_node", coords[0]), ("to_node", coords[-1])):
            nid = _str(p, name) or by_key.get(coord_key(x, y), "")
            if not nid:
                nid = auto_node_id(x, y)
                new_nodes.setdefault(nid, Node(id=nid, lon=x, lat=y))
            ends.append(nid)
        year = _num(p, "pipes", i, "install_year", "year")
        pipes.append(Pipe(
            id=_feature_id(f, p, "pipes", i, "id"), from_node=ends[0], to_node=ends[1],
            coords=coords, diameter_mm=_num(p, "pipes", i, "diameter_mm", "diameter") or 0.0,
            material=_str(p, "material"), install_year=int(year) if year else None,
            length_m=_num(p, "pipes", i, "length_m") or 0.0,
            kind=_enum(LinkKind, _str(p, "kind", default="pipe"), "pipes", i, "kind"),
            street=_str(p, "street", "road"),
        ))
    return pipes, list(new_nodes.values())


def _bool(v: object) -> bool:
    if isinstance(v, str):
        return v.strip().lower() not in ("0", "false", "no", "n", "broken", "inoperable")
    return bool(v)


_STATE_ALIASES: Final = {"open": "normal_open", "no": "normal_open", "normally_open": "normal_open",
                         "closed": "normal_closed", "nc": "normal_closed",
                         "normally_closed": "normal_closed"}


def _valve_state(raw: str) -> ValveState:
    key = raw.strip().lower().replace(" ", "_").replace("-", "_")
    return ValveState(_STATE_ALIASES.get(key, key))


def _by_ids(p: Props) -> bool:
    return bool(_str(p, *VALVE_PIPE_KEYS) and _str(p, *VALVE_NODE_KEYS))


def read_valves(fc: FeatureCollection, crs: str = "EPSG:4326") -> list[Valve]:
    """Valves; ``pipe_id``/``link``/``pipe`` and ``node_id``/``node`` place a valve by id
    (its point may then be absent: it sits at the node), else it is snapped on import."""
    props, ll = _points(fc, "valves", crs, _by_ids)
    return [
        Valve(id=_feature_id(fc.features[i], p, "valves", i, *VALVE_ID_KEYS),
              pipe_id=_str(p, *VALVE_PIPE_KEYS), node_id=_str(p, *VALVE_NODE_KEYS),
              lon=float(ll[i, 0]), lat=float(ll[i, 1]),
              state=_enum(_valve_state, _str(p, "state", "status", default="normal_open"),
                          "valves", i, "state"),
              operable=_bool(p.get("operable", True)),
              diameter_mm=_num(p, "valves", i, "diameter_mm", "diameter"))
        for i, p in enumerate(props)
    ]


def read_hydrants(fc: FeatureCollection, crs: str = "EPSG:4326") -> list[Hydrant]:
    props, ll = _points(fc, "hydrants", crs)
    return [
        Hydrant(id=_feature_id(fc.features[i], p, "hydrants", i, "id"),
                lon=float(ll[i, 0]), lat=float(ll[i, 1]), pipe_id=_str(p, "pipe_id") or None,
                diameter_mm=_num(p, "hydrants", i, "diameter_mm", "diameter"))
        for i, p in enumerate(props)
    ]


def read_sources(fc: FeatureCollection, crs: str = "EPSG:4326") -> tuple[list[Source], np.ndarray]:
    """Sources and their WGS84 points (used to find the node when ``node_id`` is absent)."""
    props, ll = _points(fc, "sources", crs)
    sources = [
        Source(id=_feature_id(fc.features[i], p, "sources", i, "id"), node_id=_str(p, "node_id"),
               kind=_enum(SourceKind, _str(p, "kind", default="plant"), "sources", i, "kind"),
               name=_str(p, "name"))
        for i, p in enumerate(props)
    ]
    return sources, ll


def read_connections(fc: FeatureCollection, crs: str = "EPSG:4326") -> list[ServiceConnection]:
    props, ll = _points(fc, "service_connections", crs)
    return [
        ServiceConnection(
            customer_id=_feature_id(fc.features[i], p, "service_connections", i,
                                    "customer_id", "id"),
            pipe_id=_str(p, "pipe_id"), lon=float(ll[i, 0]), lat=float(ll[i, 1]),
            address=_str(p, "address"), compound=_str(p, "compound"), street=_str(p, "street"))
        for i, p in enumerate(props)
    ]


def read_layers(layers: dict[str, FeatureCollection], crs: str = "EPSG:4326",
                known_nodes: list[Node] | None = None) -> tuple[Network, set[str], np.ndarray]:
    """Every layer present in ``layers`` as a partial Network.

    Returns the network, the names of the layers that were present (the import replaces
    exactly those) and the WGS84 points of the sources (for node matching).
    """
    unknown = set(layers) - set(LAYERS)
    if unknown:
        raise GeoJSONFormatError(f"unknown layer(s) {sorted(unknown)}; expected {LAYERS}",
                                 ",".join(sorted(unknown)))
    net = Network()
    if "nodes" in layers:
        net.nodes = read_nodes(layers["nodes"], crs)
    if "pipes" in layers:
        net.pipes, extra = read_pipes(layers["pipes"], crs, net.nodes or known_nodes)
        net.nodes = [*net.nodes, *extra]
    if "valves" in layers:
        net.valves = read_valves(layers["valves"], crs)
    if "hydrants" in layers:
        net.hydrants = read_hydrants(layers["hydrants"], crs)
    source_points = np.zeros((0, 2))
    if "sources" in layers:
        net.sources, source_points = read_sources(layers["sources"], crs)
    if "service_connections" in layers:
        net.connections = read_connections(layers["service_connections"], crs)
    return net, set(layers), source_points


class GeoJSONImport(msgspec.Struct, kw_only=True, frozen=True, forbid_unknown_fields=True):
    """Import body: one FeatureCollection per layer; absent layers are kept as stored."""

    #: one FeatureCollection per layer: pipes, nodes, valves, hydrants, sources, service_connections
    layers: dict[str, FeatureCollection]
    #: CRS of the coordinates (RFC 7946 says WGS84; GCJ-02 exports are common)
    crs: str = "EPSG:4326"
    #: how far a valve point may lie from its pipe
    snap_tolerance_m: float = 5.0
    #: how far a service point may lie from its pipe
    connection_tolerance_m: float = 50.0
    #: refuse the import when there is any warning (each becomes an error)
    strict: bool = False


class InpImport(msgspec.Struct, kw_only=True, frozen=True, forbid_unknown_fields=True):
    """Import body: an EPANET file plus GIS layers (valves at least) in their own CRS."""

    #: the EPANET .inp file's text
    inp: str
    #: CRS of the .inp [COORDINATES], e.g. "EPSG:4548" (CGCS2000 GK CM 117E)
    crs: str
    #: GIS layers beside the file (valves at least), one FeatureCollection each
    layers: dict[str, FeatureCollection] = msgspec.field(default_factory=dict)
    #: CRS of the layers' coordinates
    layers_crs: str = "EPSG:4326"
    #: how far a valve point may lie from its pipe, in metres
    snap_tolerance_m: float = 5.0
    #: how far a service point may lie from its pipe, in metres
    connection_tolerance_m: float = 50.0
    #: refuse the import when there is any warning (each becomes an error)
    strict: bool = False
