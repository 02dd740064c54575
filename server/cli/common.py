"""What every CLI command shares: settings from the environment, services, JSON output."""

from __future__ import annotations

import os
import sys
from collections.abc import Callable
from typing import Any, TypeVar

import click
import msgspec

from server.accounts.model import Principal, Role
from server.clock import system_clock
from server.services import Services
from server.settings import Settings, load_settings

F = TypeVar("F", bound=Callable[..., Any])

#: whoever runs the CLI on the server acts as an admin: the same ``server.authz`` checks
#: as over HTTP apply to it (e.g. the account hierarchy), with the admin's rights
OPERATOR = Principal(user_id="cli", name="operator (CLI)", role=Role.ADMIN, crew_id=None,
                     unit="")
_encode = msgspec.json.Encoder().encode


def settings_from(data_dir: str | None, db_file: str | None = None, **extra: Any) -> Settings:
    return load_settings(os.environ, os.environ.get("WATEROPS_CONFIG"),
                         data_dir=data_dir, db_file=db_file, **extra)


def open_services(data_dir: str | None) -> Services:
    return Services(settings_from(data_dir), system_clock)


def data_dir_option(func: F) -> F:
    return click.option("--data-dir", default=None, envvar="WATEROPS_DATA_DIR",
                        help="folder holding waterops.db (default ./data)")(func)


def json_option(func: F) -> F:
    return click.option("--json", "as_json", is_flag=True, help="print JSON")(func)


def cursor_option(func: F) -> F:
    """``--cursor``: the page after the one that answered this ``next_cursor`` (every list
    pages the same way, docs/api.md); ``--json`` prints the page with its ``next_cursor``."""
    return click.option("--cursor", default=None,
                        help="next_cursor of the previous page (docs/api.md, Paging)")(func)


def more(next_cursor: str | None) -> str:
    """The human output's last line when another page follows."""
    return "" if next_cursor is None else f"\n(more: --cursor {next_cursor})"


def output(value: Any, as_json: bool, human: Callable[[Any], str] | None = None) -> None:
    """Print ``value`` as JSON, or through ``human`` for people."""
    if as_json or human is None:
        sys.stdout.write(_encode(value).decode() + "\n")
    else:
        click.echo(human(value))


def fail(message: str) -> None:
    raise click.ClickException(message)
