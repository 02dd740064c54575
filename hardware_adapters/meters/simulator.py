"""A CJ/T 188 water-meter simulator with injectable faults.

:class:`MeterSimulator` is the meter side of the protocol: it decodes requests with the
same codec, answers 901F and 810A, and misbehaves on demand (:class:`MeterFault`) so the
reader's error handling is tested against real bytes. It is served three ways:

* :class:`SimulatedPort` — in memory, behind ``sim://`` settings (demo, CLI, unit tests);
* :class:`PtyMeterServer` — on a pseudo-terminal, so the reader opens a real
  ``/dev/pts/N`` with pyserial exactly as it opens ``/dev/ttyUSB0``;
* :class:`TcpMeterServer` — on 127.0.0.1, like an RS-485-to-Ethernet converter.

Meter volumes advance only when told (:meth:`MeterSimulator.consume`); the meter clock is
the injected clock, so tests never depend on the wall clock.
"""

from __future__ import annotations

import functools
import os
import pty
import random
import selectors
import socket
import threading
import tty
from collections.abc import Callable
from datetime import datetime, tzinfo
from decimal import Decimal
from enum import StrEnum
from types import TracebackType
from typing import Final

import msgspec

from hardware_adapters.errors import FrameError
from hardware_adapters.meters import cjt188
from hardware_adapters.meters.base import ValveState

Clock = Callable[[], datetime]

_VALVE_BITS: Final = {ValveState.OPEN: 0b00, ValveState.CLOSED: 0b01,
                      ValveState.ABNORMAL: 0b11, ValveState.UNKNOWN: 0b10}


class MeterFault(StrEnum):
    """How the simulated meter misbehaves; each maps to one typed error in the reader."""

    NONE = "none"
    CHECKSUM = "checksum"  # answer with CS off by one        -> ChecksumError
    TIMEOUT = "timeout"  # no answer at all                    -> MeterTimeoutError
    WRONG_ADDRESS = "wrong-address"  # another meter answers   -> AddressMismatchError
    GARBAGE = "garbage"  # random bytes, no frame              -> FrameError
    TRUNCATED = "truncated"  # the answer stops half-way       -> FrameError
    REJECT = "reject"  # abnormal answer (C=C1H)               -> MeterRejectedError
    NOISE = "noise"  # noise before a good answer              -> a normal reading
    #: settlement volume and clock filled with FF (meters without them) -> a reading
    #: with those fields absent
    FF_FIELDS = "ff-fields"


class SimulatedMeter(msgspec.Struct, kw_only=True):
    """One meter's state. Mutable: consumption and valve changes happen over time."""

    address: str
    volume_m3: Decimal = Decimal("0.00")
    settlement_m3: Decimal = Decimal("0.00")
    valve: ValveState = ValveState.OPEN
    battery_low: bool = False
    has_clock: bool = True
    meter_type: int = cjt188.MeterType.COLD_WATER


