"""Field work from the command line: verify sealed notices, print them, the demo walk."""

from __future__ import annotations

import sys
from pathlib import Path

import click
import httpx
import msgspec

from server.cli.common import (
    OPERATOR,
    data_dir_option,
    fail,
    json_option,
    open_services,
    output,
)
from server.clock import system_clock
from server.fieldwork.archive import ChainReport, Verification
from server.fieldwork.errors import FieldworkError
from server.fieldwork.walkthrough import WalkResult, walk_burst


@click.group(help="Sealed notices: verify one or the whole chain, print, show the key.")
def notices() -> None:
    pass


def _verification(v: Verification) -> str:
    lines = [f"notice {v.document_id} ({v.kind}) sealed {v.sealed_at.isoformat()}",
             f"  {'INTACT' if v.intact else 'CHANGED'}: signature "
             f"{'valid' if v.signature_valid else 'INVALID'}, chain "
             f"{'intact' if v.chain_intact else 'BROKEN'}"]
    lines += [f"  {c.part} {c.name}: {c.change}"
              + (f" (now {c.current!r})" if c.current is not None else "") for c in v.changes]
    lines += [f"  chain: {p}" for p in v.chain_problems]
    return "\n".join(lines)


@notices.command("verify", help="Re-compute a sealed notice and say whether anything changed.")
@click.argument("document_id")
@data_dir_option
@json_option
def verify(document_id: str, data_dir: str | None, as_json: bool) -> None:
    svc = open_services(data_dir)
    try:
        result = svc.fieldwork.archive.verify(document_id)
    except FieldworkError as exc:
        fail(str(exc))
        return
    output(result, as_json, _verification)
    if not result.intact:
        sys.exit(1)


@notices.command("verify-chain", help="Verify every sealed document and every link.")
@data_dir_option
@json_option
def verify_chain(data_dir: str | None, as_json: bool) -> None:
    report = open_services(data_dir).fieldwork.archive.verify_chain()

    def human(r: ChainReport) -> str:
        head = f"{r.documents} sealed documents, chain {'intact' if r.intact else 'BROKEN'}"
        return "\n".join([head, *(_verification(v) for v in r.broken)])

    output(report, as_json, human)
    if not report.intact:
        sys.exit(1)


@notices.command("pdf", help="Write the printable PDF of a sealed notice.")
@click.argument("document_id")
@click.option("--out", "out", type=click.Path(dir_okay=False), required=True)
@data_dir_option
@json_option
def pdf(document_id: str, out: str, data_dir: str | None, as_json: bool) -> None:
    svc = open_services(data_dir)
    try:
        body = svc.fieldwork.archive.pdf(OPERATOR, document_id)
    except FieldworkError as exc:
        fail(str(exc))
        return
    Path(out).write_bytes(body)
    output({"document_id": document_id, "path": out, "bytes": len(body)}, as_json,
           lambda r: f"wrote {r['bytes']} bytes to {r['path']}")


@notices.command("public-key", help="The utility's sealing public key (PEM).")
@data_dir_option
@json_option
def public_key(data_dir: str | None, as_json: bool) -> None:
    key = open_services(data_dir).fieldwork.archive.public_key()
    output(key, as_json, lambda k: f"key id {k.key_id}\n{k.pem}")


@click.command("demo-walk", help="Play a burst repair end to end against a running demo "
                                 "server over HTTP (waterops serve --demo) and print it.")
@click.option("--url", default="http://127.0.0.1:8000", show_default=True)
@json_option
def demo_walk(url: str, as_json: bool) -> None:
    def say(step: str, detail: str) -> None:
        if not as_json:
            click.echo(f"[{step:>10}] {detail}")

    try:
        with httpx.Client(base_url=url, timeout=30.0) as http:
            result = walk_burst(http, system_clock, say)
    except (httpx.HTTPError, RuntimeError) as exc:
        fail(f"demo walk failed against {url}: {exc}")
        return
    if as_json:
        sys.stdout.write(msgspec.json.encode(result).decode() + "\n")
    else:
        click.echo(_summary(result))


def _summary(r: WalkResult) -> str:
    plan = (f"plan {r.plan_id} revision {r.plan_revision}, {r.extra_customers} more customers "
            "without water under plan B" if r.plan_id else "no shut-off")
    rejected = f"; rejected: {', '.join(r.rejected)}" if r.rejected else ""
    return f"{r.number}: {r.status} ({plan}){rejected}"

