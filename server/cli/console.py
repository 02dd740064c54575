"""``waterops console``: what the dispatch console needs from an operator's shell.

``posting-notice`` writes the same A4 notice the console opens (for a print shop or an
office without the console); ``set-password`` gives a user a console login besides
device tokens; ``crew-track`` and ``purge-positions`` are the crew-position routes'
twins (``GET /console/crews/{id}/track``, ``POST /console/positions/purge``).
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import click
import msgspec

from server.cli.common import data_dir_option, json_option, open_services, output
from server.console.posting import render_posting_pdf


@click.group(help="The dispatch console: posting notices and console logins.")
def console() -> None:
    pass


@console.command("posting-notice", help="Write the A4 outage notice for posting (PDF).")
@click.argument("outage_id")
@click.option("--isolation", "isolation_id", default=None,
              help="the isolation plan the outage came from (adds the four bounds)")
@click.option("--out", "out", required=True, type=click.Path(dir_okay=False, path_type=Path),
              help="where to write the PDF")
@data_dir_option
@json_option
def posting_notice(outage_id: str, isolation_id: str | None, out: Path, data_dir: str | None,
                   as_json: bool) -> None:
    svc = open_services(data_dir)
    outage = svc.outages.get(outage_id)
    bounds = svc.network.plan(isolation_id).bounds if isolation_id else None
    pdf = render_posting_pdf(outage, bounds, svc.settings.utility_name, svc.settings.hotline,
                             svc.clock(),
                             timezone=svc.profile.working_hours.timezone)
    out.write_bytes(pdf)
    output({"outage_id": outage_id, "path": str(out), "bytes": len(pdf)}, as_json,
           lambda v: f"wrote {v['path']} ({v['bytes']} bytes)")


@console.command("set-password", help="Set a user's console password (asked twice).")
@click.argument("user_id")
@click.password_option("--password", help="the new password (prompted when left out)")
@data_dir_option
@json_option
def set_password(user_id: str, password: str, data_dir: str | None, as_json: bool) -> None:
    open_services(data_dir).sessions.set_password(user_id, password)
    output({"user_id": user_id, "password_set": True}, as_json,
           lambda v: f"console password of {v['user_id']} set")


@console.command("crew-track", help="A crew's stored positions in [SINCE, UNTIL) (RFC 3339).")
@click.argument("crew_id")
@click.option("--since", required=True, help="start, e.g. 2026-11-23T08:00:00+08:00")
@click.option("--until", required=True, help="end (excluded)")
@data_dir_option
@json_option
def crew_track(crew_id: str, since: str, until: str, data_dir: str | None,
               as_json: bool) -> None:
    svc = open_services(data_dir)
    track = svc.positions.track(crew_id, _instant(since, "--since"), _instant(until, "--until"),
                                {c.id for c in svc.accounts.store.crews()})
    output(msgspec.to_builtins(track), as_json,
           lambda v: "\n".join(f"{p['taken_at']} {p['user_name']} {p['lon']:.6f},{p['lat']:.6f}"
                               for p in v["points"]) or f"no positions of {crew_id}")


@console.command("purge-positions",
                 help="Delete crew positions older than position_retention_days now.")
@data_dir_option
@json_option
def purge_positions(data_dir: str | None, as_json: bool) -> None:
    purged = open_services(data_dir).positions.purge()
    output({"purged": purged}, as_json, lambda v: f"purged {v['purged']} positions")


def _instant(text: str, option: str) -> datetime:
    try:
        return datetime.fromisoformat(text)
    except ValueError:
        raise click.BadParameter(f"{text!r} is not an RFC 3339 time", param_hint=option) from None
