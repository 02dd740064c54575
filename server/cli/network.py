"""The pipe network from the command line: import, summary, isolate, area, customers.

Big networks (100k pipes) are imported here rather than over HTTP: no body size limit,
and the precompute does not hold a request open; a progress bar over the import's stages
is drawn on stderr (``server.cli.progress``: on a terminal only, never with ``--json``).
Layers are GeoJSON, CSV, Shapefile, GeoPackage or FileGDB (``geo.layers``).

``isolate`` asks the running service when one is configured (the ``service_url`` and
``service_token`` settings, or ``--server`` / ``--token``), which keeps the precomputed
network in memory; without one it works on the local store, whose precomputed index is
read from the cache file in the data folder (``geo.index_cache``), so only the first
call after an import elsewhere pays for building it (seconds on 100k pipes).
"""

from __future__ import annotations

from pathlib import Path

import click
import httpx
import msgspec

from geo.errors import GeoError
from geo.geojson import LAYERS, FeatureCollection, GeoJSONImport, InpImport
from geo.layers import read_layer_file
from geo.model import (
    AffectedCustomerPage,
    CoordSystem,
    ImportIssue,
    ImportReport,
    IsolationPlan,
    IsolationRequest,
    NetworkSummary,
)
from geo.service import NetworkService
from server.cli.common import (
    data_dir_option,
    fail,
    json_option,
    open_services,
    output,
    settings_from,
)
from server.cli.progress import StageBar
from server.clock import system_clock
from server.services import Services

_plan_decode = msgspec.json.Decoder(IsolationPlan).decode
_encode = msgspec.json.Encoder().encode


def _layers(options: dict[str, str | None], crs: str) -> dict[str, FeatureCollection]:
    out = {}
    for name in LAYERS:
        path = options.get(name)
        if path:
            try:
                out[name] = read_layer_file(Path(path), name, crs)
            except GeoError as exc:
                fail(exc.detail)
    return out


def _layer_options(func: click.decorators.FC) -> click.decorators.FC:
    for name in reversed(LAYERS):
        func = click.option(f"--{name.replace('_', '-')}", name, default=None,
                            type=click.Path(exists=True),
                            help=f"{name.replace('_', ' ')}: GeoJSON, CSV, .shp, .gpkg or "
                                 f".gdb")(func)
    return func


def _all_warnings(service: NetworkService, r: ImportReport) -> list[ImportIssue]:
    items: list[ImportIssue] = []
    cursor: int | None = None
    while True:
        page = service.import_warnings(r.network_version, cursor, 1000)
        items += page.items
        if page.next_cursor is None:
            return items
        cursor = page.next_cursor


def _report(r: ImportReport, warnings: list[ImportIssue]) -> str:
    lines = [f"network version {r.network_version} ({r.metric_crs}) in {r.duration_s} s"]
    lines += [f"  {k:20s} {v:>8d}" + (f"  changed {r.changed[k]}" if k in r.changed else "")
              for k, v in r.counts.items()]
    if r.valve_placement:
        lines.append(f"  valves placed by pipe/node id {r.valve_placement.get('by_id', 0)}, "
                     f"snapped by position {r.valve_placement.get('snapped', 0)}")
    if r.warnings_by_code:
        lines.append("  warnings: " + ", ".join(f"{c} {n}" for c, n in
                                                sorted(r.warnings_by_code.items())))
    lines += [f"  warning [{w.code}] {w.message}" for w in warnings]
    return "\n".join(lines)


def _run_import(body: GeoJSONImport | InpImport, data_dir: str | None, as_json: bool,
                quiet: bool) -> None:
    services = open_services(data_dir)
    try:
        with StageBar.on_stderr(quiet or as_json) as progress:
            if isinstance(body, InpImport):
                report = services.network.import_inp(body, progress)
            else:
                report = services.network.import_geojson(body, progress)
            progress("done")
    except GeoError as exc:
        fail(f"{exc.detail}\n{msgspec.json.encode(exc.extra).decode()}")
        return
    warnings = _all_warnings(services.network, report)
    if as_json:
        # every warning, not only the report's first page
        output(msgspec.structs.replace(report, warnings=warnings), True)
    else:
        output(report, False, lambda r: _report(r, warnings))


@click.group(help="Pipe network: import (GeoJSON, EPANET .inp), isolation plans, outage area.")
def network() -> None:
    pass


