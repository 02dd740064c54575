"""The ``waterops`` command: every operator action, printing JSON with ``--json``.

Each area has its own module with a click command or group; register it in ``COMMANDS``
with its one-line help. Subcommands are imported only when they run, so ``waterops
--help`` (and a command's own ``--help``) does not load the whole service: the help line
kept here is checked against the command's own by ``tests/unit/server/test_cli_lazy.py``.
"""

from __future__ import annotations

import importlib
from typing import Final

import click
from typing_extensions import override

from server.errors import DomainError
from server.settings import SettingsError

#: command name -> ("module:attribute", one-line help shown by ``waterops --help``)
COMMANDS: Final[dict[str, tuple[str, str]]] = {
    "accounts": ("server.cli.core:accounts", "Users, crews and devices."),
    "alerts": ("server.cli.alerts:alerts", "Level-1 alerts (water-quality clusters, JN 12)."),
    "calendar": ("server.cli.calendar:calendar",
                 "The holiday calendar: official and provisional years, notice import."),
    "connections": ("server.cli.connections:connections",
                    "New water connections (用水报装): application to water on."),
    "console": ("server.cli.console:console",
                "The dispatch console: posting notices and console logins."),
    "customers": ("server.cli.customers:customers",
                  "Customer register: import from the billing system's CSV export."),
    "demo-seed": ("server.cli.core:demo_seed",
                  "Fill the store with the demo district (idempotent)."),
    "demo-walk": ("server.cli.fieldwork:demo_walk",
                  "Play a burst repair end to end against a running demo server over HTTP "
                  "(waterops serve --demo) and print it."),
    "hardware": ("server.cli.hardware:hardware",
                 "Field hardware: GNSS, CJ/T 188 meters, notice printers, pressure loggers."),
    "migrate": ("server.cli.core:migrate",
                "Apply pending schema migrations and show the schema version."),
    "network": ("server.cli.network:network",
                "Pipe network: import (GeoJSON, EPANET .inp), isolation plans, outage area."),
    "notices": ("server.cli.fieldwork:notices",
                "Sealed notices: verify one or the whole chain, print, show the key."),
    "outages": ("server.cli.outages:outages",
                "Outages: create, announce, delay, restore; send notices; prove it."),
    "serve": ("server.cli.core:serve", "Run the HTTP service (127.0.0.1 by default)."),
    "service-info": ("server.cli.publication:service_info",
                     "Service information to publish within 20 working days (JN 11, ZJ)."),
    "sync": ("server.cli.sync:sync",
             "Offline sync: device lag, pending photos, rejected mutations to review."),
    "tickets": ("server.cli.tickets:tickets",
                "Tickets, complaints, reminders and service statistics."),
    "worker": ("server.cli.core:worker",
               "Run the background jobs (outbox, deadline scan, clean-ups, network scopes)"
               " without HTTP."),
    "workorders": ("server.cli.workorders:workorders",
                   "Work orders: create, import, list, move, assign, timeliness."),
}


def load_command(name: str) -> click.Command:
    """Import the command registered as ``name`` (its module loads only now)."""
    target, _help = COMMANDS[name]
    module, _, attr = target.partition(":")
    command = getattr(importlib.import_module(module), attr)
    if not isinstance(command, click.Command):
        raise TypeError(f"{target} is not a click command")
    return command


class OperatorGroup(click.Group):
    """The top-level group: lazy subcommands, and no tracebacks for operators.

    Every refusal of the domain (a rule, a calendar notice, a bad id) and every bad
    setting ends as one line on stderr and exit status 1, whichever command raised it.
    """

    @override
    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(COMMANDS)

    @override
    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        return load_command(cmd_name) if cmd_name in COMMANDS else None

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        """The command list from ``COMMANDS``' help lines, without importing anything."""
        names = self.list_commands(ctx)
        limit = formatter.width - 6 - max(map(len, names))
        rows = [(name, click.Command(name, help=COMMANDS[name][1]).get_short_help_str(limit))
                for name in names]
        with formatter.section("Commands"):
            formatter.write_dl(rows)

    def invoke(self, ctx: click.Context) -> object:
        try:
            return super().invoke(ctx)
        except DomainError as exc:
            raise click.ClickException(exc.detail) from exc
        except SettingsError as exc:
            raise click.ClickException(f"settings: {exc}") from exc


@click.group(cls=OperatorGroup, help="waterops: the field backend of a city water utility.")
def main() -> None:
    """Entry point of the console script."""
