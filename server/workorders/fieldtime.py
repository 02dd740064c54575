"""When a field fact happened: the device's time, corrected by its measured clock skew.

Offline crews push late: a crew on site 20 minutes after the report that pushed two hours
later was judged late because deadlines were met at the server's receiving time. A field
fact (arrival, a step's completion, a reading) is therefore judged on the device's time
minus the device's clock skew (``skew = device clock - server clock``, measured at each
push from the request's ``device_time``, or over HTTP from the request's ``Date``), with
the server's time kept beside it. A device whose clock was never measured has no skew:
its facts are judged on the server's time (nothing to distrust, so no review flag).

The correction is trusted only within bounds, so a wrong or tampered clock cannot buy a
crew time: the skew must be within ``MAX_SKEW``, and the corrected time must lie between
the order's creation and the server's receipt. Outside them the fact is judged on the
server's time and flagged for review (``reason``), which dispatch can still correct.
Pure functions; no I/O. ``fieldjudge.FieldTimeJudge`` applies them for both edges (sync
and HTTP) and writes the review flag.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from enum import StrEnum
from typing import Final

import msgspec

#: largest device clock error that is corrected rather than distrusted
MAX_SKEW: Final = timedelta(minutes=15)
#: slack for a fact stamped just before the order reached the server (clock resolution)
EARLY_SLACK: Final = timedelta(minutes=1)


class TimeSource(StrEnum):
    DEVICE = "device"
    SERVER = "server"


class FieldTime(msgspec.Struct, frozen=True, kw_only=True):
    #: the time the fact is judged on (deadlines are met at this time)
    at: datetime
    #: when the server received it
    server_at: datetime
    source: TimeSource
    #: the skew that was applied (seconds, device minus server), when one was
    skew_s: float | None = None
    #: why the device's time was not used; None when it was (or none was given)
    review_reason: str | None = None


def judge_field_time(device_time: datetime | None, skew_s: float | None,
                     server_now: datetime, not_before: datetime,
                     max_skew: timedelta = MAX_SKEW) -> FieldTime:
    """The time a field fact is judged on; ``not_before`` is the order's creation;
    ``skew_s`` None: the device's clock was never measured (judged on server time).

    Always ``not_before - EARLY_SLACK <= at <= server_now`` when the device is trusted,
    and ``at == server_now`` otherwise.
    """
    if device_time is None or skew_s is None:
        return FieldTime(at=server_now, server_at=server_now, source=TimeSource.SERVER)
    skew = timedelta(seconds=skew_s)
    if abs(skew) > max_skew:
        return FieldTime(at=server_now, server_at=server_now, source=TimeSource.SERVER,
                         skew_s=skew_s, review_reason=(
                             f"device clock off by {skew.total_seconds():.0f} s, beyond "
                             f"{max_skew.total_seconds():.0f} s: judged on server time"))
    corrected = device_time - skew
    if corrected > server_now:
        return FieldTime(at=server_now, server_at=server_now, source=TimeSource.SERVER,
                         skew_s=skew_s, review_reason="device time lies after the server "
                                                      "received it: judged on server time")
    if corrected < not_before - EARLY_SLACK:
        return FieldTime(at=server_now, server_at=server_now, source=TimeSource.SERVER,
                         skew_s=skew_s, review_reason="device time lies before the order "
                                                      "existed: judged on server time")
    return FieldTime(at=max(corrected, not_before), server_at=server_now,
                     source=TimeSource.DEVICE, skew_s=skew_s)