_CRS_HELP = ("EPSG:xxxx, a PROJ string, GCJ-02, or a local frame local:LON,LAT[,X0,Y0] "
             "(metres east/north of an origin)")
_strict_option = click.option("--strict", is_flag=True,
                              help="refuse the import if there is any warning")
_quiet_option = click.option("--quiet", is_flag=True,
                             help="no progress bar on stderr (none with --json or off a "
                                  "terminal either)")


@network.command("import-geojson", help="Replace the layers given (others are kept).")
@_layer_options
@click.option("--crs", default="EPSG:4326", show_default=True, help=f"CRS: {_CRS_HELP}")
@click.option("--snap-m", default=5.0, show_default=True, help="valve snapping tolerance")
@_strict_option
@_quiet_option
@data_dir_option
@json_option
def import_geojson(crs: str, snap_m: float, strict: bool, quiet: bool, data_dir: str | None,
                   as_json: bool, **layers: str | None) -> None:
    body = GeoJSONImport(layers=_layers(layers, crs), crs=crs, snap_tolerance_m=snap_m,
                         strict=strict)
    if not body.layers:
        fail("give at least one layer, e.g. --pipes pipes.geojson")
    _run_import(body, data_dir, as_json, quiet)


@network.command("import-inp", help="EPANET model plus GIS layers (valves by pipe/node id or "
                                    "snapped from points).")
@click.argument("inp_file", type=click.Path(exists=True, dir_okay=False))
@click.option("--crs", required=True, help=f"CRS of the .inp coordinates: {_CRS_HELP}")
@_layer_options
@click.option("--layers-crs", default="EPSG:4326", show_default=True)
@click.option("--snap-m", default=5.0, show_default=True, help="valve snapping tolerance")
@_strict_option
@_quiet_option
@data_dir_option
@json_option
def import_inp(inp_file: str, crs: str, layers_crs: str, snap_m: float, strict: bool,
               quiet: bool, data_dir: str | None, as_json: bool, **layers: str | None) -> None:
    body = InpImport(inp=Path(inp_file).read_text(encoding="utf-8"), crs=crs,
                     layers=_layers(layers, layers_crs), layers_crs=layers_crs,
                     snap_tolerance_m=snap_m, strict=strict)
    _run_import(body, data_dir, as_json, quiet)


@network.command("warnings", help="Every warning of one import, paged.")
@click.argument("version", type=int)
@click.option("--cursor", default=None, type=int)
@click.option("--limit", default=1000, type=int)
@data_dir_option
@json_option
def warnings_cmd(version: int, cursor: int | None, limit: int, data_dir: str | None,
                 as_json: bool) -> None:
    page = open_services(data_dir).network.import_warnings(version, cursor, limit)
    output(page, as_json, lambda p: "\n".join(
        [*(f"[{w.code}] {w.layer} {w.entity_id or ''}: {w.message}" for w in p.items),
         f"({p.total} in all; next cursor {p.next_cursor})"]))


@network.command("summary", help="The network's version, isolation segments and count per layer.")
@data_dir_option
@json_option
def summary(data_dir: str | None, as_json: bool) -> None:
    try:
        s = open_services(data_dir).network.summary()
    except GeoError as exc:
        fail(exc.detail)
        return

    def human(v: NetworkSummary) -> str:
        counts = ", ".join(f"{k} {n}" for k, n in v.counts.items())
        return f"version {v.network_version}, {v.segments} segments, {counts}"

    output(s, as_json, human)


def _plan_text(p: IsolationPlan) -> str:
    lines = [f"isolation {p.id}: pipes {', '.join(p.broken_pipe_ids)}",
             f"  close {len(p.valves_to_close)} valve(s):"]
    for v in p.valves_to_close:
        fb = v.fallback
        also = [*(x.valve_id for x in fb.extra_valves),
                *(f"shut {s}" for s in fb.sources_to_shut)] if fb else []
        plan_b = (f" | if it fails: also {', '.join(also) or '-'}"
                  f" (+{fb.extra_customer_count} customers, nodes "
                  f"{', '.join(fb.extra_node_ids[:8]) or '-'})") if fb else ""
        lines.append(f"    {v.valve.valve_id} DN{v.valve.diameter_mm or 0:.0f} at "
                     f"({v.valve.lon:.6f}, {v.valve.lat:.6f}){plan_b}")
    if p.sources_to_shut:
        lines.append(f"  shut sources: {', '.join(p.sources_to_shut)}")
    if p.extension.inoperable_valve_ids:
        lines.append(f"  inoperable: {', '.join(p.extension.inoperable_valve_ids)} -> extra "
                     f"valves {', '.join(p.extension.extra_valve_ids) or '-'}")
    if p.extension.not_needed_inoperable_ids:
        lines.append(f"  reported inoperable but not needed by this plan: "
                     f"{', '.join(p.extension.not_needed_inoperable_ids)}")
    lines.append(f"  {p.customer_count} customers; compounds: {', '.join(p.compounds[:10])}")
    b = p.bounds
    lines.append(f"  四至: 东至{b.east} 西至{b.west} 南至{b.south} 北至{b.north}")
    return "\n".join(lines)


