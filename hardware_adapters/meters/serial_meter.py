"""Read CJ/T 188 meters over a serial line (RS-485/M-Bus converter, optical probe) or a
TCP bridge, with pyserial.

Defaults are the standard's: 2400 baud, 8 data bits, even parity, 1 stop bit. A request
goes out with two FE wake-up bytes; the answer is collected until the deadline, skipping
preamble and line noise (:class:`FrameBuffer`), and checked: address, control code and DI
must match what was asked, or a typed error says what went wrong. ``retries`` repeats a
request after a timeout or a damaged answer, as hand-held readers do.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import datetime, tzinfo
from types import TracebackType
from typing import Protocol

import serial

from hardware_adapters.errors import (
    AddressMismatchError,
    ChecksumError,
    DeviceUnavailableError,
    FrameError,
    MeterRejectedError,
    MeterTimeoutError,
)
from hardware_adapters.meters import cjt188
from hardware_adapters.meters.base import MeterReading, status_flags

Clock = Callable[[], datetime]


class BusPort(Protocol):
    """The part of ``serial.Serial`` a meter bus needs; the simulator's port has it too."""

    def write(self, data: bytes, /) -> int | None: ...

    def read(self, size: int = 1, /) -> bytes: ...

    def reset_input_buffer(self) -> None: ...

    def close(self) -> None: ...


class SerialMeterReader:
    """CJ/T 188 master on one bus. Not thread-safe: one request on the line at a time.

    ``monotonic`` (seconds) measures the answer deadline, ``time.perf_counter`` unless a
    test steps it: the reading stamps (``clock``) and the deadline are separate clocks.
    """

    def __init__(self, port: BusPort, *, url: str, clock: Clock, meter_zone: tzinfo,
                 timeout_s: float = 1.5, retries: int = 1, preamble: int = 2,
                 meter_type: int = cjt188.MeterType.COLD_WATER,
                 monotonic: Callable[[], float] = time.perf_counter) -> None:
        self.url = url
        self._port = port
        self._clock = clock
        self._monotonic = monotonic
        self._zone = meter_zone
        self.timeout_s = timeout_s
        self.retries = retries
        self.preamble = preamble
        self.meter_type = meter_type
        self._ser = 0

    def _next_ser(self) -> int:
        self._ser = (self._ser + 1) & 0xFF
        return self._ser

    def _collect(self, address: str) -> cjt188.Frame:
        """Wait for one frame; typed errors for silence, noise and damaged frames."""
        frames = cjt188.FrameBuffer()
        received = 0
        deadline = self._monotonic() + self.timeout_s
        while self._monotonic() < deadline:
            try:
                chunk = self._port.read(64)
            except (OSError, serial.SerialException) as exc:
                raise DeviceUnavailableError(self.url, str(exc)) from None
            if not chunk:
                continue
            received += len(chunk)
            frames.feed(chunk)
            while (frame := frames.pop()) is not None:
                if frame.control & cjt188.Control.REPLY:  # else our own echo on 2-wire RS-485
                    return frame
        if received == 0:
            raise MeterTimeoutError(address, self.timeout_s)
        if frames.problem is not None:
            raise frames.problem
        if frames.pending:
            raise FrameError(f"answer cut short: {frames.pending} bytes of an incomplete "
                             "frame when the time ran out")
        raise FrameError(f"{frames.noise_bytes} bytes of noise and no frame")

    def _exchange(self, request: cjt188.Frame) -> cjt188.Frame:
        raw = cjt188.encode_frame(request, preamble=self.preamble)
        attempts = self.retries + 1
        for attempt in range(attempts):
            try:
                self._port.reset_input_buffer()
                self._port.write(raw)
            except (OSError, serial.SerialException) as exc:
                raise DeviceUnavailableError(self.url, str(exc)) from None
            try:
                return self._collect(request.address)
            except (MeterTimeoutError, ChecksumError):
                if attempt == attempts - 1:
                    raise
        raise AssertionError("unreachable")  # pragma: no cover

    def _check(self, request: cjt188.Frame, answer: cjt188.Frame, expected_di: int) -> None:
        if request.address != cjt188.BROADCAST and answer.address != request.address:
            raise AddressMismatchError(request.address, answer.address)
        function = request.control & 0x3F
        if answer.control & 0x3F != function:
            raise FrameError(f"asked function {function:#04x}, answer has control "
                             f"{answer.control:#04x}", answer.data)
        if answer.control & cjt188.Control.ABNORMAL:
            status = int.from_bytes(answer.data[-2:], "little") if len(answer.data) >= 2 else 0
            raise MeterRejectedError(answer.address, answer.control, status)
        if cjt188.di_of(answer.data) != expected_di:
            raise FrameError(f"answer is not for DI {expected_di:04X}", answer.data)

    def read(self, address: str) -> MeterReading:
        request = cjt188.read_data_request(address.strip().upper(),
                                           meter_type=self.meter_type, ser=self._next_ser())
        cjt188.address_to_wire(request.address)  # reject a bad address before the bus
        answer = self._exchange(request)
        self._check(request, answer, cjt188.DI_READ_DATA)
        data = cjt188.decode_read_data(answer, self._zone)
        valve, battery_low = status_flags(data.status)
        return MeterReading(
            address=answer.address, volume_m3=data.current_m3, read_at=self._clock(),
            meter_time=data.meter_time, settlement_volume_m3=data.settlement_m3,
            valve=valve, battery_low=battery_low, status_raw=data.status,
            meter_type=answer.meter_type, source=self.url, absent_fields=data.absent,
        )

    def read_address(self) -> str:
        request = cjt188.read_address_request(meter_type=self.meter_type, ser=self._next_ser())
        answer = self._exchange(request)
        self._check(request, answer, cjt188.DI_READ_ADDRESS)
        return answer.address

    def close(self) -> None:
        self._port.close()

    def __enter__(self) -> SerialMeterReader:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.close()


def open_port(url: str, port_url: str, *, baud: int, parity: str, stopbits: float,
              read_timeout_s: float) -> BusPort:
    """Open a pyserial port or ``serial_for_url`` target (``socket://``, ``loop://``)."""
    try:
        return serial.serial_for_url(port_url, baudrate=baud, bytesize=serial.EIGHTBITS,
                                     parity=parity, stopbits=stopbits, timeout=read_timeout_s)
    except (serial.SerialException, OSError, ValueError) as exc:
        raise DeviceUnavailableError(url, str(exc)) from None
