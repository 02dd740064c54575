"""The one place that reads the wall clock.

Everything else receives a ``Clock`` so deadlines, lead times and skew detection can be
tested by stepping time instead of sleeping.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from threading import Lock
from typing import Final
from zoneinfo import ZoneInfo

from core import time as core_time

Clock = Callable[[], datetime]

LOCAL_TZ: Final = ZoneInfo("Asia/Shanghai")


def system_clock() -> datetime:
    """Current time, UTC-aware."""
    return datetime.now(UTC)


class SteppingClock:
    """A clock that only moves when told to: for tests, benchmarks and simulations."""

    def __init__(self, start: datetime) -> None:
        if start.tzinfo is None:
            raise ValueError("SteppingClock needs a timezone-aware start")
        self._now = start.astimezone(UTC)
        self._lock = Lock()

    def __call__(self) -> datetime:
        with self._lock:
            return self._now

    def advance(self, delta: timedelta | None = None, **kwargs: float) -> datetime:
        """Move forward by ``delta`` or by timedelta keyword arguments; returns the new time."""
        step = delta if delta is not None else timedelta(**kwargs)
        if step < timedelta(0):
            raise ValueError("a clock never goes backwards")
        with self._lock:
            self._now = self._now + step
            return self._now

    def set(self, when: datetime) -> None:
        with self._lock:
            self._now = when.astimezone(UTC)


def to_local(when: datetime) -> datetime:
    """Show a stored UTC time the way people read it (Asia/Shanghai, with its offset)."""
    return when.astimezone(LOCAL_TZ)


def for_people(when: datetime | None, tz: ZoneInfo = LOCAL_TZ) -> str:
    """``2026-11-24 09:00``: local wall time to the minute, for tables, PDFs and CSVs.

    Machines get RFC 3339 UTC in JSON; people get their own clock, without seconds,
    microseconds or an offset they would have to work out.
    """
    return "" if when is None else core_time.for_people(when, tz)