@network.command("isolate", help="Plan the shut-off for a break point or for pipes.")
@click.option("--pipe", "pipes", multiple=True, help="pipe id (repeat for a planned job)")
@click.option("--at", "point", default=None, help="break point lon,lat")
@click.option("--crs", type=click.Choice([c.value for c in CoordSystem]), default="wgs84")
@click.option("--inoperable", multiple=True, help="valve id found seized (repeatable)")
@click.option("--tolerance-m", default=50.0, show_default=True)
@click.option("--server", default=None,
              help="base URL of the running service (default: the service_url setting, "
                   "WATEROPS_SERVICE_URL): it keeps the network precomputed")
@click.option("--token", default=None,
              help="device token for the service (default: the service_token setting)")
@click.option("--local", is_flag=True,
              help="use the local store even when a service is configured")
@data_dir_option
@json_option
def isolate(pipes: tuple[str, ...], point: str | None, crs: str,
            inoperable: tuple[str, ...], tolerance_m: float, server: str | None,
            token: str | None, local: bool, data_dir: str | None, as_json: bool) -> None:
    at = None
    if point:
        try:
            lon, lat = (float(x) for x in point.split(","))
        except ValueError:
            fail("--at takes lon,lat")
            return
        at = (lon, lat)
    req = IsolationRequest(point=at, crs=CoordSystem(crs), pipe_ids=list(pipes),
                           inoperable_valve_ids=list(inoperable), tolerance_m=tolerance_m)
    settings = settings_from(data_dir)
    server = None if local else server or settings.service_url
    if server:
        output(_isolate_remote(server, token or settings.service_token, req), as_json,
               _plan_text)
        return
    try:
        plan = Services(settings, system_clock).network.isolate(req)
    except GeoError as exc:
        fail(exc.detail)
        return
    output(plan, as_json, _plan_text)


@network.command("area", help="The outage area of an isolation as GeoJSON.")
@click.argument("isolation_id")
@data_dir_option
def area(isolation_id: str, data_dir: str | None) -> None:
    try:
        feature = open_services(data_dir).network.area(isolation_id)
    except GeoError as exc:
        fail(exc.detail)
        return
    output(feature, True)


@network.command("customers", help="Affected customers of an isolation, one page.")
@click.argument("isolation_id")
@click.option("--cursor", default=None)
@click.option("--limit", default=100, type=int)
@data_dir_option
@json_option
def customers(isolation_id: str, cursor: str | None, limit: int, data_dir: str | None,
              as_json: bool) -> None:
    try:
        page = open_services(data_dir).network.affected_customers(isolation_id, cursor, limit)
    except GeoError as exc:
        fail(exc.detail)
        return

    def human(p: AffectedCustomerPage) -> str:
        rows = [f"{c.customer_id}  {c.zone:9s} {c.compound} {c.address}" for c in p.items]
        return "\n".join([*rows, f"({p.total} in all; next cursor {p.next_cursor})"])

    output(page, as_json, human)


def _isolate_remote(server: str, token: str | None, req: IsolationRequest) -> IsolationPlan:
    """The plan from the running service, which holds the precomputed network."""
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    try:
        r = httpx.post(f"{server.rstrip('/')}/api/v1/network/isolations", content=_encode(req),
                       headers={**headers, "Content-Type": "application/json"}, timeout=30)
    except httpx.HTTPError as exc:
        fail(f"cannot reach {server}: {exc}")
    if r.status_code >= 400:
        try:
            detail = str(r.json().get("detail", r.text))
        except ValueError:
            detail = r.text
        fail(f"{r.status_code}: {detail}")
    return _plan_decode(r.content)
