"""Work orders and timeliness from the command line."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path

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
from server.errors import DomainError
from server.workorders.model import (
    Actor,
    AssignIn,
    Status,
    TransitionIn,
    WorkOrderIn,
    WorkOrderPage,
    WorkOrderType,
)
from server.workorders.store import Filters


@click.group(help="Work orders: create, import, list, move, assign, timeliness.")
def workorders() -> None:
    pass


@workorders.command("create", help="Create from a JSON body (same shape as POST /workorders).")
@click.argument("body")
@data_dir_option
@json_option
def create(body: str, data_dir: str | None, as_json: bool) -> None:
    svc = open_services(data_dir)
    try:
        data = msgspec.json.decode(body.encode(), type=WorkOrderIn)
        wo = svc.workorders.create(Actor(user_id="cli", role="admin"), data)
    except (msgspec.ValidationError, DomainError) as exc:
        fail(str(exc))
        return
    output(wo, as_json, lambda w: f"{w.number} {w.type} {w.status} due {w.due_at}")


_order_decode = msgspec.json.Decoder(WorkOrderIn).decode
_orders_decode = msgspec.json.Decoder(list[WorkOrderIn]).decode


def read_orders(text: str) -> tuple[list[WorkOrderIn], list[int]]:
    """The orders of an import file and the line each starts on: a JSON array of
    ``POST /workorders`` bodies, or one body per line (JSON lines; blank lines skipped).
    A malformed body raises ``click.ClickException`` naming its line (or array index)."""
    if text.lstrip().startswith("["):
        try:
            orders = _orders_decode(text.encode())
        except msgspec.MsgspecError as exc:
            raise click.ClickException(f"the JSON array is invalid: {exc}") from exc
        return orders, []
    orders, lines = [], []
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            orders.append(_order_decode(line.encode()))
        except msgspec.MsgspecError as exc:
            raise click.ClickException(f"line {number}: {exc}") from exc
        lines.append(number)
    return orders, lines


@workorders.command("import", help="Create many work orders from a file, all or none "
                                   "(JSON lines or a JSON array of POST /workorders bodies).")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@data_dir_option
@json_option
def import_orders(file: Path, data_dir: str | None, as_json: bool) -> None:
    try:
        text = file.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise click.ClickException(f"{file} is not UTF-8: {exc}") from exc
    orders, lines = read_orders(text)
    svc = open_services(data_dir)
    try:
        result = svc.workorders.create_many(Actor(user_id="cli", role="admin"), orders)
    except DomainError as exc:
        index = exc.extra.get("index")
        where = (f"line {lines[index]}: " if isinstance(index, int) and index < len(lines)
                 else "")
        fail(f"{where}{exc}; nothing was imported")
        return
    finally:
        svc.close()
    output(result, as_json, lambda r: f"{r.created} work orders created"
           + (f": {r.numbers[0]} to {r.numbers[-1]}" if r.numbers else ""))


@workorders.command("list", help="Work orders, newest first (by type, status, crew, overdue).")
@click.option("--type", "type_", type=click.Choice([t.value for t in WorkOrderType]), default=None)
@click.option("--status", type=click.Choice([s.value for s in Status]), default=None)
@click.option("--crew", "crew_id", default=None)
@click.option("--overdue", is_flag=True)
@click.option("--limit", default=50, type=int)
@cursor_option
@data_dir_option
@json_option
def list_orders(type_: str | None, status: str | None, crew_id: str | None, overdue: bool,
                limit: int, cursor: str | None, data_dir: str | None, as_json: bool) -> None:
    svc = open_services(data_dir)
    try:
        page = svc.workorders.list(OPERATOR, Filters(
            type=WorkOrderType(type_) if type_ else None,
            status=Status(status) if status else None, crew_id=crew_id, cursor=cursor,
            overdue_at=svc.clock() if overdue else None, limit=limit))
    except DomainError as exc:
        fail(str(exc))
        return

    def human(p: WorkOrderPage) -> str:
        return ("\n".join(f"{w.number}  {w.type:20s} {w.status:12s} crew={w.crew_id} "
                          f"due={w.due_at}" for w in p.items) or "no work orders"
                ) + more(p.next_cursor)

    output(page, as_json, human)


@workorders.command("transition", help="Move a work order to another status.")
@click.argument("wo_id")
@click.argument("to", type=click.Choice([s.value for s in Status]))
@click.option("--reason", default=None)
@data_dir_option
@json_option
def transition(wo_id: str, to: str, reason: str | None, data_dir: str | None,
               as_json: bool) -> None:
    svc = open_services(data_dir)
    try:
        wo = svc.workorders.transition(OPERATOR, wo_id, TransitionIn(to=Status(to), reason=reason))
    except DomainError as exc:
        fail(str(exc))
        return
    output(wo, as_json, lambda w: f"{w.number} is now {w.status}")


@workorders.command("assign", help="Hand a work order to a crew.")
@click.argument("wo_id")
@click.argument("crew_id")
@data_dir_option
@json_option
def assign(wo_id: str, crew_id: str, data_dir: str | None, as_json: bool) -> None:
    svc = open_services(data_dir)
    try:
        wo = svc.workorders.assign(OPERATOR, wo_id, AssignIn(crew_id=crew_id))
    except DomainError as exc:
        fail(str(exc))
        return
    output(wo, as_json, lambda w: f"{w.number} assigned to {w.crew_id}")


@workorders.command("inspection-on-site",
                    help="LC §30: the inspection team reached a third party's damage.")
@click.argument("wo_id")
@data_dir_option
@json_option
def inspection_on_site(wo_id: str, data_dir: str | None, as_json: bool) -> None:
    svc = open_services(data_dir)
    try:
        wo = svc.workorders.inspection_on_site(OPERATOR, wo_id)
    except DomainError as exc:
        fail(str(exc))
        return
    finally:
        svc.close()
    output(wo, as_json, lambda w: f"{w.number} inspection team on site")


@workorders.command("timeliness", help="Timeliness rate per rule against the target.")
@click.option("--since", default=None, help="ISO time with offset")
@click.option("--crew", "crew_id", default=None)
@data_dir_option
@json_option
def timeliness(since: str | None, crew_id: str | None, data_dir: str | None,
               as_json: bool) -> None:
    svc = open_services(data_dir)
    report = svc.workorders.timeliness(
        datetime.fromisoformat(since) if since else None, None, crew_id)
    output(report, as_json, lambda r: json.dumps(msgspec.to_builtins(r), ensure_ascii=False,
                                                 indent=2))
