"""The holiday calendar from the command line: import a year's notice, show a year, status.

``waterops calendar import FILE`` reads the State Council's notice as TOML or JSON::

    year = 2027
    notice = "国办发明电〔2026〕N号"
    [[holidays]]
    name = "春节"
    from = 2027-02-05
    to = 2027-02-12
    workdays = [2027-01-31, 2027-02-20]

A refused file prints what is missing (no traceback) and exits 1.
"""

from __future__ import annotations

from pathlib import Path

import click
import msgspec

from server.calendar import Horizon, ImportResult, YearView
from server.cli.common import data_dir_option, fail, json_option, open_services, output
from server.clock import for_people
from server.errors import DomainError
from server.policy.years import YearNotice
from server.workorders.model import Actor

#: the CLI acts as the local operator, with an admin's rights on this machine
OPERATOR = Actor(user_id="cli", role="admin")
KIND_MARK = {"working": "work", "rest": "REST", "adjusted": "ADJ "}


def read_notice(path: Path) -> YearNotice:
    raw = path.read_bytes()
    if path.suffix.lower() == ".json":
        return msgspec.json.decode(raw, type=YearNotice)
    return msgspec.toml.decode(raw, type=YearNotice)


@click.group(help="The holiday calendar: official and provisional years, notice import.")
def calendar() -> None:
    pass


def _imported(r: ImportResult) -> str:
    lines = [f"{r.year}: imported {r.notice}; {r.checked} provisional deadline(s) checked, "
             f"{len(r.changed)} recomputed"]
    lines += [f"  {c.entity} {c.entity_id} {c.rule}: {for_people(c.old_due_at)} -> "
              f"{for_people(c.new_due_at)}" for c in r.changed]
    return "\n".join(lines)


@calendar.command("import", help="Import a year's State Council holiday notice (TOML/JSON).")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@data_dir_option
@json_option
def import_notice(file: Path, data_dir: str | None, as_json: bool) -> None:
    try:
        notice = read_notice(file)
    except (msgspec.DecodeError, msgspec.ValidationError) as exc:
        fail(f"{file}: {exc}")
        return
    svc = open_services(data_dir)
    try:
        result = svc.calendars.import_notice(OPERATOR, notice)
    except DomainError as exc:
        problems = exc.extra.get("problems")
        fail("\n  ".join([exc.detail.split(":")[0] + ":", *problems])
             if isinstance(problems, list) else exc.detail)
        return
    finally:
        svc.close()
    output(result, as_json, _imported)


def _year(v: YearView) -> str:
    head = f"{v.year}  source: {v.source} ({v.origin}); {v.working_days} working days"
    return "\n".join([head, *(f"{d.day.isoformat()} 周{d.weekday} {KIND_MARK[d.kind]} "
                              f"{d.name}".rstrip() for d in v.days)])


@calendar.command("show", help="Print a year day by day (working / rest / adjusted).")
@click.argument("year", type=click.IntRange(1, 9998))
@data_dir_option
@json_option
def show(year: int, data_dir: str | None, as_json: bool) -> None:
    svc = open_services(data_dir)
    try:
        view = svc.calendars.show(year)
    finally:
        svc.close()
    output(view, as_json, _year)


def _horizon(h: Horizon) -> str:
    years = h.official_years
    lines = [f"official years: {years[0]}-{years[-1]}" if years else "official years: none",
             "provisional years in use: "
             + (", ".join(map(str, h.provisional_years)) or "none")]
    lines += [f"WARNING: {w}" for w in h.warnings]
    return "\n".join(lines)


@calendar.command("status", help="Official and provisional years, and warnings due now.")
@data_dir_option
@json_option
def status(data_dir: str | None, as_json: bool) -> None:
    svc = open_services(data_dir)
    try:
        horizon = svc.calendars.horizon()
    finally:
        svc.close()
    output(horizon, as_json, _horizon)
