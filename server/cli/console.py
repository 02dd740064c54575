"""``waterops console``: what the dispatch console needs from an operator's shell.

``posting-notice`` writes the same A4 notice the console opens (for a print shop or an
office without the console); ``set-password`` gives a user a console login besides
device tokens.
"""

from __future__ import annotations

from pathlib import Path

import click

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
                             svc.clock())
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
