"""URL-like device settings, the one way a device is chosen (STYLE §6).

Examples::

    serial:///dev/ttyUSB0?baud=4800          a port (Linux), or serial://COM3 on Windows
    tcp://127.0.0.1:10110                    NMEA or a meter bus bridged to TCP
    file:///var/log/gnss/today.nmea          replay a file
    sim://?fix=rtk&drift_m=0.3               a simulator (warns outside demo mode)

Query parameters are read through typed accessors that raise :class:`DeviceUrlError`
naming the parameter, and :meth:`DeviceUrl.check_params` rejects unknown names so a typo
such as ``?buad=4800`` fails loudly instead of silently using the default.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from urllib.parse import parse_qsl, urlsplit

import msgspec

from hardware_adapters.errors import DeviceUrlError

log = logging.getLogger("waterops.hardware")


class DeviceUrl(msgspec.Struct, frozen=True, kw_only=True):
    """A parsed device setting. ``target`` is the device path, file path or ``host:port``."""

    raw: str
    scheme: str
    target: str
    host: str | None = None
    port: int | None = None
    params: dict[str, str] = msgspec.field(default_factory=dict)

    def check_params(self, allowed: Iterable[str]) -> None:
        """Reject query parameters this device does not understand."""
        unknown = sorted(set(self.params) - set(allowed))
        if unknown:
            raise DeviceUrlError(self.raw, f"unknown parameter(s): {', '.join(unknown)}")

    def text(self, name: str, default: str) -> str:
        return self.params.get(name, default)

    def number(self, name: str, default: float) -> float:
        value = self.params.get(name)
        if value is None:
            return default
        try:
            result = float(value)
        except ValueError:
            raise DeviceUrlError(self.raw, f"{name}={value!r} is not a number") from None
        if result != result or result in (float("inf"), float("-inf")):
            raise DeviceUrlError(self.raw, f"{name}={value!r} is not finite")
        return result

    def integer(self, name: str, default: int) -> int:
        value = self.params.get(name)
        if value is None:
            return default
        try:
            return int(value)
        except ValueError:
            raise DeviceUrlError(self.raw, f"{name}={value!r} is not an integer") from None

    def flag(self, name: str, default: bool) -> bool:
        value = self.params.get(name)
        if value is None:
            return default
        lowered = value.lower()
        if lowered in ("1", "true", "yes", "on"):
            return True
        if lowered in ("0", "false", "no", "off"):
            return False
        raise DeviceUrlError(self.raw, f"{name}={value!r} is not a yes/no value")


def parse_device_url(raw: str, schemes: Iterable[str]) -> DeviceUrl:
    """Split ``raw`` into scheme, target and parameters; the scheme must be in ``schemes``."""
    allowed = tuple(schemes)
    parts = urlsplit(raw.strip())
    scheme = parts.scheme.lower()
    if scheme not in allowed:
        raise DeviceUrlError(raw, f"scheme must be one of {', '.join(allowed)}")
    try:
        params = dict(parse_qsl(parts.query, keep_blank_values=True, strict_parsing=False))
        port = parts.port
    except ValueError as exc:
        raise DeviceUrlError(raw, str(exc)) from None
    host = parts.hostname
    if scheme == "tcp":
        if not host or port is None:
            raise DeviceUrlError(raw, "tcp needs host:port")
        target = f"{host}:{port}"
    else:
        target = parts.path or parts.netloc
    return DeviceUrl(raw=raw, scheme=scheme, target=target, host=host, port=port,
                     params=params)


def warn_simulator(kind: str, url: str, demo: bool) -> None:
    """Simulators are real code but not real devices: say so loudly outside demo mode."""
    if not demo:
        log.warning("%s is a SIMULATOR (%s) and demo mode is off: nothing comes from or goes "
                    "to a real device", kind, url)
