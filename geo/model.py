"""The network model and the isolation answer, as msgspec Structs (the wire format).

Coordinates are WGS84 ``(lon, lat)`` degrees everywhere on the wire and in the store;
lengths, buffers and distances are metres computed in a projected CRS (see ``geo.crs``).
A valve sits on a pipe next to one of the pipe's end nodes: ``(pipe_id, node_id)`` is
its position, as in WNTR's valve layer.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated

import msgspec


class NodeKind(StrEnum):
    JUNCTION = "junction"
    RESERVOIR = "reservoir"
    TANK = "tank"
    #: a treatment plant or well field feeding the network
    SOURCE = "source"


class LinkKind(StrEnum):
    PIPE = "pipe"
    PUMP = "pump"
    #: an EPANET control valve (PRV, FCV...): a link that carries water, not an isolation valve
    CONTROL_VALVE = "control_valve"


class ValveState(StrEnum):
    NORMAL_OPEN = "normal_open"
    #: already a border (pressure zones): never passes water, never "to close"
    NORMAL_CLOSED = "normal_closed"


class CoordSystem(StrEnum):
    """Coordinate systems a device may send."""

    WGS84 = "wgs84"
    CGCS2000 = "cgcs2000"
    #: the offset coordinates of Chinese map SDKs (AMap, Tencent)
    GCJ02 = "gcj02"


class AffectedZone(StrEnum):
    #: in the valve-bounded segment of the broken pipe(s)
    SEGMENT = "segment"
    #: loses every path to a source once the valves are closed
    CUT_OFF = "cut_off"
    #: added because a valve to close is inoperable
    EXTENSION = "extension"


class Node(msgspec.Struct, kw_only=True, frozen=True):
    id: str
    lon: float
    lat: float
    kind: NodeKind = NodeKind.JUNCTION
    elevation_m: float | None = None


class Pipe(msgspec.Struct, kw_only=True, frozen=True):
    id: str
    from_node: str
    to_node: str
    #: WGS84 (lon, lat) vertices, first at ``from_node``, last at ``to_node``
    coords: list[tuple[float, float]]
    diameter_mm: float = 0.0
    material: str = ""
    install_year: int | None = None
    #: metres, from the projected CRS; 0 means "compute on import"
    length_m: float = 0.0
    kind: LinkKind = LinkKind.PIPE
    #: the road the pipe runs under, for the notice's four bounds
    street: str = ""
    #: a closed link (EPANET status CLOSED): a normally-closed boundary between its two
    #: end nodes, carrying no water; it is never in an outage and never a valve to close
    closed: bool = False


class Valve(msgspec.Struct, kw_only=True, frozen=True):
    id: str
    pipe_id: str
    #: the end node of ``pipe_id`` the valve sits next to
    node_id: str
    lon: float
    lat: float
    state: ValveState = ValveState.NORMAL_OPEN
    #: False when known broken or seized: it will not close
    operable: bool = True
    diameter_mm: float | None = None


class Hydrant(msgspec.Struct, kw_only=True, frozen=True):
    id: str
    lon: float
    lat: float
    pipe_id: str | None = None
    diameter_mm: float | None = None


class SourceKind(StrEnum):
    PLANT = "plant"
    RESERVOIR = "reservoir"
    TANK = "tank"


class Source(msgspec.Struct, kw_only=True, frozen=True):
    id: str
    node_id: str
    kind: SourceKind = SourceKind.PLANT
    name: str = ""


class ServiceConnection(msgspec.Struct, kw_only=True, frozen=True):
    """A customer's link to a pipe plus the location fields a notice needs.

    Personal data (name, phone, WeChat id) stays in the server's customers table.
    """

    customer_id: str
    pipe_id: str
    lon: float
    lat: float
    address: str = ""
    compound: str = ""
    street: str = ""


class Network(msgspec.Struct, kw_only=True):
    """One complete network: the input of validation and segment precompute."""

    pipes: list[Pipe] = msgspec.field(default_factory=list)
    nodes: list[Node] = msgspec.field(default_factory=list)
    valves: list[Valve] = msgspec.field(default_factory=list)
    hydrants: list[Hydrant] = msgspec.field(default_factory=list)
    sources: list[Source] = msgspec.field(default_factory=list)
    connections: list[ServiceConnection] = msgspec.field(default_factory=list)


class IssueSeverity(StrEnum):
    ERROR = "error"
    WARNING = "warning"


class ImportIssue(msgspec.Struct, kw_only=True, frozen=True):
    """One located problem of an import: which row of which layer, and why."""

    #: `error` refuses the import; `warning` is kept and reported
    severity: IssueSeverity
    #: what kind of problem it is, a stable code
    code: str
    #: what is wrong, for people
    message: str
    #: the layer (pipes, valves, nodes...) the row belongs to
    layer: str
    #: the id of the row concerned, if it has one
    entity_id: str | None = None
    #: 1-based line of an .inp file, or index of a GeoJSON feature
    line: int | None = None
    #: 0-based index of the GeoJSON feature, for a GeoJSON layer
    feature: int | None = None


class ImportReport(msgspec.Struct, kw_only=True, frozen=True):
    #: the network version this import created
    network_version: int
    #: rows of each layer in the imported network
    counts: dict[str, int]
    #: rows inserted, changed or deleted per layer (what the change log received)
    changed: dict[str, int]
    #: the first ``REPORT_WARNINGS`` warnings; every one is kept and paged at
    #: ``GET /api/v1/network/imports/{network_version}/warnings``
    warnings: list[ImportIssue] = msgspec.field(default_factory=list)
    #: the coordinate reference system the input was in
    crs: str = "EPSG:4326"
    #: the projected CRS lengths and distances were computed in
    metric_crs: str = ""
    #: how long the import took, in seconds
    duration_s: float = 0.0
    #: all warnings, and their count per code
    warning_count: int = 0
    #: how many warnings of each code
    warnings_by_code: dict[str, int] = msgspec.field(default_factory=dict)
    #: how the imported valves were placed: ``by_id`` (pipe and node named), ``snapped``
    valve_placement: dict[str, int] = msgspec.field(default_factory=dict)


#: warnings carried in the import report itself (the rest are paged)
REPORT_WARNINGS = 100


class ImportIssuePage(msgspec.Struct, kw_only=True, frozen=True):
    #: the warnings of this page, in input order
    items: list[ImportIssue]
    #: pass back as ``cursor`` for the next page; None on the last page
    next_cursor: int | None = None
    #: how many warnings the import has in all
    total: int = 0
    #: this request again with ``cursor=next_cursor`` (docs/api.md, Paging); None on the last page
    next: str | None = None


class ValveAction(msgspec.Struct, kw_only=True, frozen=True):
    #: the valve's id in the network
    valve_id: str
    #: the pipe the valve sits on
    pipe_id: str
    #: the node on the valve's side away from the isolated area
    node_id: str
    #: the valve's longitude (WGS84 degrees)
    lon: float
    #: the valve's latitude (WGS84 degrees)
    lat: float
    #: the valve's diameter in millimetres, if known
    diameter_mm: float | None = None
    #: False for a valve recorded as seized or broken
    operable: bool = True


class Fallback(msgspec.Struct, kw_only=True, frozen=True):
    """Plan B if one valve to close fails: close these too; these customers also lose water."""

    #: the valve whose failure this plan B covers
    failed_valve_id: str
    #: the further valves to close then
    extra_valves: list[ValveAction]
    #: pipes that run dry besides the plan's own
    extra_pipe_count: int
    #: customers who lose water besides the plan's own
    extra_customer_count: int
    #: those customers' ids
    extra_customer_ids: list[str] = msgspec.field(default_factory=list)
    #: sources that fall inside the grown area: their outlet must be shut as well
    sources_to_shut: list[str] = msgspec.field(default_factory=list)
    #: nodes of the grown area (a junction valved on every side has no pipe, only a node)
    extra_node_ids: list[str] = msgspec.field(default_factory=list)


class SupplyOption(msgspec.Struct, kw_only=True, frozen=True):
    """Open this normally-closed valve (and ``also_open``) to feed part of the cut-off
    from another zone. ``valve`` is on the cut-off's border and names the option."""

    #: the normally-closed border valve to open
    valve: ValveAction
    #: further normally-closed valves to open with it, towards the supplying zone, when
    #: one is not enough (a border chamber closed on both sides)
    also_open: list[ValveAction] = msgspec.field(default_factory=list)
    #: pipes of the cut-off that keep water with this option
    restored_pipe_count: int
    #: nodes of the cut-off that keep water with this option
    restored_node_ids: list[str] = msgspec.field(default_factory=list)
    #: customers who keep water with this option
    restored_customer_count: int = 0
    #: those customers' ids
    restored_customer_ids: list[str] = msgspec.field(default_factory=list)


