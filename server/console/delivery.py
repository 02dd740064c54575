"""Live delivery of an outage's notices, as the console's Server-Sent Events report it.

One tally per outage over every notice and channel row of the outbox: how many rows are
queued, sent, failed or fell back, how many door-to-door tasks exist, and how many
recipients have been reached (a message channel accepted the notice for them, or their
door notice was posted). ``reached`` rising to ``recipients`` is what a dispatcher waits for.
"""

from __future__ import annotations

from datetime import datetime

import msgspec

from notifications.model import DOOR, DeliveryStatus, OutageKind, TaskKind
from notifications.rules import lead_shortfall, quiet_release, required_lead
from server.outage_rules import OutageDesk


class DeliveryTally(msgspec.Struct, frozen=True, kw_only=True):
    #: the outage
    outage_id: str
    #: the outage's state
    state: str
    #: the outage's affected customers
    recipients: int
    #: deliveries waiting or being sent
    queued: int
    #: deliveries the gateway accepted (or door notices posted)
    sent: int
    #: deliveries with a delivery receipt
    receipted: int
    #: deliveries that failed for good
    failed: int
    #: deliveries whose channel gave up for the next one
    fallback: int
    #: door-notice tasks of the outage
    door_tasks: int
    #: customers reached by at least one notice
    reached: int
    #: when the counts were taken (UTC)
    at: datetime

    @property
    def settled(self) -> bool:
        """Announced and nothing left in the outbox: the counts will not move on their own."""
        return self.state != "draft" and self.queued == 0 and self.sent + \
            self.failed + self.fallback > 0


def delivery_tally(desk: OutageDesk, outage_id: str) -> DeliveryTally:
    """Count the outbox rows of the outage's notices. O(rows)."""
    outage = desk.get(outage_id)
    notices = desk.store.notices(outage_id)
    rows = desk.store.deliveries([n.id for n in notices])
    counts = dict.fromkeys(DeliveryStatus, 0)
    reached: set[str] = set()
    receipted = 0
    for d in rows:
        counts[d.status] += 1
        if d.status is DeliveryStatus.SENT and (d.channel != DOOR or d.delivered_at):
            reached.add(d.customer_id)
        if d.delivered_at is not None:
            receipted += 1
    doors = desk.store.task_count(outage_id, TaskKind.DOOR_NOTICE)
    return DeliveryTally(
        outage_id=outage_id, state=str(outage.state), recipients=outage.customer_count,
        queued=counts[DeliveryStatus.QUEUED] + counts[DeliveryStatus.SENDING],
        sent=counts[DeliveryStatus.SENT], receipted=receipted,
        failed=counts[DeliveryStatus.FAILED], fallback=counts[DeliveryStatus.FALLBACK],
        door_tasks=doors, reached=len(reached), at=desk.clock())


class LeadCheck(msgspec.Struct, frozen=True, kw_only=True):
    """The notice lead an outage needs by the profile, and what is left if sent now.

    ``ok`` false means announcing now is refused unless a supervisor overrides with a
    reason (``lead-time-too-short``); quiet hours count against the lead, as when sending.
    """

    #: the outage
    outage_id: str
    #: the notice lead the profile requires, in seconds
    required_lead_s: float
    #: the lead left if the notice went out now, in seconds (quiet hours count against it)
    available_lead_s: float
    #: the clause of the standard the lead comes from
    clause: str
    #: why that lead is required, in words
    because: list[str]
    #: False when announcing now is refused unless a supervisor overrides with a reason
    ok: bool


def lead_check(desk: OutageDesk, outage_id: str) -> LeadCheck:
    outage = desk.get(outage_id)
    req = required_lead(outage.kind, outage.customer_count, outage.start_at,
                        outage.expected_restoration_at, desk.rules)
    earliest = desk.clock() if outage.kind is OutageKind.EMERGENCY else quiet_release(
        desk.clock(), desk.rules)
    missing = lead_shortfall(outage.start_at, earliest, req)
    return LeadCheck(outage_id=outage_id, required_lead_s=req.lead.total_seconds(),
                     available_lead_s=(outage.start_at - earliest).total_seconds(),
                     clause=req.clause, because=list(req.because),
                     ok=missing.total_seconds() == 0)
