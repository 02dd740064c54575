"""Service information to publish (JN 11, ZJ: within 20 working days of a change) from the
command line: the same calls as ``/api/v1/service-info``, Shanghai times for people."""

from __future__ import annotations

import click
import msgspec

from server.cli.common import (
    cursor_option,
    data_dir_option,
    fail,
    json_option,
    more,
    open_services,
    output,
)
from server.clock import to_local
from server.errors import DomainError
from server.tickets.model import PublishedIn, ServiceInfo, ServiceInfoIn
from server.workorders.model import Actor

#: the CLI acts as the local operator
OPERATOR = Actor(user_id="cli", role="admin")


def _line(i: ServiceInfo) -> str:
    state = (f"published {to_local(i.published_at):%Y-%m-%d %H:%M}" if i.published_at
             else "OVERDUE" if i.overdue else "open")
    mark = " (provisional)" if i.provisional else ""
    return (f"{i.id}  due {to_local(i.due_at):%Y-%m-%d %H:%M}{mark}  {state:<24} "
            f"{i.category:<18} {i.title}")


@click.group("service-info",
             help="Service information to publish within 20 working days (JN 11, ZJ).")
def service_info() -> None:
    pass


@service_info.command("register", help="Register a change (JSON body as POST /service-info).")
@click.argument("body")
@data_dir_option
@json_option
def register(body: str, data_dir: str | None, as_json: bool) -> None:
    svc = open_services(data_dir)
    try:
        item = svc.tickets.publication.register(
            OPERATOR, msgspec.json.decode(body, type=ServiceInfoIn))
    except (msgspec.ValidationError, DomainError) as exc:
        fail(str(exc))
        return
    finally:
        svc.close()
    output(item, as_json, _line)


@service_info.command("list", help="Registered items, newest change first.")
@click.option("--overdue", is_flag=True, help="only unpublished items past due")
@click.option("--limit", default=100, type=click.IntRange(1, 500))
@cursor_option
@data_dir_option
@json_option
def list_items(overdue: bool, limit: int, cursor: str | None, data_dir: str | None,
               as_json: bool) -> None:
    svc = open_services(data_dir)
    try:
        page = svc.tickets.publication.list(overdue=overdue, limit=limit, cursor=cursor)
    except DomainError as exc:
        fail(str(exc))
        return
    finally:
        svc.close()
    output(page, as_json, lambda p: ("\n".join(_line(i) for i in p.items)
                                     or "nothing registered") + more(p.next_cursor))


@service_info.command("published", help="Record where an item was published.")
@click.argument("info_id")
@click.option("--where", required=True, help="website, counters, WeChat, hotline, media")
@data_dir_option
@json_option
def published(info_id: str, where: str, data_dir: str | None, as_json: bool) -> None:
    svc = open_services(data_dir)
    try:
        item = svc.tickets.publication.publish(OPERATOR, info_id, PublishedIn(where=where))
    except DomainError as exc:
        fail(str(exc))
        return
    finally:
        svc.close()
    output(item, as_json, _line)
