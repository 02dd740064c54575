"""Sync supervision from the command line: lag per device and crew, the review queue."""

from __future__ import annotations

import click

from server.cli.common import (
    OPERATOR,
    data_dir_option,
    fail,
    json_option,
    open_services,
    output,
)
from server.errors import DomainError
from server.workorders.evidence import ReviewFlag
from sync.protocol import LagReport


@click.group(help="Offline sync: device lag, pending photos, rejected mutations to review.")
def sync() -> None:
    pass


@sync.command("status", help="Per device and crew: last push/pull, cursor age, pending photos.")
@data_dir_option
@json_option
def status(data_dir: str | None, as_json: bool) -> None:
    report = open_services(data_dir).sync.lag()

    def human(r: LagReport) -> str:
        lines = [f"latest change {r.latest_seq} at {r.server_time:%Y-%m-%d %H:%M:%S}Z"]
        for d in r.devices:
            age = "never" if d.cursor_age_s is None else f"{d.cursor_age_s / 60:.0f} min"
            lines.append(f"{d.device_id} {d.user_id:14s} {d.crew_id or '-':10s} behind "
                         f"{d.changes_behind:5d}  synced {age:>9s}  photos pending "
                         f"{d.pending_attachments}  reviews {d.open_reviews}")
        return "\n".join(lines)

    output(report, as_json, human)


@sync.command("reviews", help="Rejected mutations whose records wait for dispatch.")
@click.option("--all", "show_all", is_flag=True, help="include resolved flags")
@data_dir_option
@json_option
def reviews(show_all: bool, data_dir: str | None, as_json: bool) -> None:
    flags = open_services(data_dir).sync.reviews(open_only=not show_all)

    def human(fs: list[ReviewFlag]) -> str:
        return "\n".join(f"#{f.id} {f.kind:22s} {f.reason_code:20s} order={f.work_order_id} "
                         f"device={f.device_id}" for f in fs) or "nothing to review"

    output(flags, as_json, human)


@sync.command("resolve", help="Close a review flag with what dispatch decided.")
@click.argument("review_id", type=int)
@click.argument("resolution")
@data_dir_option
@json_option
def resolve(review_id: int, resolution: str, data_dir: str | None, as_json: bool) -> None:
    try:
        flag = open_services(data_dir).sync.resolve_review(OPERATOR, review_id, resolution)
    except DomainError as exc:
        fail(str(exc))
        return
    output(flag, as_json, lambda f: f"#{f.id} resolved: {f.resolution}")


@sync.command("cleanup-uploads",
              help="Remove uploads left unfinished past attachment_partial_ttl_s (cron-safe).")
@data_dir_option
@json_option
def cleanup_uploads(data_dir: str | None, as_json: bool) -> None:
    removed = open_services(data_dir).sync.cleanup_expired_uploads()
    output(removed, as_json, lambda r: f"{len(r)} abandoned upload(s) removed")
