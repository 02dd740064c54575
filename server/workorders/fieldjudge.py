"""The one place a field fact's time is judged and an untrusted one flagged, for both edges.

A fact reaches the server either in a sync push (``server.intents``) or over HTTP (a
status transition, a meter reading, a step's evidence). Both are judged the same way
(``fieldtime.judge_field_time``): on the device's time minus the device's clock skew,
within bounds, else on the server's time with a ``device-time-untrusted`` review flag
for dispatch. What differs is only where the skew comes from:

* a push measures it from the request's ``device_time`` (``SyncService``);
* an HTTP request from its ``Date`` header, which RFC 9110 (§6.6.1) lets a client with a
  clock send: ``skew = Date - server time``, parsed by the HTTP layer and handed in as
  ``sent_at``;
* without either, the skew sync last measured for the device (``sync_devices``); a
  device never measured has no skew, and its facts are judged on server time.

The flag is written through the caller's transaction: call ``judge`` inside the write the
fact belongs to, so a refused fact leaves no flag behind.
"""

from __future__ import annotations

from datetime import datetime
from typing import Final

from sqlite_utils import Database

from core.time import TimeRangeError, check_event_time
from server.accounts.model import Principal
from server.workorders.evidence import EvidenceStore
from server.workorders.fieldtime import FieldTime, judge_field_time
from server.workorders.model import WorkOrder
from sync.store import SyncStore

#: the review flag's reason code (docs/sync-protocol.md, Time)
UNTRUSTED: Final = "device-time-untrusted"


class FieldTimeJudge:
    """Judges field facts' times and flags the untrusted ones (one per store handle)."""

    def __init__(self, db: Database) -> None:
        self.evidence = EvidenceStore(db)
        self.devices = SyncStore(db)

    def skew(self, principal: Principal, sent_at: datetime | None, now: datetime
             ) -> float | None:
        """The device's clock skew in seconds (device minus server): measured from
        ``sent_at`` (the device's clock when it sent this request) when given and within
        the accepted years, else the one sync last measured, else None."""
        if sent_at is not None:
            try:
                return (check_event_time(sent_at, "Date") - now).total_seconds()
            except TimeRangeError:
                pass  # a clock this far off says nothing about skew
        if principal.device_id is None:
            return None
        return self.devices.device(principal.device_id).clock_skew_s

    def judge(self, principal: Principal, wo: WorkOrder, device_time: datetime | None, *,
              skew_s: float | None, now: datetime, kind: str,
              mutation_id: int | None = None) -> FieldTime:
        """When the fact happened (``fieldtime``); an untrusted device time is judged on
        ``now`` and flagged for review on ``wo`` with both times and the skew."""
        judged = judge_field_time(device_time, skew_s, now, wo.created_at)
        if judged.review_reason is not None:
            self.evidence.add_flag(
                work_order_id=wo.id, device_id=principal.device_id, user_id=principal.user_id,
                crew_id=principal.crew_id, mutation_id=mutation_id, kind=kind,
                reason_code=UNTRUSTED, detail=judged.review_reason,
                payload={"device_time": device_time.isoformat() if device_time else None,
                         "skew_s": skew_s, "server_time": now.isoformat()},
                device_time=None, at=now)
        return judged
