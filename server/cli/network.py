"""The pipe network from the command line: import, summary, isolate, area, customers.

Big networks (100k pipes) are imported here rather than over HTTP: no body size limit,
and the precompute does not hold a request open.
"""

from __future__ import annotations

from pathlib import Path

import click
import msgspec

from geo.errors import GeoError
from geo.geojson import LAYERS, FeatureCollection, GeoJSONImport, InpImport
from geo.model import (
    AffectedCustomerPage,
    CoordSystem,
    ImportReport,
    IsolationPlan,
    IsolationRequest,
    NetworkSummary,
)
from server.cli.common import data_dir_option, fail, json_option, open_services, output

_fc_decode = msgspec.json.Decoder(FeatureCollection).decode


def _layers(options: dict[str, str | None]) -> dict[str, FeatureCollection]:
    out = {}
    for name in LAYERS:
        path = options.get(name)
        if path:
            try:
                out[name] = _fc_decode(Path(path).read_bytes())
            except (OSError, msgspec.ValidationError, msgspec.DecodeError) as exc:
                fail(f"{name}: cannot read {path}: {exc}")
    return out


def _layer_options(func: click.decorators.FC) -> click.decorators.FC:
    for name in reversed(LAYERS):
        func = click.option(f"--{name.replace('_', '-')}", name, default=None,
                            type=click.Path(exists=True, dir_okay=False),
                            help=f"GeoJSON FeatureCollection of {name.replace('_', ' ')}")(func)
    return func


def _report(r: ImportReport) -> str:
    lines = [f"network version {r.network_version} ({r.metric_crs}) in {r.duration_s} s"]
    lines += [f"  {k:20s} {v:>8d}" + (f"  changed {r.changed[k]}" if k in r.changed else "")
              for k, v in r.counts.items()]
    lines += [f"  warning [{w.code}] {w.message}" for w in r.warnings]
    return "\n".join(lines)


@click.group(help="Pipe network: import (GeoJSON, EPANET .inp), isolation plans, outage area.")
def network() -> None:
    pass


@network.command("import-geojson", help="Replace the layers given (others are kept).")
@_layer_options
@click.option("--crs", default="EPSG:4326", show_default=True, help="CRS of the coordinates")
@click.option("--snap-m", default=5.0, show_default=True, help="valve snapping tolerance")
@data_dir_option
@json_option
def import_geojson(crs: str, snap_m: float, data_dir: str | None, as_json: bool,
                   **layers: str | None) -> None:
    body = GeoJSONImport(layers=_layers(layers), crs=crs, snap_tolerance_m=snap_m)
    if not body.layers:
        fail("give at least one layer, e.g. --pipes pipes.geojson")
    try:
        report = open_services(data_dir).network.import_geojson(body)
    except GeoError as exc:
        fail(f"{exc.detail}\n{msgspec.json.encode(exc.extra).decode()}")
        return
    output(report, as_json, _report)


@network.command("import-inp", help="EPANET model plus GIS layers (valves from GeoJSON points).")
@click.argument("inp_file", type=click.Path(exists=True, dir_okay=False))
@click.option("--crs", required=True, help="CRS of the .inp coordinates, e.g. EPSG:4548")
@_layer_options
@click.option("--layers-crs", default="EPSG:4326", show_default=True)
@click.option("--snap-m", default=5.0, show_default=True, help="valve snapping tolerance")
@data_dir_option
@json_option
def import_inp(inp_file: str, crs: str, layers_crs: str, snap_m: float, data_dir: str | None,
               as_json: bool, **layers: str | None) -> None:
    body = InpImport(inp=Path(inp_file).read_text(encoding="utf-8"), crs=crs,
                     layers=_layers(layers), layers_crs=layers_crs, snap_tolerance_m=snap_m)
    try:
        report = open_services(data_dir).network.import_inp(body)
    except GeoError as exc:
        fail(f"{exc.detail}\n{msgspec.json.encode(exc.extra).decode()}")
        return
    output(report, as_json, _report)


@network.command("summary")
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
                  f" (+{fb.extra_customer_count} customers)") if fb else ""
        lines.append(f"    {v.valve.valve_id} DN{v.valve.diameter_mm or 0:.0f} at "
                     f"({v.valve.lon:.6f}, {v.valve.lat:.6f}){plan_b}")
    if p.sources_to_shut:
        lines.append(f"  shut sources: {', '.join(p.sources_to_shut)}")
    if p.extension.inoperable_valve_ids:
        lines.append(f"  inoperable: {', '.join(p.extension.inoperable_valve_ids)} -> extra "
                     f"valves {', '.join(p.extension.extra_valve_ids) or '-'}")
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
@data_dir_option
@json_option
def isolate(pipes: tuple[str, ...], point: str | None, crs: str,
            inoperable: tuple[str, ...], tolerance_m: float, data_dir: str | None,
            as_json: bool) -> None:
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
    try:
        plan = open_services(data_dir).network.isolate(req)
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
