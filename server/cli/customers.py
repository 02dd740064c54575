"""``waterops customers``: import the customer register from a CSV file."""

from __future__ import annotations

from pathlib import Path

import click

from server.cli.common import data_dir_option, json_option, open_services, output
from server.customers.csvfile import read_customers_csv


@click.group(help="Customer register: import from the billing system's CSV export.")
def customers() -> None:
    """Group of customer commands."""


@customers.command("import", help="Create or update customers from a CSV file (UTF-8).")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@data_dir_option
@json_option
def import_file(file: Path, data_dir: str | None, as_json: bool) -> None:
    svc = open_services(data_dir)
    try:
        try:
            register = read_customers_csv(file.read_text(encoding="utf-8"))
        except UnicodeDecodeError as exc:
            raise click.ClickException(f"{file} is not UTF-8: {exc}") from exc
        except Exception as exc:
            detail = getattr(exc, "detail", None)
            if detail is None:
                raise
            errors = getattr(exc, "extra", {}).get("errors") or []
            raise click.ClickException("\n".join(
                [str(detail), *(f"  line {e['line']}: {e['error']}" for e in errors)])) from exc
        result = svc.customers.import_register(register)
    finally:
        svc.close()
    output(result, as_json, lambda r: (f"{r.received} customers read: {r.created} new, "
                                       f"{r.updated} updated, {r.unchanged} unchanged"))