class ValveToClose(msgspec.Struct, kw_only=True, frozen=True):
    #: the valve to close
    valve: ValveAction
    #: what to close as well if this valve fails, if anything can
    fallback: Fallback | None = None


class FourBounds(msgspec.Struct, kw_only=True, frozen=True):
    """The notice's 四至: the street at each extreme of the outage."""

    #: the street at the area's eastern edge
    east: str = ""
    #: the street at the area's western edge
    west: str = ""
    #: the street at the area's southern edge
    south: str = ""
    #: the street at the area's northern edge
    north: str = ""


class Extension(msgspec.Struct, kw_only=True, frozen=True):
    """What inoperable valves added to the plan."""

    #: the valves found inoperable that the plan had to work around
    inoperable_valve_ids: list[str] = msgspec.field(default_factory=list)
    #: valves closed instead of them
    extra_valve_ids: list[str] = msgspec.field(default_factory=list)
    #: pipes that run dry because of them
    extra_pipe_ids: list[str] = msgspec.field(default_factory=list)
    #: customers who lose water because of them
    extra_customer_ids: list[str] = msgspec.field(default_factory=list)
    #: valves reported inoperable that this plan never closes: they change nothing
    not_needed_inoperable_ids: list[str] = msgspec.field(default_factory=list)
    #: nodes that run dry because of them
    extra_node_ids: list[str] = msgspec.field(default_factory=list)


