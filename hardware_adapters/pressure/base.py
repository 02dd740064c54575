"""Pressure loggers on the network and the rule that turns a pressure drop into an alert.

A burst shows on nearby loggers as a sudden pressure drop: the main empties faster than
the pumps refill it. :class:`DropDetector` watches one logger's samples and raises a
:class:`BurstAlert` when the pressure falls by ``min_drop_mpa`` or more below the highest
value seen in the last ``window_s`` seconds; it re-arms when the pressure recovers to within
half that drop of the level before it, so one burst gives one alert, not one per sample.
Pressures are MPa (gauge); 0.28-0.35 MPa is a typical city main, 0.14 MPa the usual
minimum service pressure at the tap.

The detector keeps a monotonic deque of the window's maxima, so each sample costs O(1)
amortised whatever the window length.
"""

from __future__ import annotations

from collections import deque
from datetime import datetime, timedelta
from types import TracebackType
from typing import Protocol

import msgspec


class PressureSample(msgspec.Struct, frozen=True, kw_only=True):
    """One reading of one logger; ``measured_at`` is UTC."""

    logger_id: str
    measured_at: datetime
    pressure_mpa: float


class DropRule(msgspec.Struct, frozen=True, kw_only=True):
    """When a drop is a burst alert. Defaults: 0.05 MPa within 5 minutes."""

    min_drop_mpa: float = 0.05
    window_s: float = 300.0


class BurstAlert(msgspec.Struct, frozen=True, kw_only=True):
    """A pressure drop that suggests a burst near ``logger_id``."""

    logger_id: str
    detected_at: datetime
    from_mpa: float  # the highest pressure in the window before the drop
    from_at: datetime
    to_mpa: float
    drop_mpa: float


class DropDetector:
    """Streaming drop detection for one logger; feed samples in time order."""

    def __init__(self, rule: DropRule) -> None:
        self.rule = rule
        self._maxima: deque[PressureSample] = deque()
        self._armed = True
        self._reference = 0.0

    def feed(self, sample: PressureSample) -> BurstAlert | None:
        """Add ``sample``; return an alert when it completes a drop, else ``None``."""
        start = sample.measured_at - timedelta(seconds=self.rule.window_s)
        while self._maxima and self._maxima[0].measured_at < start:
            self._maxima.popleft()
        while self._maxima and self._maxima[-1].pressure_mpa <= sample.pressure_mpa:
            self._maxima.pop()
        self._maxima.append(sample)
        peak = self._maxima[0]
        if not self._armed:
            if sample.pressure_mpa >= self._reference - self.rule.min_drop_mpa / 2:
                self._armed = True
            return None
        drop = peak.pressure_mpa - sample.pressure_mpa
        if drop < self.rule.min_drop_mpa:
            return None
        self._armed = False
        self._reference = peak.pressure_mpa
        return BurstAlert(logger_id=sample.logger_id, detected_at=sample.measured_at,
                          from_mpa=peak.pressure_mpa, from_at=peak.measured_at,
                          to_mpa=sample.pressure_mpa, drop_mpa=drop)


def detect_drops(samples: list[PressureSample], rule: DropRule) -> list[BurstAlert]:
    """Every alert in a time-ordered series of one logger (for replays and reports)."""
    detector = DropDetector(rule)
    return [alert for s in samples if (alert := detector.feed(s)) is not None]


class PressureLogger(Protocol):
    """A pressure logger that can be polled."""

    url: str
    logger_id: str

    def read(self) -> PressureSample: ...

    def close(self) -> None: ...

    def __enter__(self) -> PressureLogger: ...

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None: ...
