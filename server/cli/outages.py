"""Outages and notices from the command line: the same calls as the HTTP routes.

``waterops outages worker`` runs the outbox worker: ``--once`` drains what is due now
(after the tick that raises automatic delay notices and temporary-supply tasks);
without it, it loops until interrupted. Several workers may run at once: leases keep
them from sending the same row.
"""

from __future__ import annotations

import json
import sys
import threading
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

import click
import msgspec

from geo.errors import GeoError
from notifications import (
    AnnounceIn,
    CancelIn,
    DelayIn,
    NotificationError,
    Outage,
    OutageIn,
    OutageState,
    RunSummary,
    WorkerConfig,
)
from server.accounts.model import Principal, Role
from server.cli.common import data_dir_option, fail, json_option, open_services, output
from server.exports import for_excel
from server.outage_conflicts import OutageConflicts, announce_outage, outage_conflicts
from server.outage_planning import OutageFromIsolationIn, outage_from_isolation

#: the CLI acts as the local operator, with supervisor rights on this machine
OPERATOR = "cli"
OPERATOR_ROLE = "supervisor"
#: the same operator as a principal, for the actions ``server.authz`` checks
OPERATOR_PRINCIPAL = Principal(user_id=OPERATOR, name="operator (CLI)",
                               role=Role(OPERATOR_ROLE), crew_id=None, unit="")
T = TypeVar("T")


def _run(action: Callable[[], T]) -> T:
    try:
        return action()
    except (NotificationError, GeoError, msgspec.ValidationError) as exc:
        fail(str(exc))
        raise  # unreachable: fail() raises


def _body(text: str) -> bytes:
    """A JSON argument, or ``@file`` to read it from a file."""
    return Path(text[1:]).read_bytes() if text.startswith("@") else text.encode()


@click.group(help="Outages: create, announce, delay, restore; send notices; prove it.")
def outages() -> None:
    pass


@outages.command("create", help="Create a draft outage from JSON (same shape as POST /outages).")
@click.argument("body")
@data_dir_option
@json_option
def create(body: str, data_dir: str | None, as_json: bool) -> None:
    svc = open_services(data_dir)
    outage = _run(lambda: svc.outages.create(
        OPERATOR, msgspec.json.decode(_body(body), type=OutageIn)))
    output(outage, as_json, lambda o: f"{o.id} {o.kind} {o.state} customers={o.customer_count}")


@outages.command("from-isolation",
                 help="Create a draft outage whose recipients are an isolation's customers.")
@click.argument("body")
@data_dir_option
@json_option
def from_isolation(body: str, data_dir: str | None, as_json: bool) -> None:
    svc = open_services(data_dir)

    def make() -> Outage:
        data = msgspec.json.decode(_body(body), type=OutageFromIsolationIn)
        try:
            return outage_from_isolation(OPERATOR, data, svc.network, svc.customers.store,
                                         svc.outages)
        except GeoError as exc:
            fail(str(exc))
            raise

    outage = _run(make)
    output(outage, as_json, lambda o: f"{o.id} {o.kind} {o.state} customers={o.customer_count}")


@outages.command("list", help="Outages, newest first (optionally one state).")
@click.option("--state", type=click.Choice([s.value for s in OutageState]), default=None)
@data_dir_option
@json_option
def list_outages(state: str | None, data_dir: str | None, as_json: bool) -> None:
    svc = open_services(data_dir)
    found = svc.outages.list_outages([OutageState(state)] if state else None)
    output(found, as_json, lambda items: "\n".join(
        f"{o.id}  {o.kind:15s} {o.state:10s} {o.start_at.isoformat()}  {o.customer_count}"
        for o in items) or "no outages")


@outages.command("announce", help="Queue the notice (emergency: at once).")
@click.argument("outage_id")
@click.option("--override-reason", default=None,
              help="announce inside the lead time (supervisor); the reason is recorded")
@click.option("--accept-conflict", "conflict_reason", default=None,
              help="accept that overlapping outages cut off more customers (supervisor); "
                   "they are added and notified; the reason is recorded")
@data_dir_option
@json_option
def announce(outage_id: str, override_reason: str | None, conflict_reason: str | None,
             data_dir: str | None, as_json: bool) -> None:
    svc = open_services(data_dir)
    body = AnnounceIn(override_reason=override_reason, accept_conflict_reason=conflict_reason)
    outage = _run(lambda: announce_outage(OPERATOR, OPERATOR_ROLE, outage_id, body,
                                          svc.outages, svc.network, svc.customers.store))
    output(outage, as_json, lambda o: f"{o.id} is {o.state}; notices queued")


@outages.command("conflicts", help="What an outage adds to the outages at the same time.")
@click.argument("outage_id")
@data_dir_option
@json_option
def conflicts(outage_id: str, data_dir: str | None, as_json: bool) -> None:
    svc = open_services(data_dir)
    report = _run(lambda: outage_conflicts(outage_id, svc.outages, svc.network))

    def human(r: OutageConflicts) -> str:
        c = r.combined
        lines = [f"{r.outage_id}: overlaps {', '.join(r.overlapping_outage_ids) or 'nothing'}"]
        if c is not None:
            lines.append(f"  close together: {', '.join(v.valve_id for v in c.valves_to_close)}")
            lines.append(f"  conflict: {r.conflict_customer_count} customer(s), "
                         f"{len(c.conflict_pipe_ids)} pipe(s), {len(c.conflict_node_ids)} "
                         f"node(s); compounds {', '.join(c.conflict_compounds) or '-'}")
            lines += [f"    {cid}" for cid in c.conflict_customer_ids]
        return "\n".join(lines)

    output(report, as_json, human)


