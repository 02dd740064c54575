"""Meter readings on a route: the rules for an acceptable reading and its anomaly flags.

Readings are monthly (LC §31). An **estimated** reading is allowed only with kept
evidence and an explanation (LC §31): a reason and a photo (e.g. of the locked gate or the
flooded well). Anomalies are flagged for the office, never refused, because the reader
saw the dial:

* ``below_previous``: the dial reads less than the last accepted reading (a swapped
  meter, a typo, or a meter run backwards);
* ``far_above_history``: usage per day is more than ``high_factor`` times the account's
  average daily use (a leak behind the meter, JN's "warn customers of unusual use");
* ``meter_idle``: no usage since the last reading although the account normally uses
  water (a stuck meter, 水表空转 in the LC categories);
* ``new_meter``: first reading of a meter number the account did not have before (JN:
  check and record the new meter's condition at the first reading).
"""

from __future__ import annotations

import itertools
from datetime import datetime
from enum import StrEnum
from typing import Final

import msgspec

from core.time import TimeChecked
from server.fieldwork.errors import EstimateNeedsEvidenceError

#: days without use before a meter counts as idle
IDLE_MIN_DAYS: Final = 20.0
#: an account using less than this per day on average is allowed to be idle (m³/day)
IDLE_MIN_AVERAGE: Final = 0.05


class ReadingFlag(StrEnum):
    BELOW_PREVIOUS = "below_previous"
    FAR_ABOVE_HISTORY = "far_above_history"
    METER_IDLE = "meter_idle"
    NEW_METER = "new_meter"
    ESTIMATED = "estimated"


class RouteStop(msgspec.Struct, frozen=True, kw_only=True):
    """One meter on a route, with what the server knew when the route was built."""

    position: int
    customer_id: str
    meter_no: str
    address: str = ""
    previous_reading: float | None = None
    previous_read_at: datetime | None = None
    previous_meter_no: str | None = None
    #: average use per day over the account's history (m³/day), None without history
    average_daily_use: float | None = None
    read: bool = False


class ReadingIn(msgspec.Struct, TimeChecked, frozen=True, kw_only=True,
               forbid_unknown_fields=True):
    """``record_reading``: one dial reading (m³) on a route."""

    work_order_id: str
    customer_id: str
    meter_no: str
    value: float
    estimated: bool = False
    reason: str = ""
    photo_sha256: str | None = None
    device_time: datetime | None = None
    #: the device's own id for the reading, so a retried push records it once
    reading_id: str | None = None
    note: str = ""


class Reading(msgspec.Struct, frozen=True, kw_only=True):
    id: str
    work_order_id: str
    customer_id: str
    meter_no: str
    value: float
    estimated: bool
    reason: str
    photo_sha256: str | None
    flags: list[ReadingFlag]
    usage: float | None
    server_time: datetime
    device_time: datetime | None = None
    note: str = ""


class ReadingLimits(msgspec.Struct, frozen=True, kw_only=True):
    high_factor: float = 3.0
    #: usage below this is never "far above" (m³), so tiny accounts do not raise alarms
    high_min_usage: float = 5.0


def require_estimate_evidence(data: ReadingIn) -> None:
    if data.estimated and (not data.reason.strip() or not data.photo_sha256):
        raise EstimateNeedsEvidenceError(
            "an estimated reading needs a reason and a photo as kept evidence",
            customer_id=data.customer_id, has_reason=bool(data.reason.strip()),
            has_photo=bool(data.photo_sha256))


def assess(stop: RouteStop, value: float, at: datetime, estimated: bool,
           limits: ReadingLimits | None = None
           ) -> tuple[list[ReadingFlag], float | None]:
    """Flags for ``value`` read at ``at`` and the usage since the previous reading."""
    limits = limits or ReadingLimits()
    flags: list[ReadingFlag] = [ReadingFlag.ESTIMATED] if estimated else []
    if stop.previous_meter_no is not None and stop.previous_meter_no != stop.meter_no:
        flags.append(ReadingFlag.NEW_METER)
        return flags, None
    if stop.previous_reading is None:
        return flags, None
    usage = value - stop.previous_reading
    if usage < 0:
        flags.append(ReadingFlag.BELOW_PREVIOUS)
        return flags, usage
    days = None
    if stop.previous_read_at is not None:
        days = max((at - stop.previous_read_at).total_seconds() / 86_400, 1.0)
    average = stop.average_daily_use
    if days is not None and average is not None:
        if usage >= limits.high_min_usage and usage > limits.high_factor * average * days:
            flags.append(ReadingFlag.FAR_ABOVE_HISTORY)
        if usage == 0 and days >= IDLE_MIN_DAYS and average >= IDLE_MIN_AVERAGE:
            flags.append(ReadingFlag.METER_IDLE)
    return flags, usage


def average_daily_use(history: list[tuple[datetime, float]]) -> float | None:
    """Average use per day from (time, dial value) readings of one meter, oldest first.

    Only forward steps count (a negative step is a replaced or misread meter).
    """
    used = 0.0
    days = 0.0
    for (t0, v0), (t1, v1) in itertools.pairwise(history):
        span = (t1 - t0).total_seconds() / 86_400
        if span > 0 and v1 >= v0:
            used += v1 - v0
            days += span
    return used / days if days > 0 else None