class IsolationPlan(msgspec.Struct, kw_only=True, frozen=True):
    #: the plan's id (`isolation_id`)
    id: str
    #: when the plan was computed (RFC 3339, UTC)
    computed_at: str
    #: the network version it was computed on
    network_version: int
    #: the pipes to isolate (the break's pipe, or the planned job's pipes)
    broken_pipe_ids: list[str]
    #: the break point snapped onto the pipe (WGS84), when the trigger was a point
    snapped_point: tuple[float, float] | None = None
    #: how far the break point was from that pipe, in metres
    snap_distance_m: float | None = None
    #: pipes of the valve-bounded segment of the broken pipes
    segment_pipe_ids: list[str] = msgspec.field(default_factory=list)
    #: nodes of that segment
    segment_node_ids: list[str] = msgspec.field(default_factory=list)
    #: pipes that lose every path to a source once the valves are closed
    cut_off_pipe_ids: list[str] = msgspec.field(default_factory=list)
    #: nodes that do
    cut_off_node_ids: list[str] = msgspec.field(default_factory=list)
    #: the valves to close, each with its plan B
    valves_to_close: list[ValveToClose] = msgspec.field(default_factory=list)
    #: border valves with no water behind them: their far side runs dry anyway
    valves_not_needed: list[str] = msgspec.field(default_factory=list)
    #: sources inside the isolated area: their outlet must be shut too
    sources_to_shut: list[str] = msgspec.field(default_factory=list)
    #: what inoperable valves added to the plan
    extension: Extension = msgspec.field(default_factory=Extension)
    #: customers who lose water
    customer_count: int = 0
    #: customers who lose water per residential compound
    counts_by_compound: dict[str, int] = msgspec.field(default_factory=dict)
    #: the residential compounds affected, for the notice
    compounds: list[str] = msgspec.field(default_factory=list)
    #: the streets affected, for the notice
    streets: list[str] = msgspec.field(default_factory=list)
    #: the streets at the area's four edges (四至), for the notice
    bounds: FourBounds = msgspec.field(default_factory=FourBounds)
    #: the length of pipe that runs dry, in metres
    pipe_length_m: float = 0.0
    #: the water in those pipes, in cubic metres (to drain before work)
    drain_volume_m3: float = 0.0
    #: normally-closed valves that could feed the cut-off from another zone (proposals)
    supply_options: list[SupplyOption] = msgspec.field(default_factory=list)
    #: the options the dispatcher accepted (valves to open): their customers keep water
    accepted_supply_valve_ids: list[str] = msgspec.field(default_factory=list)


