"""New water connections from the command line: every step the HTTP API has.

Bodies are the same JSON as the HTTP requests; ``--json`` prints the connection (or the
statistics) as the API returns it. The CLI acts as the local operator (admin rights on
this machine), so field steps recorded here are the office's, not a crew's.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import click
import msgspec

from server.cli.common import (
    OPERATOR,
    cursor_option,
    data_dir_option,
    fail,
    json_option,
    more,
    open_services,
    output,
)
from server.clock import to_local
from server.connections.model import (
    AcceptIn,
    ApplicationIn,
    AppointmentIn,
    CancelIn,
    Connection,
    DesignIn,
    DocumentsIn,
    MeterIn,
    PhotoStepIn,
    ReturnVisitIn,
    Stage,
    StepIn,
)
from server.connections.service import ConnectionService
from server.connections.stats import to_csv
from server.errors import DomainError
from server.paging import Page
from sync.errors import SyncError

T = TypeVar("T")


def human(c: Connection) -> str:
    lines = [f"{c.number} {c.project_type} {c.stage} ({c.channel}) {c.address}"]
    if c.missing_documents:
        lines.append(f"  missing: {', '.join(c.missing_documents)}"
                     + (f" by {to_local(c.documents_due_at):%Y-%m-%d %H:%M}"
                        if c.documents_due_at else ""))
    if c.tie_in is not None:
        lines.append(f"  tie-in: {c.tie_in.pipe_id} DN{c.tie_in.diameter_mm:g} "
                     f"{c.tie_in.material} at {c.tie_in.distance_m:g} m; valves "
                     f"{', '.join(c.tie_in.valves)}")
    for d in c.deadlines:
        state = "met" if d.met_at else "open"
        lines.append(f"  {d.rule:<28} due {to_local(d.due_at):%Y-%m-%d %H:%M} {state}"
                     + (" OVERDUE" if d.overdue else "")
                     + (" (provisional)" if d.provisional else ""))
    return "\n".join(lines)


def _run(data_dir: str | None, as_json: bool,
         action: Callable[[ConnectionService], Any]) -> None:
    svc = open_services(data_dir)
    try:
        result = action(svc.connections)
    except (msgspec.ValidationError, msgspec.DecodeError, DomainError, SyncError) as exc:
        fail(str(exc))
        return
    finally:
        svc.close()
    if isinstance(result, Page):
        output(result, as_json, lambda p: ("\n".join(human(x) for x in p.items) or "(none)")
               + more(p.next_cursor))
    elif isinstance(result, list):
        output(result, as_json, lambda xs: "\n".join(human(x) for x in xs) or "(none)")
    else:
        output(result, as_json, human)


def _body(text: str, kind: type[T]) -> T:
    try:
        return msgspec.json.decode(text, type=kind)
    except (msgspec.ValidationError, msgspec.DecodeError) as exc:
        raise click.ClickException(f"bad body: {exc}") from exc


@click.group(help="New water connections (用水报装): application to water on.")
def connections() -> None:
    pass


@connections.command("apply", help="Record an application from a JSON body "
                                   "(as POST /connections).")
@click.argument("body")
@data_dir_option
@json_option
def apply(body: str, data_dir: str | None, as_json: bool) -> None:
    data = _body(body, ApplicationIn)
    _run(data_dir, as_json, lambda s: s.apply(OPERATOR, data))


@connections.command("accept", help="Accept an application (JSON body as POST "
                                    ".../acceptance, e.g. '{\"crew_id\": \"crew-a\"}').")
@click.argument("connection")
@click.argument("body", default="{}")
@data_dir_option
@json_option
def accept(connection: str, body: str, data_dir: str | None, as_json: bool) -> None:
    data = _body(body, AcceptIn)
    _run(data_dir, as_json, lambda s: s.accept(OPERATOR, connection, data))


@connections.command("documents", help="Documents handed in after acceptance.")
@click.argument("connection")
@click.argument("received", nargs=-1, required=True)
@data_dir_option
@json_option
def documents(connection: str, received: tuple[str, ...], data_dir: str | None,
              as_json: bool) -> None:
    data = DocumentsIn(received=list(received))
    _run(data_dir, as_json, lambda s: s.documents(OPERATOR, connection, data))


@connections.command("appointment", help="Book the survey visit (ISO time with offset).")
@click.argument("connection")
@click.argument("at")
@data_dir_option
@json_option
def appointment(connection: str, at: str, data_dir: str | None, as_json: bool) -> None:
    data = _body(msgspec.json.encode({"at": at}).decode(), AppointmentIn)
    _run(data_dir, as_json, lambda s: s.appointment(OPERATOR, connection, data))


@connections.command("design", help="File the design sketch: a drawing file (PDF, PNG, JPEG "
                                    "or WebP, uploaded) or the SHA-256 of one.")
@click.argument("connection")
@click.argument("drawing")
@click.option("--title", default="设计草图", show_default=True)
@data_dir_option
@json_option
def design(connection: str, drawing: str, title: str, data_dir: str | None,
           as_json: bool) -> None:
    path = Path(drawing)
    if path.is_file():
        data = path.read_bytes()
        _run(data_dir, as_json, lambda s: s.upload_design(OPERATOR, connection, data, title))
        return
    _run(data_dir, as_json,
         lambda s: s.design(OPERATOR, connection, DesignIn(sha256=drawing, title=title)))


@connections.command("step", help="Record a field step (kind check|note|document|geometry).")
@click.argument("connection")
@click.argument("step_key")
@click.option("--kind", default="check")
@click.option("--ref", default="yes", help="the value; for survey_point 'lon,lat'")
@data_dir_option
@json_option
def step(connection: str, step_key: str, kind: str, ref: str, data_dir: str | None,
         as_json: bool) -> None:
    data = StepIn(step_key=step_key, kind=kind, ref=ref)
    _run(data_dir, as_json, lambda s: s.record_step(OPERATOR, connection, data))


@connections.command("photo", help="File a photo (a JPEG/PNG file) under a step, e.g. "
                                   "survey_photos.")
@click.argument("connection")
@click.argument("step_key")
@click.argument("path", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@data_dir_option
@json_option
def photo(connection: str, step_key: str, path: Path, data_dir: str | None,
          as_json: bool) -> None:
    data = path.read_bytes()

    def act(s: ConnectionService) -> Connection:
        try:
            sha = s.fieldwork.service.blobs.put(data)
        except ValueError as exc:
            raise click.ClickException(str(exc)) from exc
        return s.attach_photo(OPERATOR, connection, PhotoStepIn(step_key=step_key, sha256=sha))

    _run(data_dir, as_json, act)


@connections.command("meter", help="The meter fitted: it goes on the new account.")
@click.argument("connection")
@click.argument("meter_no")
@click.option("--initial-reading", type=float, default=0.0)
@data_dir_option
@json_option
def meter(connection: str, meter_no: str, initial_reading: float, data_dir: str | None,
          as_json: bool) -> None:
    data = MeterIn(meter_no=meter_no, initial_reading=initial_reading)
    _run(data_dir, as_json, lambda s: s.fit_meter(OPERATOR, connection, data))


@connections.command("return-visit", help="Record the return visit after water on.")
@click.argument("connection")
@click.option("--satisfied/--unsatisfied", default=True)
@click.option("--note", default="")
@data_dir_option
@json_option
def return_visit(connection: str, satisfied: bool, note: str, data_dir: str | None,
                 as_json: bool) -> None:
    data = ReturnVisitIn(satisfied=satisfied, note=note)
    _run(data_dir, as_json, lambda s: s.return_visit(OPERATOR, connection, data))


@connections.command("cancel", help="Cancel an application with a reason.")
@click.argument("connection")
@click.argument("reason")
@data_dir_option
@json_option
def cancel(connection: str, reason: str, data_dir: str | None, as_json: bool) -> None:
    _run(data_dir, as_json, lambda s: s.cancel(OPERATOR, connection, CancelIn(reason=reason)))


@connections.command("show", help="One connection by id or number.")
@click.argument("connection")
@data_dir_option
@json_option
def show(connection: str, data_dir: str | None, as_json: bool) -> None:
    _run(data_dir, as_json, lambda s: s.get(OPERATOR, connection))


@connections.command("list", help="Connections, newest first.")
@click.option("--stage", type=click.Choice([s.value for s in Stage]), default=None)
@click.option("--overdue", is_flag=True, help="only those with a clock past due")
@click.option("--limit", default=50, type=click.IntRange(1, 500))
@cursor_option
@data_dir_option
@json_option
def list_(stage: str | None, overdue: bool, limit: int, cursor: str | None,
          data_dir: str | None, as_json: bool) -> None:
    if overdue:
        _run(data_dir, as_json, lambda s: s.overdue(limit, cursor))
    else:
        _run(data_dir, as_json, lambda s: s.list(None if stage is None else Stage(stage),
                                                 limit, cursor))


@connections.command("stats", help="Timeliness per stage, project type and unit, and the "
                                   "acceptance-to-water-on totals.")
@click.option("--csv", "as_csv", is_flag=True)
@data_dir_option
@json_option
def stats(as_csv: bool, data_dir: str | None, as_json: bool) -> None:
    svc = open_services(data_dir)
    try:
        report = svc.connections.stats(None, None)
    finally:
        svc.close()
    if as_csv:
        click.echo(to_csv(report), nl=False)
        return
    output(report, as_json, lambda r: "\n".join(
        [f"{x.stage:<14} {x.project_type:<20} {x.unit:<8} {x.on_time}/{x.decided}"
         for x in r.rows]
        + [f"total {t.project_type}: {t.connections} with water, mean "
           f"{t.mean_working_days} working days" for t in r.totals]))
