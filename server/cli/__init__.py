"""The ``waterops`` command: every operator action, printing JSON with ``--json``.

Each area has its own module with a click group; register it in ``GROUPS`` below.
"""

from __future__ import annotations

import click

from server.cli.calendar import calendar
from server.cli.core import core_commands
from server.cli.fieldwork import demo_walk, notices
from server.cli.hardware import hardware
from server.cli.network import network
from server.cli.outages import outages
from server.cli.sync import sync
from server.cli.tickets import tickets
from server.cli.workorders import workorders
from server.errors import DomainError
from server.settings import SettingsError

GROUPS: list[click.Command] = [workorders, outages, hardware, tickets, network, notices,
                               demo_walk, sync, calendar]


class OperatorGroup(click.Group):
    """Every refusal of the domain (a rule, a calendar notice, a bad id) and every bad
    setting ends as one line on stderr and exit status 1, never a traceback, whichever
    command raised it."""

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


for _command in [*core_commands, *GROUPS]:
    main.add_command(_command)