class CombinedIsolation(msgspec.Struct, kw_only=True, frozen=True):
    """Isolations shut at the same time (overlapping outages) and what only that dries.

    ``valves_to_close`` closes all of them together; the conflict is the area dry then
    but in none of the isolations alone (``focus_isolation_id``: only what its joining
    the others adds), with its customers.
    """

    #: the isolations shut together
    isolation_ids: list[str]
    #: the isolation whose joining the others is judged, if one is
    focus_isolation_id: str | None = None
    #: every valve to close for all of them together
    valves_to_close: list[ValveAction] = msgspec.field(default_factory=list)
    #: sources inside the combined area: their outlets must be shut too
    sources_to_shut: list[str] = msgspec.field(default_factory=list)
    #: pipes dry only when they are shut together
    conflict_pipe_ids: list[str] = msgspec.field(default_factory=list)
    #: nodes dry only when they are shut together
    conflict_node_ids: list[str] = msgspec.field(default_factory=list)
    #: customers who lose water only when they are shut together
    conflict_customer_ids: list[str] = msgspec.field(default_factory=list)
    #: those customers' residential compounds
    conflict_compounds: list[str] = msgspec.field(default_factory=list)
    #: those customers' streets
    conflict_streets: list[str] = msgspec.field(default_factory=list)

    @property
    def has_conflict(self) -> bool:
        return bool(self.conflict_pipe_ids or self.conflict_node_ids)


class AffectedCustomer(msgspec.Struct, kw_only=True, frozen=True):
    #: the customer's id
    customer_id: str
    #: the pipe the customer is connected to
    pipe_id: str
    #: why the customer loses water: segment, cut-off or extension
    zone: AffectedZone
    #: the customer's address
    address: str = ""
    #: the customer's residential compound (小区)
    compound: str = ""
    #: the customer's street
    street: str = ""
    #: the service point's longitude (WGS84 degrees), if known
    lon: float | None = None
    #: the service point's latitude (WGS84 degrees), if known
    lat: float | None = None


class AffectedCustomerPage(msgspec.Struct, kw_only=True, frozen=True):
    #: the customers of this page
    items: list[AffectedCustomer]
    #: pass back as `cursor` for the next page; None on the last page
    next_cursor: str | None = None
    #: this request again with ``cursor=next_cursor`` (docs/api.md, Paging); None on the last page
    next: str | None = None
    #: how many customers lose water in all
    total: int = 0


class AreaFeature(msgspec.Struct, kw_only=True, frozen=True):
    """The outage area as one GeoJSON Feature (WGS84 Polygon or MultiPolygon)."""

    #: a GeoJSON Polygon or MultiPolygon (WGS84)
    geometry: dict[str, object]
    #: the isolation's facts (id, customers, compounds...)
    properties: dict[str, object]
    #: always `Feature`
    type: str = "Feature"


class IsolationRequest(msgspec.Struct, kw_only=True, frozen=True, forbid_unknown_fields=True):
    """A break at a point (snapped to the nearest pipe) or a planned job on given pipes."""

    #: (lon, lat) of the break in ``crs``; exclusive with ``pipe_ids``
    point: tuple[float, float] | None = None
    #: the coordinate system `point` is in: `wgs84`, `cgcs2000` or `gcj02` (map SDKs)
    crs: CoordSystem = CoordSystem.WGS84
    #: the pipes of a planned job; exclusive with `point`
    pipe_ids: list[str] = msgspec.field(default_factory=list)
    #: valves the crew found seized now (in addition to those stored as inoperable)
    inoperable_valve_ids: list[str] = msgspec.field(default_factory=list)
    #: metres from the break point to the nearest pipe, above 0 and at most 1 km
    tolerance_m: Annotated[float, msgspec.Meta(gt=0, le=1000)] = 50.0
    #: a free label the caller gives the request (e.g. the job's name)
    label: str = ""


class NetworkSummary(msgspec.Struct, kw_only=True, frozen=True):
    #: the current network version (0: none imported)
    network_version: int
    #: rows of each layer (pipes, valves, nodes...)
    counts: dict[str, int]
    #: how many valve-bounded segments the network has
    segments: int = 0
    #: the projected CRS lengths and distances are computed in
    metric_crs: str = ""