class MeterSimulator:
    """The meters on one bus. Thread-safe: servers answer from their own thread."""

    def __init__(self, meters: list[SimulatedMeter], *, clock: Clock, zone: tzinfo,
                 fault: MeterFault = MeterFault.NONE, seed: int = 1) -> None:
        self._meters = {m.address.upper(): m for m in meters}
        self._clock = clock
        self._zone = zone
        self._rng = random.Random(seed)  # noqa: S311 - simulation, not security
        self._lock = threading.Lock()
        self.fault = fault
        self.requests = 0

    def meter(self, address: str) -> SimulatedMeter:
        return self._meters[address.upper()]

    def consume(self, address: str, litres: int) -> None:
        """Advance a meter by ``litres`` (whole litres, as the register turns)."""
        with self._lock:
            m = self._meters[address.upper()]
            m.volume_m3 = m.volume_m3 + Decimal(litres) / 1000

    def answer(self, request: bytes) -> bytes:
        """Bytes the meter puts on the line for ``request``; empty for silence."""
        try:
            frame = cjt188.decode_frame(request)
        except FrameError:
            return b""  # meters ignore what they cannot decode
        return self.answer_frame(frame)

    def answer_frame(self, frame: cjt188.Frame) -> bytes:
        with self._lock:
            self.requests += 1
            return self._answer(frame)

    def _answer(self, frame: cjt188.Frame) -> bytes:
        if frame.control & cjt188.Control.REPLY:
            return b""  # another meter's answer, or our own echo
        function = frame.control & 0x3F
        if frame.address == cjt188.BROADCAST and function == cjt188.Control.READ_ADDRESS:
            if len(self._meters) != 1:
                return b""  # several meters would collide; the standard needs one on line
            meter = next(iter(self._meters.values()))
            data = frame.data[:3]
        elif function == cjt188.Control.READ_DATA and frame.address in self._meters:
            meter = self._meters[frame.address]
            if cjt188.di_of(frame.data) != cjt188.DI_READ_DATA:
                return b""
            data = self._read_data(meter, frame.data[2] if len(frame.data) > 2 else 0)
        else:
            return b""
        address = meter.address
        if self.fault is MeterFault.TIMEOUT:
            return b""
        if self.fault is MeterFault.GARBAGE:
            return bytes(self._rng.choice([b for b in range(256) if b != cjt188.START])
                         for _ in range(24))
        if self.fault is MeterFault.WRONG_ADDRESS:
            address = f"{(int(address) + 1) % 10 ** 14:014d}" if address.isdigit() \
                else "00000000000001"
        control = function | cjt188.Control.REPLY
        if self.fault is MeterFault.REJECT:
            control |= cjt188.Control.ABNORMAL
            data = frame.data[:3] + bytes([0x04, 0x00])
        raw = cjt188.encode_frame(cjt188.Frame(meter_type=meter.meter_type, address=address,
                                               control=control, data=data), preamble=2)
        if self.fault is MeterFault.CHECKSUM:
            raw = raw[:-2] + bytes([(raw[-2] + 1) & 0xFF]) + raw[-1:]
        elif self.fault is MeterFault.TRUNCATED:
            raw = raw[: len(raw) // 2]
        elif self.fault is MeterFault.NOISE:
            raw = bytes(self._rng.randrange(256) for _ in range(7)) + raw
        return raw

    def _read_data(self, meter: SimulatedMeter, ser: int) -> bytes:
        status = _VALVE_BITS[meter.valve] | (0b100 if meter.battery_low else 0)
        return cjt188.encode_read_data(
            ser=ser, current_m3=meter.volume_m3, settlement_m3=meter.settlement_m3,
            meter_time=self._clock() if meter.has_clock else None, status=status,
            zone=self._zone, optional_fill=0xFF if self.fault is MeterFault.FF_FIELDS else None)


class SimulatedPort:
    """An in-memory serial port wired to a simulator: a write queues the meter's answer.

    A read with nothing queued waits ``timeout`` seconds on an event, as a serial read
    with a timeout does, so the reader's deadline logic runs unchanged.
    """

    def __init__(self, simulator: MeterSimulator, *, timeout: float = 0.02) -> None:
        self.simulator = simulator
        self.timeout = timeout
        self._pending = bytearray()
        self._ready = threading.Event()
        self.is_open = True

    def write(self, data: bytes, /) -> int:
        answer = self.simulator.answer(bytes(data))
        self._pending.extend(answer)
        if self._pending:
            self._ready.set()
        return len(data)

    def read(self, size: int = 1, /) -> bytes:
        if not self._pending:
            self._ready.wait(self.timeout)
        chunk = bytes(self._pending[:size])
        del self._pending[:size]
        if not self._pending:
            self._ready.clear()
        return chunk

    def reset_input_buffer(self) -> None:
        self._pending.clear()
        self._ready.clear()

    def close(self) -> None:
        self.is_open = False


class _Server:
    """Answer request frames arriving on a file descriptor until stopped (own thread)."""

    def __init__(self, simulator: MeterSimulator) -> None:
        self.simulator = simulator
        #: requests handled so far, counted once the answer (or the silence) is on the line
        self.handled = 0
        self._wake_r, self._wake_w = os.pipe()
        self._thread: threading.Thread | None = None

    def _serve(self, fd: int, send: Callable[[bytes], object],
               recv: Callable[[], bytes]) -> None:
        frames = cjt188.FrameBuffer()
        with selectors.DefaultSelector() as sel:
            sel.register(fd, selectors.EVENT_READ)
            sel.register(self._wake_r, selectors.EVENT_READ)
            while True:
                ready = {key.fd for key, _ in sel.select()}
                if self._wake_r in ready:
                    return
                try:
                    chunk = recv()
                except OSError:
                    return
                if not chunk:
                    return
                frames.feed(chunk)
                while True:
                    try:
                        frame = frames.pop()
                    except FrameError:
                        continue
                    if frame is None:
                        break
                    answer = self.simulator.answer_frame(frame)
                    if answer:
                        send(answer)
                    self.handled += 1

    def _start(self, target: Callable[[], None]) -> None:
        self._thread = threading.Thread(target=target, name="meter-simulator", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        os.write(self._wake_w, b"x")
        if self._thread is not None:
            self._thread.join(timeout=5)
        os.close(self._wake_r)
        os.close(self._wake_w)

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.stop()


class PtyMeterServer(_Server):
    """The simulator behind a pseudo-terminal; ``device`` is the path to open (8E1 etc.
    are accepted and ignored by a pty, as by a USB converter in a loop-back test)."""

    def __init__(self, simulator: MeterSimulator) -> None:
        super().__init__(simulator)
        self._master, self._slave = pty.openpty()
        tty.setraw(self._slave)
        self.device = os.ttyname(self._slave)

    def __enter__(self) -> PtyMeterServer:
        self._start(lambda: self._serve(
            self._master, lambda b: os.write(self._master, b),
            lambda: os.read(self._master, 256)))
        return self

    def stop(self) -> None:
        super().stop()
        os.close(self._master)
        os.close(self._slave)


class TcpMeterServer(_Server):
    """The simulator on ``127.0.0.1:port``, one client at a time (like a bus converter)."""

    def __init__(self, simulator: MeterSimulator) -> None:
        super().__init__(simulator)
        self._listener = socket.create_server(("127.0.0.1", 0))
        self.port: int = self._listener.getsockname()[1]

    def _accept_loop(self) -> None:
        with selectors.DefaultSelector() as sel:
            sel.register(self._listener, selectors.EVENT_READ)
            sel.register(self._wake_r, selectors.EVENT_READ)
            while True:
                ready = {key.fd for key, _ in sel.select()}
                if self._wake_r in ready:
                    return
                conn, _ = self._listener.accept()
                with conn:
                    self._serve(conn.fileno(), conn.sendall, functools.partial(conn.recv, 256))

    def __enter__(self) -> TcpMeterServer:
        self._start(self._accept_loop)
        return self

    def stop(self) -> None:
        super().stop()
        self._listener.close()
