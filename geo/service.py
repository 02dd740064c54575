"""Use cases of the geo package: import a network, isolate a break or a job, area, customers.

``NetworkService(db, clock)`` keeps one precomputed ``NetworkIndex`` per network version
(built at first use, rebuilt when the stored version moves, e.g. after an import by the
CLI in another process). With ``cache_path`` the index is also kept on disk
(``geo.index_cache``): a new process (a CLI call) reads it instead of rebuilding, and
``index_builds`` / ``index_reads`` count what happened (also logged on ``geo.service``).
Queries are lookups on it; plans are stored so the area and the paged customer list can
be fetched later by plan id.
"""

from __future__ import annotations

import logging
import threading
import time
import uuid
from collections import Counter
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Final

import msgspec
import numpy as np
from sqlite_utils import Database

from geo.area import compound_counts, outage_polygon, street_names, to_wgs84_feature
from geo.crs import Projectors, device_to_wgs84
from geo.errors import (
    BadIsolationRequestError,
    IsolationNotFoundError,
    NetworkEmptyError,
    NoPipeNearPointError,
    PipeNotFoundError,
    SupplyOptionNotFoundError,
    ValveNotFoundError,
)
from geo.geojson import GeoJSONImport, InpImport, read_layers
from geo.importer import BBox, prepare_network
from geo.index_cache import read_index, write_index
from geo.inp import read_inp
from geo.isolation import (
    PlanCore,
    compute_plan,
    customers_of_pipes,
    known_inoperable,
    to_plan,
    valve_action,
    zoned_pipes,
)
from geo.model import (
    REPORT_WARNINGS,
    AffectedCustomerPage,
    AreaFeature,
    CombinedIsolation,
    ImportIssue,
    ImportIssuePage,
    ImportReport,
    IsolationPlan,
    IsolationRequest,
    Network,
    NetworkSummary,
)
from geo.network import NetworkIndex, build_index, network_projector
from geo.overlap import combine_plans, extra_from
from geo.store import GeoStore
from geo.supply import restored_segments

Clock = Callable[[], datetime]
log = logging.getLogger(__name__)
_encode = msgspec.json.Encoder().encode
_area_decode = msgspec.json.Decoder(AreaFeature).decode

#: the largest snap radius an isolation request may ask for (metres)
MAX_SNAP_TOLERANCE_M: Final = 1000.0


Progress = Callable[[str], None]


def _quiet(_stage: str) -> None:
    """The default progress sink: say nothing."""


def parse_service_area(text: str) -> BBox | None:
    """The service-area setting "lon_min,lat_min,lon_max,lat_max" (WGS84); "" means none."""
    if not text.strip():
        return None
    try:
        a, b, c, d = (float(x) for x in text.split(","))
    except ValueError as exc:
        raise ValueError(f"service_area must be 'lon_min,lat_min,lon_max,lat_max', got "
                         f"{text!r}") from exc
    if not (a < c and b < d):
        raise ValueError(f"service_area {text!r}: min must be below max")
    return (a, b, c, d)


