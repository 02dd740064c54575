"""Crew positions as the console reads them, and the shift window they are kept in."""

from __future__ import annotations

from datetime import datetime, time
from zoneinfo import ZoneInfo

import msgspec

from server.errors import BadInputError


class CrewPosition(msgspec.Struct, frozen=True, kw_only=True):
    """The latest fix of one crew member's device.

    ``live`` is true when the fix is younger than the console's freshness limit (60 s);
    otherwise the map shows it greyed with ``last_seen_at``.
    """

    #: the crew
    crew_id: str
    #: the crew member's user id
    user_id: str
    #: the crew member's name
    user_name: str
    #: the device that took the fix
    device_id: str
    #: longitude (WGS84 degrees)
    lon: float
    #: latitude (WGS84 degrees)
    lat: float
    #: horizontal accuracy in metres (1 sigma), as the receiver reported it
    accuracy_m: float | None
    #: when the fix was taken (UTC)
    taken_at: datetime
    #: when the device last sent anything (UTC)
    last_seen_at: datetime
    #: seconds since the fix was taken, at the server's time
    age_s: float
    #: True when the fix is younger than the freshness limit (60 s)
    live: bool


class TrackPoint(msgspec.Struct, frozen=True, kw_only=True):
    """One stored fix of a crew's track (UTC on the wire; the page shows Beijing time)."""

    #: the crew member's user id
    user_id: str
    #: the crew member's name
    user_name: str
    #: the device that took the fix
    device_id: str
    #: longitude (WGS84 degrees)
    lon: float
    #: latitude (WGS84 degrees)
    lat: float
    #: horizontal accuracy in metres (1 sigma), as the receiver reported it
    accuracy_m: float | None
    #: when the fix was taken (UTC)
    taken_at: datetime


class CrewTrack(msgspec.Struct, frozen=True, kw_only=True):
    """A crew's fixes in ``[since, until)``, oldest first, at most ``limit``.

    ``kept_from``: the oldest instant still kept (now minus ``position_retention_days``);
    nothing before it exists any more. ``truncated``: more fixes than ``limit`` matched.
    """

    #: the crew
    crew_id: str
    #: the period's start (UTC)
    since: datetime
    #: the period's end (UTC, excluded)
    until: datetime
    #: the oldest instant still kept (retention): nothing before it exists
    kept_from: datetime
    #: the fixes, oldest first
    points: list[TrackPoint]
    #: True when more fixes matched than the answer holds
    truncated: bool


class ShiftHours(msgspec.Struct, frozen=True, kw_only=True):
    """Local wall-clock hours in which crews are on shift (end may pass midnight)."""

    start: time
    end: time
    tz: str = "Asia/Shanghai"

    def contains(self, when: datetime) -> bool:
        """Whether ``when`` (aware) falls inside the shift, read in the shift's time zone."""
        local = when.astimezone(ZoneInfo(self.tz)).time()
        if self.start == self.end:
            return True
        if self.start < self.end:
            return self.start <= local < self.end
        return local >= self.start or local < self.end


def parse_shift(text: str, tz: str = "Asia/Shanghai") -> ShiftHours:
    """``"07:00-20:00"`` -> ShiftHours; ``"00:00-24:00"`` means all day."""
    try:
        a, b = (part.strip() for part in text.split("-", 1))
        start = time.fromisoformat(a)
        end = time(0, 0) if b == "24:00" else time.fromisoformat(b)
    except ValueError as exc:
        raise BadInputError(f"shift hours {text!r} are not HH:MM-HH:MM",
                            shift=text) from exc
    return ShiftHours(start=start, end=end, tz=tz)
