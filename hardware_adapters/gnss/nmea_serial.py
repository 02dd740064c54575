"""A GNSS receiver that prints NMEA 0183 on a byte stream: serial port, TCP bridge or file.

Real receivers: USB GNSS pucks (u-blox, BeiDou/GPS modules) appear as ``/dev/ttyACM0`` or
``/dev/ttyUSB0`` at 4800, 9600 or 38400 baud, 8N1; Android apps that share the tablet's
receiver over TCP ("NMEA over network") are read with ``tcp://host:port``. All of them go
through :class:`NmeaReceiver`, which reads lines, feeds :class:`EpochAssembler` and checks
fixes against a :class:`FixPolicy`. Bad lines are skipped and counted: serial lines drop
bytes, and one garbled sentence must not lose the next good fix.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from datetime import datetime
from types import TracebackType
from typing import Protocol

import serial

from hardware_adapters.errors import DeviceUnavailableError, GnssTimeoutError
from hardware_adapters.gnss.base import Fix, FixPolicy, evaluate_fix
from hardware_adapters.gnss.nmea import EpochAssembler

Clock = Callable[[], datetime]

#: a sentence is at most 82 characters; anything longer without a newline is noise
MAX_LINE: int = 256


class LineStream(Protocol):
    """What the receiver needs from a port or file."""

    def readline(self, size: int = -1, /) -> bytes: ...

    def close(self) -> None: ...


class NmeaReceiver:
    """Fixes from a line stream. ``ends_at_eof``: an empty read means the end (files),
    not a read timeout (ports and sockets). ``monotonic`` (seconds) measures the
    deadlines of ``fixes``/``read_fix``, ``time.perf_counter`` unless a test steps it."""

    def __init__(self, stream: LineStream, *, url: str, clock: Clock,
                 ends_at_eof: bool,
                 monotonic: Callable[[], float] = time.perf_counter) -> None:
        self.url = url
        self._stream = stream
        self._clock = clock
        self._monotonic = monotonic
        self._ends_at_eof = ends_at_eof
        self._ended = False
        self.assembler = EpochAssembler(strict=False)

    def _pump(self, deadline: float) -> list[Fix] | None:
        """Read one line; ``None`` once the stream ended or the deadline passed."""
        if self._ended or self._monotonic() > deadline:
            return None
        try:
            raw = self._stream.readline(MAX_LINE)
        except (OSError, serial.SerialException) as exc:
            raise DeviceUnavailableError(self.url, str(exc)) from None
        if not raw:
            if self._ends_at_eof:
                self._ended = True
                return self.assembler.flush()
            return []
        return self.assembler.feed(raw.decode("ascii", errors="replace"))

    def fixes(self, timeout_s: float) -> Iterator[Fix]:
        deadline = self._monotonic() + timeout_s
        while (batch := self._pump(deadline)) is not None:
            yield from batch

    def read_fix(self, policy: FixPolicy, timeout_s: float) -> Fix:
        last_reason: str | None = None
        for fix in self.fixes(timeout_s):
            reason = evaluate_fix(fix, policy, self._clock())
            if reason is None:
                return fix
            last_reason = reason.value
        diagnosis = None
        if last_reason is None:
            if self.assembler.last_problem is not None:
                last_reason = self.assembler.last_problem.value
            diagnosis = self.assembler.diagnosis()
        raise GnssTimeoutError(timeout_s, last_reason, diagnosis)

    def close(self) -> None:
        self._stream.close()

    def __enter__(self) -> NmeaReceiver:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.close()


def open_serial_stream(url: str, port_url: str, *, baud: int,
                       read_timeout_s: float) -> LineStream:
    """Open a pyserial port or ``serial_for_url`` target (``socket://``, ``loop://``)."""
    try:
        return serial.serial_for_url(port_url, baudrate=baud, timeout=read_timeout_s)
    except (serial.SerialException, OSError, ValueError) as exc:
        raise DeviceUnavailableError(url, str(exc)) from None
