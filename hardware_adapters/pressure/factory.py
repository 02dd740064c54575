"""Pick the pressure logger named by a URL-like setting (STYLE §6).

========================================================================  ====================
``tcp://192.168.1.60:502?unit=1&register=0&format=u16&scale=0.001``      Modbus TCP logger
``serial:///dev/ttyUSB0?baud=9600&parity=N&unit=3``                       Modbus RTU on RS-485
``sim://?base=0.32&burst_after_s=600&drop=0.12``                          the simulator
========================================================================  ====================

Common parameters: ``id`` (logger id in samples and alerts; default the URL's target),
``unit``, ``register``, ``format`` (u16, s16, f32), ``scale`` (to MPa), ``timeout_s``.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Final

from pymodbus.client import ModbusSerialClient, ModbusTcpClient

from hardware_adapters.device_url import parse_device_url, warn_simulator
from hardware_adapters.errors import DeviceUnavailableError, DeviceUrlError
from hardware_adapters.pressure.base import PressureLogger
from hardware_adapters.pressure.modbus_logger import (
    ModbusPressureLogger,
    RegisterClient,
    RegisterFormat,
)
from hardware_adapters.pressure.simulator import Burst, PressureProfile, SimulatedPressureLogger

Clock = Callable[[], datetime]

SCHEMES: Final = ("tcp", "serial", "sim")
_MODBUS: Final = frozenset({"id", "unit", "register", "format", "scale", "timeout_s"})


def open_pressure_logger(setting: str, *, clock: Clock, demo: bool = False) -> PressureLogger:
    """Open the logger named by ``setting``; the caller closes it (a context manager)."""
    url = parse_device_url(setting, SCHEMES)
    logger_id = url.text("id", url.target or "sim")
    if url.scheme == "sim":
        url.check_params({"id", "base", "noise", "burst_after_s", "drop", "ramp_s", "seed"})
        warn_simulator("pressure logger", setting, demo)
        bursts = []
        if "burst_after_s" in url.params:
            bursts.append(Burst(at=clock() + timedelta(seconds=url.number("burst_after_s", 0)),
                                drop_mpa=url.number("drop", 0.12),
                                ramp_s=url.number("ramp_s", 60.0)))
        profile = PressureProfile(base_mpa=url.number("base", 0.32),
                                  noise_mpa=url.number("noise", 0.003), bursts=bursts,
                                  seed=url.integer("seed", 1))
        return SimulatedPressureLogger(profile, url=setting, logger_id=logger_id, clock=clock)
    try:
        fmt = RegisterFormat(url.text("format", "u16"))
    except ValueError:
        raise DeviceUrlError(setting, "format is u16, s16 or f32") from None
    unit, register = url.integer("unit", 1), url.integer("register", 0)
    timeout_s = url.number("timeout_s", 2.0)
    if not 0 <= unit <= 247 or not 0 <= register <= 0xFFFF or not 0 < timeout_s <= 60:
        raise DeviceUrlError(setting, "unit 0..247, register 0..65535, timeout_s in (0, 60]")
    client: RegisterClient
    if url.scheme == "tcp":
        url.check_params(_MODBUS)
        client = ModbusTcpClient(url.host or "", port=url.port or 502, timeout=timeout_s,
                                 retries=0)
    else:
        url.check_params(_MODBUS | {"baud", "parity"})
        if not url.target:
            raise DeviceUrlError(setting, "serial needs a device, e.g. serial:///dev/ttyUSB0")
        client = ModbusSerialClient(url.target, baudrate=url.integer("baud", 9600),
                                    parity=url.text("parity", "N").upper(),
                                    timeout=timeout_s, retries=0)
    if not client.connect():
        raise DeviceUnavailableError(setting, "cannot connect")
    return ModbusPressureLogger(client, url=setting, logger_id=logger_id, clock=clock,
                                unit=unit, register=register, fmt=fmt,
                                scale=url.number("scale", 0.001))
