"""Poll a pressure logger over Modbus (TCP, or RTU on RS-485) with pymodbus.

Loggers and pressure transmitters expose the pressure in holding registers; the layout is
the vendor's, so it is configured, not guessed: ``register`` (0-based address), ``unit``
(device id), ``format`` — ``u16``/``s16`` (one register, raw times ``scale``) or ``f32``
(IEEE-754 float over two registers, high word first) — and ``scale`` to MPa. A common
layout is one ``u16`` register holding kPa (``scale=0.001``).
"""

from __future__ import annotations

import struct
from collections.abc import Callable
from datetime import datetime
from enum import StrEnum
from types import TracebackType
from typing import Protocol

from pymodbus.exceptions import ModbusException

from hardware_adapters.errors import FrameError, ModbusExceptionError, PressureTimeoutError
from hardware_adapters.pressure.base import PressureSample

Clock = Callable[[], datetime]


class RegisterFormat(StrEnum):
    U16 = "u16"
    S16 = "s16"
    F32 = "f32"


def registers_for(fmt: RegisterFormat) -> int:
    return 2 if fmt is RegisterFormat.F32 else 1


def decode_registers(registers: list[int], fmt: RegisterFormat, scale: float) -> float:
    """Register words -> MPa."""
    if len(registers) != registers_for(fmt) or any(not 0 <= r <= 0xFFFF for r in registers):
        raise FrameError(f"expected {registers_for(fmt)} 16-bit registers, got {registers}")
    if fmt is RegisterFormat.F32:
        value: float = struct.unpack(">f", struct.pack(">HH", *registers))[0]
    elif fmt is RegisterFormat.S16:
        value = struct.unpack(">h", struct.pack(">H", registers[0]))[0]
    else:
        value = registers[0]
    if value != value or abs(value) == float("inf"):
        raise FrameError(f"register value {value} is not a number")
    return value * scale


def encode_registers(pressure_mpa: float, fmt: RegisterFormat, scale: float) -> list[int]:
    """MPa -> register words (the simulator's side of :func:`decode_registers`)."""
    raw = pressure_mpa / scale
    if fmt is RegisterFormat.F32:
        return list(struct.unpack(">HH", struct.pack(">f", raw)))
    word = round(raw)
    if fmt is RegisterFormat.S16:
        return [struct.unpack(">H", struct.pack(">h", max(-32768, min(32767, word))))[0]]
    return [max(0, min(0xFFFF, word))]


class RegisterClient(Protocol):
    """The part of a pymodbus sync client the logger uses."""

    def connect(self) -> bool: ...

    def read_holding_registers(self, address: int, *, count: int = 1,
                               device_id: int = 1,
                               no_response_expected: bool = False) -> object: ...

    def close(self) -> None: ...


class ModbusPressureLogger:
    """One logger behind a pymodbus client; ``read`` polls it once."""

    def __init__(self, client: RegisterClient, *, url: str, logger_id: str, clock: Clock,
                 unit: int = 1, register: int = 0, fmt: RegisterFormat = RegisterFormat.U16,
                 scale: float = 0.001) -> None:
        self.url = url
        self.logger_id = logger_id
        self._client = client
        self._clock = clock
        self.unit = unit
        self.register = register
        self.fmt = fmt
        self.scale = scale

    def read(self) -> PressureSample:
        try:
            answer = self._client.read_holding_registers(
                self.register, count=registers_for(self.fmt), device_id=self.unit)
        except ModbusException as exc:
            raise PressureTimeoutError(self.url, str(exc)) from None
        is_error = getattr(answer, "isError", None)
        if callable(is_error) and is_error():
            code = getattr(answer, "exception_code", None)
            if isinstance(code, int):
                raise ModbusExceptionError(self.url, code)
            raise PressureTimeoutError(self.url, str(answer))
        registers = getattr(answer, "registers", None)
        if not isinstance(registers, list):
            raise FrameError(f"logger {self.url} answered without registers")
        pressure = decode_registers(registers, self.fmt, self.scale)
        return PressureSample(logger_id=self.logger_id, measured_at=self._clock(),
                              pressure_mpa=pressure)

    def close(self) -> None:
        self._client.close()

    def __enter__(self) -> ModbusPressureLogger:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.close()