@outages.command("sms-cost", help="Segments, SMS count and cost of announcing an outage.")
@click.argument("outage_id")
@data_dir_option
@json_option
def sms_cost(outage_id: str, data_dir: str | None, as_json: bool) -> None:
    svc = open_services(data_dir)
    cost = _run(lambda: svc.outages.sms_cost(outage_id))
    output(cost, as_json, lambda c: "\n".join([
        f"{c.outage_id}: {c.segments} part(s) per SMS ({c.note})",
        f"  {c.sms_recipients} of {c.recipients} recipients by SMS first, "
        f"{c.fallback_recipients} more if WeChat fails",
        f"  {c.messages} parts, {c.cost:.2f} CNY (worst case {c.worst_case_cost:.2f}) at "
        f"{c.price_per_segment:g} per part",
        f"  text: {c.text}"]))


@outages.command("start", help="The water is off: the outage has started.")
@click.argument("outage_id")
@data_dir_option
@json_option
def start(outage_id: str, data_dir: str | None, as_json: bool) -> None:
    svc = open_services(data_dir)
    output(_run(lambda: svc.outages.start(OPERATOR_PRINCIPAL, outage_id)), as_json,
           lambda o: f"{o.id} is {o.state}")


@outages.command("delay", help="Announce a later restoration (ISO time with offset).")
@click.argument("outage_id")
@click.argument("until")
@click.option("--reason", default="")
@data_dir_option
@json_option
def delay(outage_id: str, until: str, reason: str, data_dir: str | None, as_json: bool) -> None:
    svc = open_services(data_dir)
    data = msgspec.convert({"expected_restoration_at": until, "reason": reason}, DelayIn)
    output(_run(lambda: svc.outages.delay(OPERATOR, outage_id, data)), as_json,
           lambda o: f"{o.id} is {o.state}, restoration {o.expected_restoration_at.isoformat()}")


@outages.command("restore", help="Water is back: send the restoration notice.")
@click.argument("outage_id")
@data_dir_option
@json_option
def restore(outage_id: str, data_dir: str | None, as_json: bool) -> None:
    svc = open_services(data_dir)
    output(_run(lambda: svc.outages.restore(OPERATOR_PRINCIPAL, outage_id)), as_json,
           lambda o: f"{o.id} is {o.state}")


@outages.command("cancel", help="Cancel an outage with a reason (customers told).")
@click.argument("outage_id")
@click.option("--reason", required=True)
@data_dir_option
@json_option
def cancel(outage_id: str, reason: str, data_dir: str | None, as_json: bool) -> None:
    svc = open_services(data_dir)
    output(_run(lambda: svc.outages.cancel(OPERATOR, outage_id, CancelIn(reason=reason))),
           as_json, lambda o: f"{o.id} is {o.state}")


@outages.command("worker", help="Send queued notices (tick first: delay notices, tasks).")
@click.option("--once", is_flag=True, help="drain what is due now, then stop")
@click.option("--interval", default=5.0, type=float, help="seconds between idle polls")
@click.option("--concurrency", default=8, type=int)
@click.option("--batch", default=200, type=int)
@click.option("--worker-id", default="cli-worker")
@data_dir_option
@json_option
def worker(once: bool, interval: float, concurrency: int, batch: int, worker_id: str,
           data_dir: str | None, as_json: bool) -> None:
    svc = open_services(data_dir)
    w = svc.outages.worker(WorkerConfig(concurrency=concurrency, batch_size=batch), worker_id)
    stop = threading.Event()
    total = RunSummary()
    try:
        while True:
            tick = svc.outages.service.tick()
            summary = w.drain()
            total.add(summary)
            if not once and (summary.claimed or tick.delay_notices):
                sys.stderr.write(json.dumps(msgspec.to_builtins(summary)) + "\n")
            if once or stop.wait(interval):
                break
    except KeyboardInterrupt:
        pass
    output(total, as_json, lambda s: (f"sent {s.sent}, retried {s.retried}, fell back "
                                      f"{s.fell_back}, failed {s.failed}, door tasks "
                                      f"{s.door_tasks}" + (" (quiet hours: non-urgent held)"
                                                           if s.held_for_quiet_hours else "")))


@outages.command("report", help="Proof of notice for one outage (JSON, or CSV with --csv).")
@click.argument("outage_id")
@click.option("--csv", "as_csv", is_flag=True)
@data_dir_option
@json_option
def report(outage_id: str, as_csv: bool, data_dir: str | None, as_json: bool) -> None:
    svc = open_services(data_dir)
    if as_csv:
        click.echo(for_excel(_run(lambda: svc.outages.report_csv(outage_id))), nl=False)
        return
    rep = _run(lambda: svc.outages.report(outage_id))
    output(rep, as_json, lambda r: "\n".join(
        f"{n.kind:13s} recipients={n.recipients} notified={n.notified} in_time="
        f"{n.notified_in_time} late={n.late} pending={n.pending} door={n.door_tasks} "
        f"held={n.held_for_quiet_hours} sms_parts={n.sms_segments}" for n in r.notices)
        or "no notices")


@outages.command("feed", help="The public outage feed: GeoJSON, or iCalendar with --ical.")
@click.option("--ical", is_flag=True)
@data_dir_option
def feed(ical: bool, data_dir: str | None) -> None:
    svc = open_services(data_dir)
    if ical:
        sys.stdout.write(svc.outages.feed_ical().decode())
    else:
        sys.stdout.write(json.dumps(svc.outages.feed_geojson(), ensure_ascii=False) + "\n")
