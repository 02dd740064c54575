"""The service's one timestamp type: aware datetimes, one stored form, one accepted range.

Every event time (a field fact, a deadline, an outage's start, a change-log stamp) is an
aware ``datetime`` on the wire (RFC 3339, any offset RFC 3339 allows) and is stored as
``YYYY-MM-DDTHH:MM:SS.ffffffZ`` in UTC. The form is built field by field with zero padding:
``strftime("%Y")`` does not pad years below 1000, which is how one tablet's note dated 0900
once became a row no pull could read back.

Event times must lie in ``EVENT_YEARS`` (2000-2100, in UTC). A utility's field events
cannot happen outside it, and keeping to it means a ``+14:00`` offset on year 1 or a
``-14:00`` on year 9999 (both outside ``datetime``'s range once converted to UTC) can never
reach arithmetic: they are refused with ``TimeRangeError`` (422), at the edge by
``check_times`` and, as a last line, by ``to_db`` itself, so no stored value can be one
that fails to read back. Historical facts (a pipe's installation year) are plain dates and
do not use this type.

People read times on their own clock (``for_people``: the profile's zone, to the minute,
no seconds, microseconds or offset), with at most one note of the zone per text
(``zone_note``); machines get RFC 3339 UTC in JSON.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, tzinfo
from typing import Final
from zoneinfo import ZoneInfo

import msgspec

from core.errors import WaterOpsError

#: years (UTC) an event time may fall in, inclusive
EVENT_YEARS: Final = (2000, 2100)


class TimeRangeError(WaterOpsError, ValueError):
    """A time outside what the domain accepts; a 422 problem (``time-out-of-range``)."""

    code = "time-out-of-range"

    def __init__(self, detail: str, *, field: str | None = None, value: str = "") -> None:
        super().__init__(detail, field=field, value=value, accepted_years=list(EVENT_YEARS))


def _text(when: datetime) -> str:
    """A lossless echo of the offending value, safe for any year and offset."""
    return when.isoformat()


def check_event_time(when: datetime, field: str | None = None) -> datetime:
    """``when`` in UTC if it is an aware time within ``EVENT_YEARS``; else ``TimeRangeError``.

    The range check is made on the naive wall time first, so that converting an extreme
    value (year 1 at ``+14:00``) never raises ``OverflowError``.
    """
    if when.tzinfo is None or when.utcoffset() is None:
        raise TimeRangeError("times must carry an offset (RFC 3339)", field=field,
                             value=_text(when))
    lo, hi = EVENT_YEARS
    if not lo - 1 <= when.year <= hi + 1:
        raise TimeRangeError(f"{field or 'time'} must lie in the years {lo}-{hi}",
                             field=field, value=_text(when))
    utc = when.astimezone(UTC)
    if not lo <= utc.year <= hi:
        raise TimeRangeError(f"{field or 'time'} must lie in the years {lo}-{hi}",
                             field=field, value=_text(when))
    return utc


def check_times(value: object, path: str = "") -> None:
    """Check every ``datetime`` inside a decoded wire value (Structs, lists, dicts).

    The edge calls this on what msgspec decoded: a push mutation before it runs, a request
    body before its use case. Plain ``date`` values (historical facts) are not checked.
    Linear in the size of the value.
    """
    if isinstance(value, datetime):
        check_event_time(value, path or None)
    elif isinstance(value, msgspec.Struct):
        for name in value.__struct_fields__:
            check_times(getattr(value, name), f"{path}.{name}" if path else name)
    elif isinstance(value, list | tuple):
        for i, item in enumerate(value):
            check_times(item, f"{path}[{i}]")
    elif isinstance(value, dict):
        for key, item in value.items():
            check_times(item, f"{path}.{key}" if path else str(key))


def to_db(when: datetime) -> str:
    """The one stored form: zero-padded UTC text with microseconds, sortable as a string.

    Lexical order is chronological order, so ``WHERE due_at < ?`` works on SQLite text and
    the same text is what PostgreSQL stores too.
    """
    u = check_event_time(when)
    return (f"{u.year:04d}-{u.month:02d}-{u.day:02d}T{u.hour:02d}:{u.minute:02d}:"
            f"{u.second:02d}.{u.microsecond:06d}Z")


def from_db(text: str) -> datetime:
    """Read a stored time back (UTC-aware).

    Also reads the older forms still found in existing files: ``+00:00`` suffixes and the
    unpadded years of the old ``strftime`` form, so a row written before this fix reads
    back instead of failing every pull that touches it.
    """
    t = text.strip()
    head, sep, rest = t.partition("-")
    if sep and head.isdigit() and len(head) < 4:
        t = f"{int(head):04d}-{rest}"
    if t.endswith(("Z", "z")):
        t = t[:-1] + "+00:00"
    parsed = datetime.fromisoformat(t)
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return parsed.astimezone(UTC)


_wire_encode = msgspec.json.Encoder().encode


def wire_from_db(text: str) -> str:
    """A stored time as the API writes it, without parsing it: the text msgspec gives the
    ``datetime`` that ``from_db(text)`` reads (UTC with ``Z``; no fraction when the
    microseconds are zero, else six digits).

    Lists and the sync pull encode their rows straight from stored text
    (``server.workorders.listing``, ``WorkOrderStore.wire_rows``);
    this keeps their times byte-identical to a single record's. The canonical stored form
    costs one slice; any older form is parsed and re-encoded. ``O(1)``.
    """
    if len(text) == 27 and text[4] == "-" and text[19] == "." and text[26] == "Z":
        return text[:19] + "Z" if text.endswith(".000000Z") else text
    return _wire_encode(from_db(text)).decode()[1:-1]


def opt_wire_from_db(text: str | None) -> str | None:
    return None if text is None else wire_from_db(text)


def opt_to_db(when: datetime | None) -> str | None:
    return None if when is None else to_db(when)


def opt_from_db(text: str | None) -> datetime | None:
    return None if text is None else from_db(text)


#: China's one civil time, UTC+08:00 all year (Asia/Shanghai)
BEIJING_OFFSET: Final = timedelta(hours=8)


def _zone(tz: str | tzinfo) -> tzinfo:
    return ZoneInfo(tz) if isinstance(tz, str) else tz


def for_people(when: datetime, tz: str | tzinfo) -> str:
    """``2026-11-24 09:00``: the wall time in ``tz`` (the profile's zone) to the minute."""
    local = when.astimezone(_zone(tz))
    return (f"{local.year:04d}-{local.month:02d}-{local.day:02d} "
            f"{local.hour:02d}:{local.minute:02d}")


def zone_note(tz: str | tzinfo, when: datetime) -> str:
    """The one note a text's times carry: ``（北京时间）`` on China's clock, else the offset
    in force at ``when`` (``（UTC+09:00）``), so a reader elsewhere is never misled."""
    offset = when.astimezone(_zone(tz)).utcoffset() or timedelta(0)
    if offset == BEIJING_OFFSET:
        return "（北京时间）"
    sign = "-" if offset < timedelta(0) else "+"
    minutes = abs(int(offset.total_seconds())) // 60
    return f"（UTC{sign}{minutes // 60:02d}:{minutes % 60:02d}）"


def day_to_db(day: date) -> str:
    """Plain dates (historical facts) stay ISO dates: ``0900-01-01`` is a valid one."""
    return f"{day.year:04d}-{day.month:02d}-{day.day:02d}"


class TimeChecked:
    """Mix into a request Struct: its times are checked as msgspec decodes it (a 400).

    ``class OutageIn(msgspec.Struct, TimeChecked, frozen=True)``. Not for push mutations:
    one bad mutation must not refuse the whole push, so the push engine checks each one.
    """

    __slots__ = ()

    def __post_init__(self) -> None:
        check_times(self)
