"""Level-1 reports from the command line: ``waterops alerts list`` (``--json`` for
machines), the same list as ``GET /alerts``, shown in Asia/Shanghai time."""

from __future__ import annotations

import click

from server.cli.common import data_dir_option, json_option, open_services, output
from server.tickets.model import AlertList


@click.group(help="Level-1 alerts (water-quality clusters, JN 12).")
def alerts() -> None:
    pass


@alerts.command("list", help="Every recorded level-1 report, newest first.")
@click.option("--limit", default=100, type=click.IntRange(1, 500))
@data_dir_option
@json_option
def list_alerts(limit: int, data_dir: str | None, as_json: bool) -> None:
    svc = open_services(data_dir)
    try:
        result = svc.tickets.watch.alerts(limit)
    finally:
        svc.close()

    def human(r: AlertList) -> str:
        lines = [f"{a.raised_at_local}  {'sent' if a.sent_at else 'UNSENT':<6} {a.title}"
                 for a in r.items]
        if r.warning:
            lines.append(f"warning: {r.warning}")
        return "\n".join(lines) or "no alerts"

    output(result, as_json, human)
