"""A GNSS receiver simulator: replays NMEA logs or generates epochs with random drift.

It produces real NMEA 0183 text (rendered by pynmea2, checksums included) and feeds it
through the same :class:`NmeaReceiver` as a serial receiver, so the demo and the tests
exercise the real parsing, epoch assembly and evidence policy. Settings::

    sim://?fix=rtk&drift_m=0.3              generated, around Jinan (117.0 E, 36.65 N)
    sim://?fix=gps&hdop=4.5&sats=4          a fix the default policy rejects
    sim://?fix=none                         a receiver still searching (cold start)
    sim://?log=jinan                        replay the shipped log (data/jinan.nmea)
    sim://?lon=117.12&lat=36.67&epochs=30&seed=7&noise=0.1

``noise`` is the share of sentences corrupted (a flipped character) to exercise the
receiver's resilience. Random numbers come from a local ``random.Random(seed)``.
"""

from __future__ import annotations

import io
import math
import random
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Final

import msgspec
import pynmea2

from hardware_adapters.device_url import DeviceUrl
from hardware_adapters.errors import DeviceUrlError
from hardware_adapters.gnss.base import FixQuality
from hardware_adapters.gnss.nmea_serial import NmeaReceiver

Clock = Callable[[], datetime]

DATA_DIR: Final = Path(__file__).parent / "data"
METRES_PER_DEGREE: Final = 111_320.0
SIM_PARAMS: Final = frozenset(
    {"fix", "lon", "lat", "drift_m", "hdop", "sats", "epochs", "seed", "noise", "log", "alt"}
)
_QUALITIES: Final = {
    "none": FixQuality.INVALID, "gps": FixQuality.GPS, "dgps": FixQuality.DGPS,
    "float": FixQuality.RTK_FLOAT, "rtk": FixQuality.RTK_FIXED,
}


class SimulatedSky(msgspec.Struct, frozen=True, kw_only=True):
    """What the generator produces; defaults give an evidence-grade fix in Jinan."""

    lon: float = 117.0
    lat: float = 36.65
    altitude_m: float = 45.0
    quality: FixQuality = FixQuality.GPS
    drift_m: float = 1.5
    hdop: float = 0.9
    satellites: int = 12
    epochs: int = 5
    seed: int = 1
    noise: float = 0.0


def _lat_text(lat: float) -> tuple[str, str]:
    deg = int(abs(lat))
    return f"{deg:02d}{(abs(lat) - deg) * 60:08.5f}", "N" if lat >= 0 else "S"


def _lon_text(lon: float) -> tuple[str, str]:
    deg = int(abs(lon))
    return f"{deg:03d}{(abs(lon) - deg) * 60:08.5f}", "E" if lon >= 0 else "W"


