"""What a notice printer takes and gives back.

:class:`NoticeSlip` is the printable face of a sealed notice (outage notice, meter
replacement notice 《换表通知单》, removal slip): the notices package seals the record and
hands these plain fields over, so printing never needs the database. :class:`PrintJob`
says what was sent, with the SHA-256 of the exact bytes, so the record can keep proof of
what the customer was handed.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from types import TracebackType
from typing import Protocol

import msgspec


class SlipReading(msgspec.Struct, frozen=True, kw_only=True):
    """One meter reading on the slip (e.g. the final reading 抄表止度 before a change)."""

    meter: str
    value_m3: Decimal
    label: str = "读数"


class SlipPosition(msgspec.Struct, frozen=True, kw_only=True):
    """Where the notice was issued. ``crs`` is printed next to it: "GCJ-02" or "WGS84"."""

    lon: float
    lat: float
    crs: str = "GCJ-02"


class NoticeSlip(msgspec.Struct, frozen=True, kw_only=True):
    """The fields printed on a notice. ``issued_at`` is UTC; it prints in Beijing time."""

    title: str
    verification_url: str
    seal_hash: str
    issued_at: datetime
    account_name: str = ""
    address: str = ""
    meter_numbers: list[str] = msgspec.field(default_factory=list)
    readings: list[SlipReading] = msgspec.field(default_factory=list)
    crew: str = ""
    position: SlipPosition | None = None
    body: list[str] = msgspec.field(default_factory=list)  # paragraphs of the notice text
    utility_name: str = ""
    hotline: str = ""


class PrintJob(msgspec.Struct, frozen=True, kw_only=True):
    """What went to the printer: size and SHA-256 of the ESC/POS bytes, and where."""

    device: str
    size_bytes: int
    sha256: str


class NoticePrinter(Protocol):
    """A printer that renders notices: thermal ESC/POS over Bluetooth, USB, TCP, or a file."""

    url: str

    def print_slip(self, slip: NoticeSlip) -> PrintJob: ...

    def close(self) -> None: ...

    def __enter__(self) -> NoticePrinter: ...

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None: ...
