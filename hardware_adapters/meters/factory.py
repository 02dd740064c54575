"""Pick the meter bus named by a URL-like setting (STYLE §6).

==============================================================  ============================
``serial:///dev/ttyUSB0``                                       RS-485/M-Bus converter, 2400 8E1
``serial:///dev/ttyUSB0?baud=9600&parity=N``                    a vendor's faster variant
``tcp://192.168.1.50:4001``                                     RS-485-to-Ethernet converter
``sim://?meters=00000012345678:1234.56&fault=checksum``         the simulator
==============================================================  ============================

Common parameters: ``timeout_s`` (answer deadline, default 1.5), ``retries`` (default 1),
``preamble`` (FE bytes before a request, default 2), ``tz`` (zone of the meter clocks,
default Asia/Shanghai). Simulator: ``meters`` (comma-separated ``address:volume``, volume
in m³), ``fault`` (a :class:`MeterFault` value), ``seed``.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import datetime
from decimal import Decimal, InvalidOperation
from typing import Final
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import serial

from hardware_adapters.device_url import DeviceUrl, parse_device_url, warn_simulator
from hardware_adapters.errors import DeviceUrlError, FrameError
from hardware_adapters.meters import cjt188
from hardware_adapters.meters.serial_meter import BusPort, SerialMeterReader, open_port
from hardware_adapters.meters.simulator import (
    MeterFault,
    MeterSimulator,
    SimulatedMeter,
    SimulatedPort,
)

Clock = Callable[[], datetime]

SCHEMES: Final = ("serial", "tcp", "sim")
DEFAULT_BAUD: Final = 2400
DEMO_METER: Final = "00000012345678"
_COMMON: Final = frozenset({"timeout_s", "retries", "preamble", "tz"})
_PARITIES: Final = {"E": serial.PARITY_EVEN, "N": serial.PARITY_NONE, "O": serial.PARITY_ODD}


def _simulated_meters(url: DeviceUrl) -> list[SimulatedMeter]:
    meters: list[SimulatedMeter] = []
    for item in url.text("meters", f"{DEMO_METER}:1234.56").split(","):
        address, _, volume = item.strip().partition(":")
        try:
            cjt188.address_to_wire(address)
            amount = Decimal(volume or "0").quantize(Decimal("0.01"))
        except (FrameError, InvalidOperation):
            raise DeviceUrlError(url.raw, f"bad simulated meter {item!r}") from None
        if not Decimal(0) <= amount < Decimal(1_000_000):
            raise DeviceUrlError(url.raw, f"volume {volume} out of the meter's range")
        meters.append(SimulatedMeter(address=address.upper(), volume_m3=amount,
                                     settlement_m3=amount))
    return meters


def open_meter_bus(setting: str, *, clock: Clock, demo: bool = False,
                   monotonic: Callable[[], float] = time.perf_counter) -> SerialMeterReader:
    """Open the meter bus named by ``setting``; the caller closes it (a context manager).
    ``monotonic`` measures answer deadlines (``SerialMeterReader``)."""
    url = parse_device_url(setting, SCHEMES)
    try:
        zone = ZoneInfo(url.text("tz", "Asia/Shanghai"))
    except (ZoneInfoNotFoundError, ValueError):
        raise DeviceUrlError(setting, "tz is not a known time zone") from None
    timeout_s, retries = url.number("timeout_s", 1.5), url.integer("retries", 1)
    preamble = url.integer("preamble", 2)
    if not 0 < timeout_s <= 60 or not 0 <= retries <= 5 or not 0 <= preamble <= 4:
        raise DeviceUrlError(setting, "timeout_s in (0, 60], retries 0..5, preamble 0..4")
    if url.scheme == "sim":
        url.check_params(_COMMON | {"meters", "fault", "seed"})
        try:
            fault = MeterFault(url.text("fault", "none"))
        except ValueError:
            raise DeviceUrlError(setting, "fault must be one of "
                                 + ", ".join(f.value for f in MeterFault)) from None
        warn_simulator("meter bus", setting, demo)
        simulator = MeterSimulator(_simulated_meters(url), clock=clock, zone=zone,
                                   fault=fault, seed=url.integer("seed", 1))
        port: BusPort = SimulatedPort(simulator)
    else:
        url.check_params(_COMMON | {"baud", "parity", "stopbits"})
        parity = url.text("parity", "E").upper()
        stopbits = url.number("stopbits", 1)
        if parity not in _PARITIES or stopbits not in (1, 1.5, 2):
            raise DeviceUrlError(setting, "parity is E, N or O; stopbits 1, 1.5 or 2")
        if url.scheme == "tcp":
            port_url = f"socket://{url.target}"
        elif url.target:
            port_url = url.target
        else:
            raise DeviceUrlError(setting, "serial needs a device, e.g. serial:///dev/ttyUSB0")
        port = open_port(setting, port_url, baud=url.integer("baud", DEFAULT_BAUD),
                         parity=_PARITIES[parity], stopbits=stopbits, read_timeout_s=0.05)
    return SerialMeterReader(port, url=setting, clock=clock, meter_zone=zone,
                             timeout_s=timeout_s, retries=retries, preamble=preamble,
                             monotonic=monotonic)