class NetworkService:
    def __init__(self, db: Database, clock: Clock, *, service_area: BBox | None = None,
                 cache_path: Path | None = None) -> None:
        self.store = GeoStore(db)
        self.clock = clock
        #: imports landing outside this WGS84 box are refused (a wrong CRS, mostly)
        self.service_area = service_area
        self._lock = threading.Lock()
        self._index: NetworkIndex | None = None
        self.projectors = Projectors()
        #: the on-disk copy of the index (None: memory only)
        self.cache_path = cache_path
        #: how often this service built the index from the store / read it from the cache
        self.index_builds = 0
        self.index_reads = 0

    # -- the precomputed network -------------------------------------------------------
    def index(self) -> NetworkIndex:
        """The precomputed network of the stored version (rebuilt when it changed)."""
        version = self.store.network_version()
        if version == 0:
            raise NetworkEmptyError
        with self._lock:
            if self._index is None or self._index.version != version:
                self._index = self._cached_or_built(version)
            return self._index

    def _cache_key(self, version: int) -> str:
        """What identifies one stored network: its version and when it was imported."""
        return f"{version}@{self.store.meta('imported_at') or ''}"

    def _cached_or_built(self, version: int) -> NetworkIndex:
        key = self._cache_key(version)
        if self.cache_path is not None:
            found = read_index(self.cache_path, key, self.projectors)
            if found is not None and found.version == version:
                self.index_reads += 1
                log.info("network index %s read from %s", key, self.cache_path)
                return found
        started = time.perf_counter()
        net = self.store.load_network()
        index = build_index(net, version, network_projector(net, self.projectors))
        self.index_builds += 1
        log.info("network index %s built from the store (%d pipes) in %.1f s", key,
                 len(net.pipes), time.perf_counter() - started)
        self._keep(key, index)
        return index

    def _keep(self, key: str, index: NetworkIndex) -> None:
        """Write the index to the cache; a cache that cannot be written only costs time."""
        if self.cache_path is None:
            return
        try:
            write_index(self.cache_path, key, index)
        except OSError as exc:
            log.warning("network index cache %s not written: %s", self.cache_path, exc)

    def summary(self) -> NetworkSummary:
        version = self.store.network_version()
        segments = self.index().graph.n_segments if version else 0
        epsg = self.store.meta("metric_epsg")
        return NetworkSummary(network_version=version, counts=self.store.counts(),
                              segments=segments, metric_crs=f"EPSG:{epsg}" if epsg else "")

    # -- imports ---------------------------------------------------------------------------
    def import_geojson(self, body: GeoJSONImport, progress: Progress = _quiet) -> ImportReport:
        started = time.perf_counter()
        stored = self._stored_if_needed(set(body.layers))
        progress("reading layers")
        partial, present, source_points = read_layers(body.layers, body.crs, stored.nodes)
        return self._import(stored, partial, present, source_points, body.crs,
                            body.snap_tolerance_m, body.connection_tolerance_m, [], started,
                            body.strict, progress)

    def import_inp(self, body: InpImport, progress: Progress = _quiet) -> ImportReport:
        """An EPANET model (pipes, nodes, sources) plus GIS layers (valves, customers...)."""
        started = time.perf_counter()
        progress("reading the EPANET file")
        net, warnings = read_inp(body.inp, body.crs)
        extra, extra_present, source_points = read_layers(body.layers, body.layers_crs, net.nodes)
        present = {"pipes", "nodes", "sources"} | extra_present
        stored = self._stored_if_needed(present)
        partial = Network(pipes=net.pipes, nodes=[*net.nodes, *extra.nodes],
                          valves=[*net.valves, *extra.valves], hydrants=extra.hydrants,
                          sources=[*net.sources, *extra.sources],
                          connections=extra.connections)
        if "valves" not in extra_present and net.valves:
            present.add("valves")
        # source points line up with extra.sources, which follow the .inp sources
        points = np.vstack([np.full((len(net.sources), 2), np.nan), source_points]) \
            if len(source_points) else None
        return self._import(stored, partial, present, points, body.crs, body.snap_tolerance_m,
                            body.connection_tolerance_m, warnings, started, body.strict,
                            progress)

    def _stored_if_needed(self, present: set[str]) -> Network:
        full = {"pipes", "nodes", "valves", "hydrants", "sources", "service_connections"}
        return Network() if full <= present else self.store.load_network()

    def _import(self, stored: Network, partial: Network, present: set[str],
                source_points: np.ndarray | None, crs: str, snap_m: float, conn_m: float,
                warnings: list[ImportIssue], started: float, strict: bool = False,
                progress: Progress = _quiet) -> ImportReport:
        version = self.store.network_version() + 1
        progress(f"importing {len(partial.pipes)} pipes, {len(partial.valves)} valves")
        prepared = prepare_network(stored, partial, present, version,
                                   source_points=source_points, snap_tolerance_m=snap_m,
                                   connection_tolerance_m=conn_m, warnings=warnings,
                                   projectors=self.projectors, strict=strict,
                                   service_area=self.service_area, crs=crs, progress=progress)
        epsg = prepared.index.projector.epsg
        progress(f"{prepared.index.graph.n_segments} segments; writing the changed rows")
        version, changed = self.store.replace_layers(prepared.network, prepared.layers,
                                                     self.clock(), epsg)
        self.store.save_import_issues(version, prepared.warnings)
        with self._lock:
            prepared.index.version = version
            self._index = prepared.index
            # the new version's file replaces the old one: no process reads a stale index
            self._keep(self._cache_key(version), prepared.index)
        net = prepared.network
        return ImportReport(
            network_version=version,
            counts={"pipes": len(net.pipes), "nodes": len(net.nodes), "valves": len(net.valves),
                    "hydrants": len(net.hydrants), "sources": len(net.sources),
                    "service_connections": len(net.connections),
                    "segments": prepared.index.graph.n_segments},
            changed=changed, warnings=prepared.warnings[:REPORT_WARNINGS], crs=crs,
            metric_crs=f"EPSG:{epsg}", duration_s=round(time.perf_counter() - started, 3),
            warning_count=len(prepared.warnings),
            warnings_by_code=dict(Counter(w.code for w in prepared.warnings)),
            valve_placement=prepared.valve_placement)

    def import_warnings(self, version: int, cursor: int | None = None,
                        limit: int = 100) -> ImportIssuePage:
        """Every warning of the import that made ``version``, in order, one page at a time."""
        after = -1 if cursor is None else cursor
        items, total = self.store.import_issues(version, after, limit)
        last = after + len(items)
        return ImportIssuePage(items=items, total=total,
                               next_cursor=last if last + 1 < total else None)

    # -- isolation -------------------------------------------------------------------------
    def isolate(self, req: IsolationRequest) -> IsolationPlan:
        """Plan the shut-off for a break point or a set of pipes, store it and return it."""
        index = self.index()
        if (req.point is None) == (not req.pipe_ids):
            raise BadIsolationRequestError("give either a break point or pipe_ids, not both")
        snapped: tuple[float, float] | None = None
        distance: float | None = None
        if req.point is not None:
            pipes, snapped, distance = self._snap_break(index, req)
        else:
            unknown = [p for p in req.pipe_ids if p not in index.pipe_index]
            if unknown:
                raise PipeNotFoundError(unknown)
            pipes = list(dict.fromkeys(index.pipe_index[p] for p in req.pipe_ids))
        bad = [v for v in req.inoperable_valve_ids if v not in index.valve_index]
        if bad:
            raise ValveNotFoundError(bad)
        reported = frozenset(index.valve_index[v] for v in req.inoperable_valve_ids)
        inoperable = known_inoperable(index) | reported
        core = compute_plan(index, pipes, frozenset(inoperable), reported=reported)
        plan = to_plan(index, core, plan_id=uuid.uuid4().hex,
                       computed_at=self.clock().astimezone(UTC).isoformat(),
                       snapped_point=snapped, snap_distance_m=distance)
        zones = {z: [index.pipe_ids[i] for i in rows.tolist()]
                 for z, rows in zoned_pipes(index, core).items()}
        self.store.save_isolation(plan, _encode(req).decode(), zones)
        return plan

    def _snap_break(self, index: NetworkIndex, req: IsolationRequest
                    ) -> tuple[list[int], tuple[float, float], float]:
        assert req.point is not None  # noqa: S101 - checked by the caller
        if not 0 < req.tolerance_m <= MAX_SNAP_TOLERANCE_M:
            # a zero or negative radius finds no pipe and broke the snapping (a 500)
            raise BadIsolationRequestError(
                f"tolerance_m must be above 0 and at most {MAX_SNAP_TOLERANCE_M:g} m")
        lon, lat = device_to_wgs84(req.point[0], req.point[1], req.crs)
        x, y = index.projector.forward(np.array([lon]), np.array([lat]))
        snap = index.locator.snap(x, y, req.tolerance_m)
        if int(snap.pipe[0]) < 0:
            raise NoPipeNearPointError(lon, lat, req.tolerance_m)
        s_lon, s_lat = index.projector.inverse(snap.x, snap.y)
        return ([int(snap.pipe[0])], (round(float(s_lon[0]), 7), round(float(s_lat[0]), 7)),
                round(float(snap.distance_m[0]), 2))

    # -- overlapping outages ---------------------------------------------------------------
    def _core_of(self, index: NetworkIndex, isolation_id: str) -> PlanCore:
        """A stored plan recomputed on the current network (its pipes and seized valves)."""
        plan = self.plan(isolation_id)
        pipes = [index.pipe_index[p] for p in plan.broken_pipe_ids if p in index.pipe_index]
        if not pipes:
            raise PipeNotFoundError(plan.broken_pipe_ids)
        seized = {index.valve_index[v] for v in plan.extension.inoperable_valve_ids
                  if v in index.valve_index}
        return compute_plan(index, pipes, index.inoperable | seized, fallbacks=False)

    def combine(self, focus: str | None, groups: list[list[str]]) -> CombinedIsolation:
        """Isolations shut together, one group per set of outages active at one moment.

        Without ``focus`` the conflict is everything dry only because a group is shut at
        once; with it, only what ``focus`` joining each group adds (see
        ``geo.overlap.extra_from``). Valves to close: all of every group's, together.
        """
        index = self.index()
        ids = list(dict.fromkeys([*([focus] if focus else []), *(i for g in groups for i in g)]))
        cores = {i: self._core_of(index, i) for i in ids}
        conflict: set[int] = set()
        valves: set[int] = set()
        region: set[int] = set()
        for group in groups or [[]]:
            members = [cores[i] for i in dict.fromkeys(group) if i != focus]
            if focus is not None:
                conflict |= extra_from(index, cores[focus], members)
                combined = combine_plans(index, [cores[focus], *members])
            else:
                combined = combine_plans(index, members)
                conflict |= combined.conflict
            valves.update(combined.result.to_close)
            region |= combined.result.region
        g = index.graph
        pipes = np.sort(g.pipes_of(frozenset(conflict)))
        cust = customers_of_pipes(index, pipes)
        compounds = compound_counts(index, cust)
        seg = g.node_segment
        return CombinedIsolation(
            isolation_ids=ids, focus_isolation_id=focus,
            valves_to_close=[valve_action(index, v) for v in sorted(valves)],
            sources_to_shut=[s.id for s in index.sources
                             if int(seg[index.node_index[s.node_id]]) in region],
            conflict_pipe_ids=[index.pipe_ids[i] for i in pipes.tolist()],
            conflict_node_ids=sorted(index.node_ids[i]
                                     for i in g.nodes_of(frozenset(conflict)).tolist()),
            conflict_customer_ids=sorted(index.customers.ids[i] for i in cust.tolist()),
            conflict_compounds=sorted(compounds),
            conflict_streets=street_names(index, pipes, cust))

    def accept_supply_option(self, isolation_id: str, valve_id: str) -> IsolationPlan:
        """The dispatcher accepts feeding part of the cut-off through ``valve_id``.

        The valve (with the option's ``also_open`` valves, if one is not enough) joins
        ``accepted_supply_valve_ids``; the pipes it feeds leave the
        plan's affected list, so their customers are not told of an outage they will not
        have; the area is recomputed on next request.
        """
        plan = self.plan(isolation_id)
        if valve_id in plan.accepted_supply_valve_ids:
            return plan
        if valve_id not in {o.valve.valve_id for o in plan.supply_options}:
            raise SupplyOptionNotFoundError(isolation_id, valve_id)
        index = self.index()
        core = self._core_of(index, isolation_id)
        v = index.valve_index.get(valve_id)
        found = None if v is None else restored_segments(index, core.final.result, v)
        if found is None:  # the network changed since the plan was made
            raise SupplyOptionNotFoundError(isolation_id, valve_id)
        valves, restored = found
        pipes = np.sort(index.graph.pipes_of(restored))
        lost = int(customers_of_pipes(index, pipes).size)
        # every valve of the option is to be opened: the first names it
        opened = [index.valves[x].id for x in valves]
        updated = msgspec.structs.replace(
            plan, accepted_supply_valve_ids=list(dict.fromkeys(
                [*plan.accepted_supply_valve_ids, *opened])),
            customer_count=max(0, plan.customer_count - lost))
        self.store.accept_supply(updated, [index.pipe_ids[i] for i in pipes.tolist()])
        return updated

    def plan(self, isolation_id: str) -> IsolationPlan:
        found = self.store.isolation(isolation_id)
        if found is None:
            raise IsolationNotFoundError(isolation_id)
        return found[0]

    def area(self, isolation_id: str) -> AreaFeature:
        """The outage polygon (WGS84 GeoJSON Feature), computed once and stored."""
        found = self.store.isolation(isolation_id)
        if found is None:
            raise IsolationNotFoundError(isolation_id)
        plan, cached = found
        if cached is not None:
            return _area_decode(cached)
        index = self.index()
        pipes = np.array([index.pipe_index[p] for p in self.store.isolation_pipes(isolation_id)
                          if p in index.pipe_index], dtype=np.int64)
        customers = customers_of_pipes(index, pipes)
        feature = to_wgs84_feature(index, outage_polygon(index, pipes, customers), {
            "isolation_id": plan.id, "customer_count": plan.customer_count,
            "compounds": plan.compounds, "streets": plan.streets,
            "bounds": msgspec.to_builtins(plan.bounds)})
        self.store.set_area(isolation_id, _encode(feature).decode())
        return feature

    def affected_customers(self, isolation_id: str, cursor: str | None = None,
                           limit: int = 100) -> AffectedCustomerPage:
        if self.store.isolation(isolation_id) is None:
            raise IsolationNotFoundError(isolation_id)
        items, total = self.store.affected_customers(isolation_id, cursor, limit)
        nxt = items[-1].customer_id if len(items) == limit else None
        return AffectedCustomerPage(items=items, next_cursor=nxt, total=total)
