"""What a meter read gives the rest of waterops: :class:`MeterReading`.

The reading-route work orders store one reading per meter visit. The struct is the
contract with them: the volume is a ``Decimal`` in m³ with the meter's own resolution (two
decimals for m³ meters), never a float, because readings are billed; ``read_at`` is the
server/tablet clock when the answer arrived and ``meter_time`` the meter's own clock, which
drifts and is kept separately (every event keeps device time and server time).
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from enum import StrEnum
from types import TracebackType
from typing import Protocol

import msgspec


class ValveState(StrEnum):
    """ST0 bits D1D0 of a valve-controlled (prepaid) meter; meters without valve say open."""

    OPEN = "open"
    CLOSED = "closed"
    ABNORMAL = "abnormal"
    UNKNOWN = "unknown"  # bit pattern 10, undefined by the standard


class MeterReading(msgspec.Struct, frozen=True, kw_only=True):
    """One read of one meter.

    ``address`` is the 14-digit meter number as printed on its label (A6..A0).
    ``volume_m3`` is the current cumulative volume; ``settlement_volume_m3`` the volume the
    meter froze on its settlement day (billing cut-off), when it reports one.
    """

    address: str
    volume_m3: Decimal
    read_at: datetime  # UTC, our clock
    meter_time: datetime | None = None  # UTC, the meter's clock; None if it has none
    settlement_volume_m3: Decimal | None = None
    valve: ValveState = ValveState.OPEN
    battery_low: bool = False
    status_raw: int = 0  # ST0 | ST1 << 8, vendor bits included
    meter_type: int = 0x10
    source: str = ""  # the device URL the reading came through
    #: optional fields the meter sent without a value (FF-filled or junk), and why;
    #: the reading itself (volume, status) is good
    absent_fields: dict[str, str] = msgspec.field(default_factory=dict)


def status_flags(status: int) -> tuple[ValveState, bool]:
    """Valve state and battery-low flag from the ST word (ST0 is the low byte)."""
    valve = {0b00: ValveState.OPEN, 0b01: ValveState.CLOSED, 0b11: ValveState.ABNORMAL}.get(
        status & 0b11, ValveState.UNKNOWN)
    return valve, bool(status & 0b100)


class MeterReader(Protocol):
    """A meter bus: one meter at a time, addressed by its number."""

    url: str

    def read(self, address: str) -> MeterReading:
        """Read metering data (901F) of the meter ``address``."""
        ...

    def read_address(self) -> str:
        """Ask the single meter on the line for its address (810A)."""
        ...

    def close(self) -> None: ...

    def __enter__(self) -> MeterReader: ...

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None: ...