def generate_nmea(sky: SimulatedSky, start: datetime) -> str:
    """``sky.epochs`` one-second epochs of RMC, GGA, GSA and GSV starting at ``start``."""
    rng = random.Random(sky.seed)  # noqa: S311 - simulation, not security
    east = north = 0.0
    lines: list[str] = []
    t0 = start.astimezone(UTC).replace(microsecond=0)
    fixed = sky.quality is not FixQuality.INVALID
    for i in range(sky.epochs):
        now = t0 + timedelta(seconds=i)
        # mean-reverting random walk: wanders about drift_m around the true point
        east = 0.7 * east + rng.gauss(0.0, sky.drift_m * 0.7)
        north = 0.7 * north + rng.gauss(0.0, sky.drift_m * 0.7)
        lat = sky.lat + north / METRES_PER_DEGREE
        lon = sky.lon + east / (METRES_PER_DEGREE * math.cos(math.radians(sky.lat)))
        hms = now.strftime("%H%M%S") + ".00"
        lat_s, lat_h = _lat_text(lat) if fixed else ("", "")
        lon_s, lon_h = _lon_text(lon) if fixed else ("", "")
        hdop = f"{sky.hdop + rng.uniform(-0.05, 0.05):.2f}" if fixed else ""
        pdop = f"{sky.hdop * 1.7:.2f}" if fixed else ""
        vdop = f"{sky.hdop * 1.3:.2f}" if fixed else ""
        sats = sky.satellites if fixed else 0
        alt = f"{sky.altitude_m + rng.gauss(0.0, sky.drift_m):.1f}" if fixed else ""
        sentences = [
            pynmea2.RMC("GN", "RMC", (hms, "A" if fixed else "V", lat_s, lat_h, lon_s, lon_h,
                                      f"{abs(rng.gauss(0, 0.05)):.3f}" if fixed else "", "",
                                      now.strftime("%d%m%y"), "", "",
                                      "D" if sky.quality is FixQuality.DGPS else
                                      ("A" if fixed else "N"))),
            pynmea2.GGA("GN", "GGA", (hms, lat_s, lat_h, lon_s, lon_h,
                                      str(int(sky.quality)), f"{sats:02d}", hdop, alt,
                                      "M" if fixed else "", "-3.2" if fixed else "",
                                      "M" if fixed else "", "", "")),
            pynmea2.GSA("GN", "GSA", ("A", "3" if fixed else "1",
                                      *[f"{n:02d}" for n in range(1, min(sats, 12) + 1)],
                                      *[""] * (12 - min(sats, 12)), pdop, hdop, vdop)),
            pynmea2.GSV("GP", "GSV", ("1", "1", f"{sats:02d}", "05", "62", "045", "44",
                                      "12", "38", "301", "40", "", "", "", "", "", "", "",
                                      "")),
        ]
        for sentence in sentences:
            text = str(sentence)
            if sky.noise and rng.random() < sky.noise:
                pos = rng.randrange(1, len(text) - 3)
                text = text[:pos] + chr(ord(text[pos]) ^ 0x01) + text[pos + 1 :]
            lines.append(text)
    return "\r\n".join(lines) + "\r\n"


def sky_from_url(url: DeviceUrl) -> SimulatedSky:
    """Read the generator settings of a ``sim://`` URL."""
    url.check_params(SIM_PARAMS)
    fix = url.text("fix", "gps").lower()
    if fix not in _QUALITIES:
        raise DeviceUrlError(url.raw, f"fix must be one of {', '.join(_QUALITIES)}")
    noise = url.number("noise", 0.0)
    epochs = url.integer("epochs", 5)
    if not 0.0 <= noise <= 1.0 or not 1 <= epochs <= 86_400:
        raise DeviceUrlError(url.raw, "noise must be in [0, 1] and epochs in [1, 86400]")
    return SimulatedSky(
        lon=url.number("lon", 117.0), lat=url.number("lat", 36.65),
        altitude_m=url.number("alt", 45.0), quality=_QUALITIES[fix],
        drift_m=max(0.0, url.number("drift_m", 1.5)), hdop=url.number("hdop", 0.9),
        satellites=max(0, min(url.integer("sats", 12), 24)), epochs=epochs,
        seed=url.integer("seed", 1), noise=noise,
    )


def shipped_log(name: str) -> Path:
    """Path of a log under ``gnss/data``; only plain names, so a URL cannot read elsewhere."""
    if not name.replace("-", "").replace("_", "").isalnum():
        raise DeviceUrlError(f"sim://?log={name}", "log must be a plain name")
    path = DATA_DIR / f"{name}.nmea"
    if not path.is_file():
        raise DeviceUrlError(f"sim://?log={name}", f"no shipped log named {name!r}")
    return path


def open_simulator(url: DeviceUrl, clock: Clock) -> NmeaReceiver:
    """A receiver fed by a shipped log or by generated epochs starting at ``clock()``."""
    if "log" in url.params:
        url.check_params({"log"})
        data = shipped_log(url.params["log"]).read_bytes()
    else:
        data = generate_nmea(sky_from_url(url), clock()).encode("ascii")
    return NmeaReceiver(io.BytesIO(data), url=url.raw, clock=clock, ends_at_eof=True)
