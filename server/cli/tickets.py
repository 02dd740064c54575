"""The ticket and complaint desk from the command line: scan, overdue, statistics.

``waterops tickets scan`` is what a cron job or the worker runs: it records reminders at
80 % of each allowed time and escalations when overdue, and retries unsent alerts.
"""

from __future__ import annotations

from datetime import timedelta

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
from server.clock import for_people
from server.errors import DomainError
from server.exports import for_excel
from server.tickets.model import (
    ComplaintIn,
    OverdueItem,
    ScanResult,
    TicketIn,
    TicketPage,
    TicketStatus,
)
from server.tickets.stats import StatsReport, to_csv
from server.tickets.store import PERIODS, TICKET_GROUPS
from server.workorders.model import Actor

#: the CLI acts as the local operator, with an admin's rights on this machine
OPERATOR = Actor(user_id="cli", role="admin")


@click.group(help="Tickets, complaints, reminders and service statistics.")
def tickets() -> None:
    pass


@tickets.command("create", help="Create a ticket from a JSON body (as POST /tickets).")
@click.argument("body")
@data_dir_option
@json_option
def create(body: str, data_dir: str | None, as_json: bool) -> None:
    svc = open_services(data_dir)
    try:
        t = svc.tickets.tickets.create(OPERATOR, msgspec.json.decode(body, type=TicketIn))
    except (msgspec.ValidationError, DomainError) as exc:
        fail(str(exc))
        return
    finally:
        svc.close()
    output(t, as_json, lambda x: "\n".join([f"{x.number} {x.category} {x.status}", *(
        f"  {d.rule:<24} due {for_people(d.due_at)}"
        + (" (provisional)" if d.provisional else "") for d in x.deadlines)]))


@tickets.command("complaint", help="Record a complaint from a JSON body (as POST /complaints).")
@click.argument("body")
@data_dir_option
@json_option
def complaint(body: str, data_dir: str | None, as_json: bool) -> None:
    svc = open_services(data_dir)
    try:
        c = svc.tickets.complaints.create(OPERATOR, msgspec.json.decode(body, type=ComplaintIn))
    except (msgspec.ValidationError, DomainError) as exc:
        fail(str(exc))
        return
    finally:
        svc.close()
    output(c, as_json, lambda x: f"{x.number} {x.kind} {x.status}")


@tickets.command("list", help="Tickets, newest first (by status, unit, overdue).")
@click.option("--status", type=click.Choice([s.value for s in TicketStatus]), default=None)
@click.option("--unit", default=None)
@click.option("--overdue", is_flag=True)
@click.option("--limit", default=50, type=int)
@cursor_option
@data_dir_option
@json_option
def list_tickets(status: str | None, unit: str | None, overdue: bool, limit: int,
                 cursor: str | None, data_dir: str | None, as_json: bool) -> None:
    svc = open_services(data_dir)
    try:
        page = svc.tickets.tickets.list(status=None if status is None else TicketStatus(status),
                                        unit=unit, overdue=overdue, limit=limit, cursor=cursor)
    except DomainError as exc:
        fail(str(exc))
        return
    finally:
        svc.close()

    def human(p: TicketPage) -> str:
        return ("\n".join(f"{t.number}  {t.status:<9} {t.category:<28} {t.title}"
                          for t in p.items) or "no tickets") + more(p.next_cursor)

    output(page, as_json, human)


@tickets.command("scan", help="Record due reminders and escalations (idempotent).")
@data_dir_option
@json_option
def scan(data_dir: str | None, as_json: bool) -> None:
    svc = open_services(data_dir)
    try:
        result = svc.tickets.reminders.scan()
    finally:
        svc.close()

    def human(r: ScanResult) -> str:
        lines = [f"{x.level:<8} {x.item_kind:<10} {x.item_id} {x.rule} -> {x.recipient_id}"
                 for x in r.reminders]
        return "\n".join([*lines, f"{len(r.reminders)} new, {r.alerts_retried} alerts resent"])

    output(result, as_json, human)


@tickets.command("overdue", help="Every open deadline past due (tickets, complaints, orders).")
@data_dir_option
@json_option
def overdue(data_dir: str | None, as_json: bool) -> None:
    svc = open_services(data_dir)
    try:
        items = svc.tickets.reminders.overdue()
    finally:
        svc.close()

    def human(xs: list[OverdueItem]) -> str:
        return "\n".join(f"{for_people(i.due_at)}  {i.item_kind:<10} {i.item_id} {i.rule} "
                         f"unit={i.unit or '-'}" + ("  (provisional)" if i.provisional else "")
                         for i in xs) or "nothing overdue"

    output(items, as_json, human)


@tickets.command("stats", help="Timeliness and service targets per rule, unit, crew, period.")
@click.option("--days", default=30, type=int, help="look back this many days (default 30)")
@click.option("--group-by", type=click.Choice(list(TICKET_GROUPS)), default="rule")
@click.option("--period", type=click.Choice(list(PERIODS)), default="all")
@click.option("--csv", "as_csv", is_flag=True, help="print CSV")
@data_dir_option
@json_option
def stats(days: int, group_by: str, period: str, as_csv: bool, data_dir: str | None,
          as_json: bool) -> None:
    svc = open_services(data_dir)
    try:
        until = svc.clock()
        report = svc.tickets.stats.report(since=until - timedelta(days=days), until=until,
                                          group_by=group_by, period=period)
    except DomainError as exc:
        fail(str(exc))
        return
    finally:
        svc.close()
    if as_csv:
        click.echo(for_excel(to_csv(report)), nl=False)
        return

    def human(r: StatsReport) -> str:
        lines = [f"{'metric':<26} {'source':<10} {'rule':<24} {'group':<10} {'period':<8} "
                 f"{'decided':>7} {'ok':>6} {'rate':>7} target"]
        for x in r.rows:
            rate = "-" if x.rate is None else f"{x.rate:.1%}"
            target = "-" if x.target is None else f"{x.target:.0%}"
            lines.append(f"{x.metric:<26} {x.source:<10} {x.rule:<24} {x.group:<10} "
                         f"{x.period:<8} {x.decided:>7} {x.achieved:>6} {rate:>7} {target}"
                         + (f"  ({x.provisional} provisional)" if x.provisional else ""))
        return "\n".join([*(f"WARNING: {w}" for w in r.calendar_warnings), *lines])

    output(report, as_json, human)


