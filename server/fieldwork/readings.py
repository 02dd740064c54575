"""Meter readings on a route: the rules for an acceptable reading and its anomaly flags.

Readings are monthly (LC §31). An **estimated** reading is allowed only with kept
evidence and an explanation (LC §31): a reason and a photo (e.g. of the locked gate or the
flooded well).

**Sanity** (``check_reading``, limits per profile ``[readings]``): a reading that no dial
can show is refused, never stored as fact: a negative value; a value at or past the
register's capacity (it rolls over to 0 there); a value below the last reading of the
same meter without a reason. The reasons are ``meter_changed`` (a new meter the route did
not know yet) and ``rollover``, believed only near the register's capacity: the last
reading within ``rollover_near`` of the top and the new one within it of zero. Over HTTP
a refusal is a 422 problem; over sync push the mutation is rejected and kept for review
(``server.intents``), so what the reader typed is never lost.

**Time**: a reading is judged (the days since the last one) on the device's time
corrected by its measured clock skew (``server.workorders.fieldtime``, as arrivals and
steps are), with the server's receipt time kept beside it.

Anomalies of a sane reading are flagged for the office, never refused, because the reader
saw the dial:

* ``rollover`` / ``new_meter``: below the last reading, for the reason given;
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
from server.fieldwork.errors import (
    EstimateNeedsEvidenceError,
    ReadingAboveRegisterError,
    ReadingBelowPreviousError,
    ReadingNegativeError,
    RolloverImplausibleError,
)
from server.policy.model import ReadingRules

#: days without use before a meter counts as idle
IDLE_MIN_DAYS: Final = 20.0
#: an account using less than this per day on average is allowed to be idle (m³/day)
IDLE_MIN_AVERAGE: Final = 0.05


class ReadingFlag(StrEnum):
    #: kept for readings stored before the sanity rule; new ones are refused instead
    BELOW_PREVIOUS = "below_previous"
    ROLLOVER = "rollover"
    FAR_ABOVE_HISTORY = "far_above_history"
    METER_IDLE = "meter_idle"
    NEW_METER = "new_meter"
    ESTIMATED = "estimated"


class BelowReason(StrEnum):
    """Why a dial may read less than the meter's last reading."""

    METER_CHANGED = "meter_changed"
    ROLLOVER = "rollover"


class RouteStop(msgspec.Struct, frozen=True, kw_only=True):
    """One meter on a route, with what the server knew when the route was built."""

    #: the stop's place in the route's order (1 first)
    position: int
    #: the account to read
    customer_id: str
    #: the number of the account's meter
    meter_no: str
    #: where the meter is
    address: str = ""
    #: the meter's last reading, in cubic metres, if any
    previous_reading: float | None = None
    #: when that reading was taken (UTC)
    previous_read_at: datetime | None = None
    #: the meter the last reading was taken on, if it was another
    previous_meter_no: str | None = None
    #: average use per day over the account's history (m³/day), None without history
    average_daily_use: float | None = None
    #: True once this route recorded a reading for the stop
    read: bool = False


class ReadingIn(msgspec.Struct, TimeChecked, frozen=True, kw_only=True,
               forbid_unknown_fields=True):
    """``record_reading``: one dial reading (m³) on a route."""

    #: the reading route (a work order of type meter_reading_route)
    work_order_id: str
    #: the account read
    customer_id: str
    #: the number printed on the meter read
    meter_no: str
    #: the dial's value, in cubic metres (never negative)
    value: float
    #: True when the value is estimated, not read (it needs a reason and a photo)
    estimated: bool = False
    #: why the reading is estimated
    reason: str = ""
    #: SHA-256 of a photo of the dial, uploaded as an attachment
    photo_sha256: str | None = None
    #: when it was read on the device (RFC 3339); defaults to the server's time
    device_time: datetime | None = None
    #: the device's own id for the reading, so a retried push records it once
    reading_id: str | None = None
    #: what the reader notes
    note: str = ""
    #: why the value is below the meter's last reading (else such a value is refused)
    below_reason: BelowReason | None = None


