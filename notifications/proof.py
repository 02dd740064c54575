"""Proof of compliance: for one outage, every affected customer, every attempt, when the
notice reached them, and the lead time achieved against the lead time required.

What counts as "notified" is explicit (``NOTIFIED_MEANS``): a delivery receipt from the
gateway, else the gateway's acceptance of the message, else a door notice posted (the
crew's photo). A door task that is still open is *not* notified. Notices held for quiet
hours say so, with the hold window: they were held, never skipped.
"""

from __future__ import annotations

import csv
import io
from collections import defaultdict
from datetime import datetime
from typing import Final
from zoneinfo import ZoneInfo

import msgspec

from notifications.model import DOOR, Delivery, DeliveryStatus, Notice, Outage
from notifications.store import AttemptRow, NotificationStore

NOTIFIED_MEANS: Final = (
    "notified = delivery receipt from the gateway (delivery-receipt); otherwise the "
    "gateway accepted the message (gateway-accepted); for door-to-door notices, the "
    "crew posted the notice and photographed it (door-notice-posted). Open door tasks "
    "and queued or failed messages are not notified.")


class AttemptProof(msgspec.Struct, frozen=True, kw_only=True):
    #: the channel tried
    channel: str
    #: the attempt's number on that channel (1 for the first)
    attempt: int
    #: the outbox worker that made it
    worker: str
    #: when the attempt started (UTC)
    started_at: datetime
    #: when it ended (UTC)
    finished_at: datetime
    #: True when the gateway accepted the message
    ok: bool
    #: what the gateway answered
    answer: str
    #: why it failed, if it did
    error: str


class DeliveryProof(msgspec.Struct, frozen=True, kw_only=True):
    #: the notice
    notice_id: str
    #: the notice's kind (announcement, delay, restoration...)
    notice_kind: str
    #: `notified`, `pending` or `failed` (every channel failed)
    status: str  # notified | pending | failed
    #: the channels tried, in order
    channels_tried: list[str]
    #: the channel that notified the customer, if one did
    channel_used: str | None = None
    #: when the customer counts as notified (UTC), if they do
    notified_at: datetime | None = None
    #: what proves it: `delivery-receipt`, `gateway-accepted` or `door-notice-posted`
    notified_by: str | None = None
    #: when the notice had to reach the customer (UTC; None: no deadline)
    notify_by: datetime | None = None
    #: the lead time required, in seconds
    lead_required_s: float | None = None
    #: the lead time achieved (from notified to the event), in seconds
    lead_achieved_s: float | None = None
    #: True when notified by `notify_by`; None when not notified or no deadline
    in_time: bool | None = None
    #: when quiet hours held it back, per channel (local time); empty if never
    held_for_quiet_hours: str = ""
    #: the door-notice task that delivered it, if a crew posted it
    door_task: str | None = None
    #: every sending attempt, in order
    attempts: list[AttemptProof] = msgspec.field(default_factory=list)


class CustomerProof(msgspec.Struct, frozen=True, kw_only=True):
    #: the customer's id
    customer_id: str
    #: the customer's name
    name: str
    #: the customer's address
    address: str
    #: the customer's residential compound (小区)
    compound: str
    #: the customer's street
    street: str
    #: how each notice of the outage reached the customer
    notices: list[DeliveryProof]


class NoticeSummary(msgspec.Struct, frozen=True, kw_only=True):
    #: the notice
    notice_id: str
    #: the notice's kind
    kind: str
    #: True: sent even in quiet hours
    urgent: bool
    #: when it was made (UTC)
    created_at: datetime
    #: when it had to reach customers (UTC; None: no deadline)
    notify_by: datetime | None
    #: the lead time required, in seconds
    required_lead_s: float | None
    #: SMS parts the text takes
    sms_segments: int
    #: customers it went to
    recipients: int
    #: customers notified
    notified: int
    #: customers notified by `notify_by`
    notified_in_time: int
    #: customers notified after `notify_by`
    late: int
    #: customers not yet notified, still being tried
    pending: int
    #: customers every channel failed for
    failed: int
    #: customers notified by a door notice
    door_tasks: int
    #: customers whose delivery quiet hours held back
    held_for_quiet_hours: int
    #: the notice's text
    body: str


class OutageReport(msgspec.Struct, frozen=True, kw_only=True):
    #: the outage
    outage: Outage
    #: when the report was made (UTC)
    generated_at: datetime
    #: what counts as notified, in words
    notified_means: str
    #: one summary per notice
    notices: list[NoticeSummary]
    #: one proof per affected customer
    customers: list[CustomerProof]


