"""Pick the GNSS source named by a URL-like setting (STYLE §6).

=========================================  ===========================================
``serial:///dev/ttyUSB0?baud=4800``        a receiver on a serial/USB port (8N1)
``serial://COM3?baud=9600``                the same on Windows
``tcp://127.0.0.1:10110``                  NMEA shared over TCP (phone app, ser2net)
``file:///var/lib/waterops/track.nmea``    replay a recorded log (not a live device)
``sim://?fix=rtk&drift_m=0.3``             the simulator (see ``simulator.py``)
=========================================  ===========================================

Anything but ``serial`` and ``tcp`` logs a warning outside demo mode: a replay or a
simulator must never pass for a crew's real position.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Final

from hardware_adapters.device_url import parse_device_url, warn_simulator
from hardware_adapters.errors import DeviceUnavailableError, DeviceUrlError
from hardware_adapters.gnss.nmea_serial import LineStream, NmeaReceiver, open_serial_stream
from hardware_adapters.gnss.simulator import open_simulator

Clock = Callable[[], datetime]

SCHEMES: Final = ("serial", "tcp", "file", "sim")
DEFAULT_BAUD: Final = 4800  # NMEA 0183's own rate; most USB pucks use 9600 or 38400


def open_receiver(setting: str, *, clock: Clock, demo: bool = False,
                  read_timeout_s: float = 0.2,
                  monotonic: Callable[[], float] = time.perf_counter) -> NmeaReceiver:
    """Open the receiver named by ``setting``; the caller closes it (it is a context manager).

    ``read_timeout_s`` bounds one blocking read on a port, so ``read_fix`` can honour its
    own deadline; it is not the time allowed for a fix. ``monotonic`` measures that
    deadline on a port (``NmeaReceiver``).
    """
    url = parse_device_url(setting, SCHEMES)
    if url.scheme == "sim":
        warn_simulator("GNSS", setting, demo)
        return open_simulator(url, clock)
    if url.scheme == "file":
        url.check_params(())
        warn_simulator("GNSS replay", setting, demo)
        try:
            stream: LineStream = Path(url.target).open("rb")  # noqa: SIM115 - owned by the receiver
        except OSError as exc:
            raise DeviceUnavailableError(setting, str(exc)) from None
        return NmeaReceiver(stream, url=setting, clock=clock, ends_at_eof=True)
    url.check_params({"baud"})
    baud = url.integer("baud", DEFAULT_BAUD)
    if baud <= 0:
        raise DeviceUrlError(setting, "baud must be positive")
    if url.scheme == "tcp":
        port_url = f"socket://{url.target}"
    else:
        if not url.target:
            raise DeviceUrlError(setting, "serial needs a device, e.g. serial:///dev/ttyUSB0")
        port_url = url.target
    stream = open_serial_stream(setting, port_url, baud=baud, read_timeout_s=read_timeout_s)
    return NmeaReceiver(stream, url=setting, clock=clock, ends_at_eof=False,
                        monotonic=monotonic)