class Reading(msgspec.Struct, frozen=True, kw_only=True):
    #: the reading's id
    id: str
    #: the reading route it was taken on
    work_order_id: str
    #: the account read
    customer_id: str
    #: the meter read
    meter_no: str
    #: the dial's value, in cubic metres
    value: float
    #: True when the value is an estimate
    estimated: bool
    #: why it is estimated, if it is
    reason: str
    #: SHA-256 of the dial's photo, if any
    photo_sha256: str | None
    #: what looks odd about it (far above history, rollover, idle meter...)
    flags: list[ReadingFlag]
    #: cubic metres used since the last reading, if there is one
    usage: float | None
    #: when the server received it
    server_time: datetime
    #: the device's clock when it was read, as sent
    device_time: datetime | None = None
    #: what the reader noted
    note: str = ""
    #: the time it is judged on: the device's corrected by its skew, or the server's
    read_at: datetime | None = None
    #: which clock ``read_at`` is (``device`` or ``server``)
    time_source: str = "server"
    #: why it is below the meter's last reading, if it is
    below_reason: BelowReason | None = None


class ReadingLimits(msgspec.Struct, frozen=True, kw_only=True):
    high_factor: float = 3.0
    #: usage below this is never "far above" (m³), so tiny accounts do not raise alarms
    high_min_usage: float = 5.0
    #: the register rolls over to 0 at this value (m³): 100 000 on a five-digit dial
    register_m3: float = 100_000.0
    #: a rollover is believed within this fraction of the register from its top (the last
    #: reading) and from zero (the new one)
    rollover_near: float = 0.1

    @classmethod
    def from_policy(cls, rules: ReadingRules) -> ReadingLimits:
        """The limits a service policy profile sets (``[readings]``)."""
        return cls(high_factor=rules.high_factor, high_min_usage=rules.high_min_usage_m3,
                   register_m3=rules.register_m3, rollover_near=rules.rollover_near)


def check_reading(value: float, previous: float | None, below_reason: BelowReason | None,
                  limits: ReadingLimits, *, meter_changed: bool = False,
                  customer_id: str = "") -> float | None:
    """Refuse a value no dial shows; return the usage since ``previous`` (m³).

    ``previous`` is the same meter's last reading (None without one). ``meter_changed``
    is true when the route already knows the meter differs. The usage is None when there
    is nothing to compare (no previous reading, another meter); over a rollover it is
    ``value + register - previous``, always positive and below ``2 * near * register``.
    """
    if not value >= 0:  # also NaN
        raise ReadingNegativeError("a meter reading is never negative",
                                   customer_id=customer_id, value=value)
    if value >= limits.register_m3:
        raise ReadingAboveRegisterError(
            f"the register rolls over at {limits.register_m3:g} m³",
            customer_id=customer_id, value=value, register_m3=limits.register_m3)
    if previous is None or meter_changed:
        return None
    if value >= previous:
        return value - previous
    if below_reason is BelowReason.METER_CHANGED:
        return None
    if below_reason is BelowReason.ROLLOVER:
        near = limits.rollover_near * limits.register_m3
        # the last reading must itself be a dial value, in the register's top ``near``
        if not limits.register_m3 - near <= previous < limits.register_m3 or value >= near:
            raise RolloverImplausibleError(
                f"a rollover goes from the last {near:g} m³ of the register to its first",
                customer_id=customer_id, value=value, previous=previous,
                register_m3=limits.register_m3)
        return value + limits.register_m3 - previous
    raise ReadingBelowPreviousError(
        "the reading is below the meter's last one: give the reason (meter_changed, "
        "rollover)", customer_id=customer_id, value=value, previous=previous)


def require_estimate_evidence(data: ReadingIn) -> None:
    if data.estimated and (not data.reason.strip() or not data.photo_sha256):
        raise EstimateNeedsEvidenceError(
            "an estimated reading needs a reason and a photo as kept evidence",
            customer_id=data.customer_id, has_reason=bool(data.reason.strip()),
            has_photo=bool(data.photo_sha256))


def assess(stop: RouteStop, value: float, at: datetime, estimated: bool,
           limits: ReadingLimits | None = None, below_reason: BelowReason | None = None
           ) -> tuple[list[ReadingFlag], float | None]:
    """Flags for ``value`` read at ``at`` (the judged time) and the usage since the
    previous reading. Refuses what ``check_reading`` refuses."""
    limits = limits or ReadingLimits()
    flags: list[ReadingFlag] = [ReadingFlag.ESTIMATED] if estimated else []
    changed = stop.previous_meter_no is not None and stop.previous_meter_no != stop.meter_no
    usage = check_reading(value, stop.previous_reading, below_reason, limits,
                          meter_changed=changed, customer_id=stop.customer_id)
    if changed:
        flags.append(ReadingFlag.NEW_METER)
        return flags, None
    if stop.previous_reading is None:
        return flags, None
    if value < stop.previous_reading:
        flags.append(ReadingFlag.ROLLOVER if below_reason is BelowReason.ROLLOVER
                     else ReadingFlag.NEW_METER)
        return flags, usage
    usage = value - stop.previous_reading
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