def _proof(notice: Notice, rows: list[Delivery], attempts: dict[int, list[AttemptRow]],
           tz: ZoneInfo) -> DeliveryProof:
    final = next((d for d in rows if d.status is DeliveryStatus.SENT), None)
    notified_at, by, door_task = None, None, None
    if final is not None:
        if final.channel == DOOR:
            door_task = final.answer.removeprefix("task ")
            if final.delivered_at is not None:
                notified_at, by = final.delivered_at, "door-notice-posted"
        elif final.delivered_at is not None:
            notified_at, by = final.delivered_at, "delivery-receipt"
        else:
            notified_at, by = final.sent_at, "gateway-accepted"
    failed = final is None and all(d.status in (DeliveryStatus.FAILED, DeliveryStatus.FALLBACK)
                                   for d in rows)
    status = "notified" if notified_at else ("failed" if failed else "pending")
    achieved = in_time = None
    if notified_at is not None:
        if notice.reference_at is not None:
            achieved = (notice.reference_at - notified_at).total_seconds()
        if notice.notify_by is not None:
            in_time = notified_at <= notice.notify_by
    held = [d for d in rows if d.held_from is not None]
    held_note = "; ".join(
        f"held for quiet hours on {d.channel} from {d.held_from.astimezone(tz).isoformat()} "
        f"until {d.held_until.astimezone(tz).isoformat() if d.held_until else '?'}"
        for d in held if d.held_from is not None)
    return DeliveryProof(
        notice_id=notice.id, notice_kind=str(notice.kind), status=status,
        channels_tried=[d.channel for d in rows], channel_used=final.channel if final else None,
        notified_at=notified_at, notified_by=by, notify_by=notice.notify_by,
        lead_required_s=notice.required_lead_s, lead_achieved_s=achieved, in_time=in_time,
        held_for_quiet_hours=held_note, door_task=door_task,
        attempts=[AttemptProof(channel=d.channel, attempt=a.attempt, worker=a.worker,
                               started_at=a.started_at, finished_at=a.finished_at, ok=a.ok,
                               answer=a.answer, error=a.error)
                  for d in rows for a in attempts.get(d.id, [])])


def build_report(store: NotificationStore, outage: Outage, now: datetime,
                 timezone: str = "Asia/Shanghai") -> OutageReport:
    """The whole proof for one outage; linear in deliveries plus attempts."""
    tz = ZoneInfo(timezone)
    notices = [n for n in store.notices(outage.id) if n.kind != "alert"]
    ids = [n.id for n in notices]
    by_pair: dict[tuple[str, str], list[Delivery]] = defaultdict(list)
    for d in store.deliveries(ids):
        by_pair[(d.notice_id, d.customer_id)].append(d)
    attempts: dict[int, list[AttemptRow]] = defaultdict(list)
    for a in store.attempts(ids):
        attempts[a.delivery_id].append(a)
    customers: list[CustomerProof] = []
    per_notice: dict[str, list[DeliveryProof]] = {n.id: [] for n in notices}
    for r in store.recipients(outage.id):
        proofs = [_proof(n, by_pair.get((n.id, r.customer_id), []), attempts, tz)
                  for n in notices]
        for p in proofs:
            per_notice[p.notice_id].append(p)
        customers.append(CustomerProof(customer_id=r.customer_id, name=r.name,
                                       address=r.address, compound=r.compound, street=r.street,
                                       notices=proofs))
    summaries = []
    for n in notices:
        ps = per_notice[n.id]
        summaries.append(NoticeSummary(
            notice_id=n.id, kind=str(n.kind), urgent=n.urgent, created_at=n.created_at,
            notify_by=n.notify_by, required_lead_s=n.required_lead_s,
            sms_segments=n.sms_segments, recipients=len(ps),
            notified=sum(p.status == "notified" for p in ps),
            notified_in_time=sum(p.in_time is True for p in ps),
            late=sum(p.in_time is False for p in ps),
            pending=sum(p.status == "pending" for p in ps),
            failed=sum(p.status == "failed" for p in ps),
            door_tasks=sum(p.door_task is not None for p in ps),
            held_for_quiet_hours=sum(bool(p.held_for_quiet_hours) for p in ps), body=n.body))
    return OutageReport(outage=outage, generated_at=now, notified_means=NOTIFIED_MEANS,
                        notices=summaries, customers=customers)


CSV_COLUMNS: Final = (
    "outage_id", "customer_id", "name", "address", "notice_id", "notice_kind", "status",
    "channel_used", "notified_at", "notified_by", "notify_by", "lead_required_h",
    "lead_achieved_h", "in_time", "held_for_quiet_hours", "door_task", "attempt_channel",
    "attempt", "attempt_started_at", "attempt_finished_at", "attempt_ok", "provider_answer",
    "error")


def to_csv(report: OutageReport, timezone: str = "Asia/Shanghai") -> str:
    """One line per attempt (a customer without attempts still gets one line per notice)."""
    tz = ZoneInfo(timezone)

    def t(when: datetime | None) -> str:
        """Local wall time to the minute: the CSV is read by people in a spreadsheet."""
        return when.astimezone(tz).strftime("%Y-%m-%d %H:%M") if when is not None else ""

    def h(seconds: float | None) -> str:
        return f"{seconds / 3600:.2f}" if seconds is not None else ""

    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    for c in report.customers:
        for p in c.notices:
            head = [report.outage.id, c.customer_id, c.name, c.address, p.notice_id,
                    p.notice_kind, p.status, p.channel_used or "", t(p.notified_at),
                    p.notified_by or "", t(p.notify_by), h(p.lead_required_s),
                    h(p.lead_achieved_s), "" if p.in_time is None else str(p.in_time).lower(),
                    p.held_for_quiet_hours, p.door_task or ""]
            rows: list[AttemptProof | None] = [*p.attempts] or [None]
            for a in rows:
                tail = (["", "", "", "", "", "", ""] if a is None else
                        [a.channel, str(a.attempt), t(a.started_at), t(a.finished_at),
                         str(a.ok).lower(), a.answer, a.error])
                writer.writerow(head + tail)
    return out.getvalue()
