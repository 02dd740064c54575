"""A pressure logger simulator: a pressure profile, served in memory or as Modbus TCP.

:class:`PressureProfile` gives the pressure at any time: a steady main with a little
seeded noise, and bursts that pull it down over ``ramp_s`` seconds. Times come from the
injected clock, so a test steps through a burst without waiting.

:class:`ModbusTcpLoggerSimulator` answers Modbus TCP on 127.0.0.1 (function 03, read
holding registers) from that profile. It is a small, complete server written here rather
than pymodbus' own, whose server and datastore API is being replaced before pymodbus 4;
the client side, the part that talks to real loggers, is pymodbus. Faults: ``silent`` (no
answer) and ``busy`` (Modbus exception 06).
"""

from __future__ import annotations

import random
import socket
import socketserver
import struct
import threading
from collections.abc import Callable
from datetime import datetime, timedelta
from enum import StrEnum
from types import TracebackType
from typing import Final

import msgspec

from hardware_adapters.pressure.base import PressureSample
from hardware_adapters.pressure.modbus_logger import (
    RegisterFormat,
    encode_registers,
    registers_for,
)

Clock = Callable[[], datetime]

READ_HOLDING: Final = 0x03
ILLEGAL_FUNCTION: Final = 0x01
ILLEGAL_ADDRESS: Final = 0x02
DEVICE_BUSY: Final = 0x06


class Burst(msgspec.Struct, frozen=True, kw_only=True):
    """A burst starting at ``at`` that lowers the pressure by ``drop_mpa``."""

    at: datetime
    drop_mpa: float = 0.12
    ramp_s: float = 60.0


class PressureProfile(msgspec.Struct, frozen=True, kw_only=True):
    """Pressure over time at one logger, MPa."""

    base_mpa: float = 0.32
    noise_mpa: float = 0.003
    bursts: list[Burst] = msgspec.field(default_factory=list)
    seed: int = 1

    def at(self, when: datetime) -> float:
        """Deterministic for a given time: the noise is seeded by the second."""
        rng = random.Random(self.seed * 1_000_003 + int(when.timestamp()))  # noqa: S311
        value = self.base_mpa + rng.uniform(-self.noise_mpa, self.noise_mpa)
        for burst in self.bursts:
            elapsed = (when - burst.at).total_seconds()
            if elapsed >= 0:
                value -= burst.drop_mpa * min(1.0, elapsed / max(burst.ramp_s, 1e-9))
        return max(0.0, value)


class SimulatedPressureLogger:
    """``sim://``: the profile read at the clock's time, no transport at all."""

    def __init__(self, profile: PressureProfile, *, url: str, logger_id: str,
                 clock: Clock) -> None:
        self.url = url
        self.logger_id = logger_id
        self.profile = profile
        self._clock = clock

    def read(self) -> PressureSample:
        now = self._clock()
        return PressureSample(logger_id=self.logger_id, measured_at=now,
                              pressure_mpa=round(self.profile.at(now), 4))

    def close(self) -> None:
        """Nothing to release."""

    def __enter__(self) -> SimulatedPressureLogger:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.close()


class LoggerFault(StrEnum):
    NONE = "none"
    SILENT = "silent"
    BUSY = "busy"


def _recv_exactly(conn: socket.socket, size: int) -> bytes | None:
    data = b""
    while len(data) < size:
        chunk = conn.recv(size - len(data))
        if not chunk:
            return None
        data += chunk
    return data


class ModbusTcpLoggerSimulator:
    """Modbus TCP on ``127.0.0.1:port`` serving ``profile`` at ``register`` for ``unit``."""

    def __init__(self, profile: PressureProfile, *, clock: Clock, unit: int = 1,
                 register: int = 0, fmt: RegisterFormat = RegisterFormat.U16,
                 scale: float = 0.001) -> None:
        self.profile = profile
        self.fault = LoggerFault.NONE
        self.requests = 0
        simulator = self

        class Handler(socketserver.BaseRequestHandler):
            def handle(self) -> None:
                conn: socket.socket = self.request
                while (header := _recv_exactly(conn, 7)) is not None:
                    tid, proto, length, dev = struct.unpack(">HHHB", header)
                    pdu = _recv_exactly(conn, length - 1) if length > 1 else b""
                    if pdu is None:
                        return
                    answer = simulator.answer(dev, pdu)
                    if answer is not None:
                        conn.sendall(struct.pack(">HHHB", tid, proto, len(answer) + 1, dev)
                                     + answer)

        self._clock = clock
        self.unit, self.register, self.fmt, self.scale = unit, register, fmt, scale
        self._server = socketserver.ThreadingTCPServer(("127.0.0.1", 0), Handler,
                                                       bind_and_activate=True)
        self._server.daemon_threads = True
        self.port: int = self._server.server_address[1]
        self._thread: threading.Thread | None = None

    def answer(self, unit: int, pdu: bytes) -> bytes | None:
        """The response PDU for a request PDU, or ``None`` for silence."""
        self.requests += 1
        if self.fault is LoggerFault.SILENT or unit != self.unit or not pdu:
            return None
        function = pdu[0]
        if function != READ_HOLDING or len(pdu) != 5:
            return bytes([function | 0x80, ILLEGAL_FUNCTION])
        if self.fault is LoggerFault.BUSY:
            return bytes([function | 0x80, DEVICE_BUSY])
        start, count = struct.unpack(">HH", pdu[1:])
        if start != self.register or count != registers_for(self.fmt):
            return bytes([function | 0x80, ILLEGAL_ADDRESS])
        words = encode_registers(self.profile.at(self._clock()), self.fmt, self.scale)
        return bytes([function, 2 * len(words)]) + struct.pack(f">{len(words)}H", *words)

    def __enter__(self) -> ModbusTcpLoggerSimulator:
        self._thread = threading.Thread(target=self._server.serve_forever,
                                        kwargs={"poll_interval": 0.05}, daemon=True,
                                        name="modbus-logger-simulator")
        self._thread.start()
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self._server.shutdown()
        self._server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)


def burst_profile(start: datetime, *, after_s: float, drop_mpa: float = 0.12,
                  base_mpa: float = 0.32, seed: int = 1) -> PressureProfile:
    """A steady main that bursts ``after_s`` seconds after ``start``."""
    return PressureProfile(base_mpa=base_mpa, seed=seed,
                           bursts=[Burst(at=start + timedelta(seconds=after_s),
                                         drop_mpa=drop_mpa)])
