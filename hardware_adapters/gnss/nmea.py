"""NMEA 0183 sentences -> :class:`Fix`: pynmea2 for framing, our code for the fields.

pynmea2 checks the ``*HH`` checksum and picks the sentence class, but when a typed field
does not convert it silently returns the raw string (``msg.timestamp == "9961"``). So every
field we use is read from ``msg.data`` through pynmea2's own field table and converted here,
and anything odd becomes an :class:`NmeaError` naming the sentence.

Epochs: a receiver prints RMC, GGA and GSA (order differs by vendor: u-blox RMC-GGA-GSA,
MediaTek GGA-GSA-RMC) once per second. GGA and RMC carry the UTC time; GSA does not and
belongs to the epoch opened by the last timed sentence. An epoch is emitted as soon as it
holds all three, or when a sentence with a new time opens the next epoch, or at
:meth:`EpochAssembler.flush`. A second GSA in one epoch (GPS and BeiDou each send one on
``GN`` receivers) is ignored: the DOPs in both describe the combined solution.

GCJ-02: each fix also carries the pair Chinese base maps draw, computed by
:func:`geo.crs.wgs84_to_gcj02` (the project's one implementation of that datum).
"""

from __future__ import annotations

import math
import re
from datetime import UTC, date, datetime, time, timedelta
from typing import Final

import numpy as np
import pynmea2

from geo.crs import wgs84_to_gcj02
from hardware_adapters.errors import NmeaChecksumError, NmeaError
from hardware_adapters.gnss.base import Fix, FixQuality, RejectReason

KNOT_MPS: Final = 0.514444
_COORD: Final = re.compile(r"^(\d{2,3})(\d{2}(?:\.\d+)?)$")
_USED: Final = frozenset({"GGA", "RMC", "GSA"})


def to_gcj02(lon: float, lat: float) -> tuple[float, float]:
    """One WGS84 point to GCJ-02 through geo's (vectorised) transform."""
    g_lon, g_lat = wgs84_to_gcj02(np.array([lon]), np.array([lat]))
    return float(g_lon[0]), float(g_lat[0])


def frame_sentence(line: str) -> str | None:
    """The sentence in a line, as gpsd's packet sniffer finds it: from the last ``$``.

    ``$`` is reserved in NMEA 0183 and starts every sentence, so a second ``$`` restarts
    the sentence: receivers that double it (``$$GPGGA``) and lines with noise before the
    ``$`` (a serial port opened mid-byte, a Bluetooth bridge's banner) keep their
    sentence. A line without ``$`` holds no sentence at all (None).
    """
    text = line.strip()
    start = text.rfind("$")
    return None if start < 0 else text[start:]


def checksum_ok(text: str) -> bool:
    """``*HH`` present and equal to the XOR of the characters between ``$`` and ``*``."""
    body, star, given = text[1:].rpartition("*")
    if not star or len(given.strip()) != 2:
        return False
    acc = 0
    for ch in body:
        acc ^= ord(ch)
    try:
        return acc == int(given.strip(), 16)
    except ValueError:
        return False


class UnknownSentenceError(Exception):
    """A well-formed sentence with a valid checksum that pynmea2 has no class for
    (a vendor's ``$PUBX``/``$PMTK``, a new talker): not garbage, just not ours."""


def parse_sentence(line: str) -> pynmea2.NMEASentence:
    """Parse one sentence with its checksum required; raise :class:`NmeaError` if bad.

    Leading noise and a doubled ``$`` are skipped (:func:`frame_sentence`). A sentence
    with a valid checksum that pynmea2 cannot type raises :class:`UnknownSentenceError`.
    """
    framed = frame_sentence(line)
    if framed is None:
        raise NmeaError(line.strip(), "sentence does not start with '$'")
    text = framed
    try:
        return pynmea2.parse(text, check=True)
    except pynmea2.ChecksumError:
        raise NmeaChecksumError(text, "checksum missing or wrong") from None
    except pynmea2.ParseError as exc:  # also SentenceTypeError
        if checksum_ok(text):
            raise UnknownSentenceError(text) from None
        raise NmeaError(text, f"not NMEA 0183 ({exc.args[0][0]})") from None
    except (ValueError, IndexError, TypeError, AttributeError) as exc:
        raise NmeaError(text, f"not NMEA 0183 ({exc})") from None


def _raw(msg: pynmea2.NMEASentence, name: str) -> str:
    index: int = type(msg).name_to_idx[name]
    data: list[str] = msg.data
    return data[index].strip() if index < len(data) else ""


def _number(msg: pynmea2.NMEASentence, name: str, text: str) -> float | None:
    value = _raw(msg, name)
    if not value:
        return None
    try:
        result = float(value)
    except ValueError:
        raise NmeaError(text, f"field {name}={value!r} is not a number") from None
    if not math.isfinite(result):
        raise NmeaError(text, f"field {name}={value!r} is not finite")
    return result


def _count(msg: pynmea2.NMEASentence, name: str, text: str) -> int | None:
    value = _raw(msg, name)
    if not value:
        return None
    if not value.isdigit() or len(value) > 3:
        raise NmeaError(text, f"field {name}={value!r} is not a count")
    return int(value)


def _coordinate(msg: pynmea2.NMEASentence, axis: str, text: str) -> float | None:
    """``ddmm.mmmm`` / ``dddmm.mmmm`` plus hemisphere -> signed degrees, range-checked."""
    value, hemi = _raw(msg, axis), _raw(msg, f"{axis}_dir").upper()
    if not value and not hemi:
        return None
    signs = {"N": 1.0, "S": -1.0} if axis == "lat" else {"E": 1.0, "W": -1.0}
    match = _COORD.match(value)
    if match is None or hemi not in signs:
        raise NmeaError(text, f"bad {axis} {value!r} {hemi!r}")
    degrees, minutes = int(match.group(1)), float(match.group(2))
    result = degrees + minutes / 60.0
    if minutes >= 60.0 or result > (90.0 if axis == "lat" else 180.0):
        raise NmeaError(text, f"{axis} {value!r} out of range")
    return signs[hemi] * result


def _timestamp(msg: pynmea2.NMEASentence, text: str) -> time | None:
    if not _raw(msg, "timestamp"):
        return None
    try:
        value = msg.timestamp
    except (ValueError, TypeError, IndexError, OverflowError):
        value = None
    if not isinstance(value, time):
        raise NmeaError(text, f"bad UTC time {_raw(msg, 'timestamp')!r}")
    return value


class _Epoch:
    __slots__ = ("gga", "gsa", "rmc", "text", "time")

    def __init__(self, at: time) -> None:
        self.time = at
        self.gga: pynmea2.NMEASentence | None = None
        self.rmc: pynmea2.NMEASentence | None = None
        self.gsa: pynmea2.NMEASentence | None = None
        self.text: dict[str, str] = {}


class EpochAssembler:
    """Fold a sentence stream into fixes. Not thread-safe: one per stream.

    ``strict`` raises the first :class:`NmeaError` (for an uploaded evidence log that must
    be whole); otherwise bad sentences are counted in ``bad_sentences`` and skipped, since
    a serial line drops bytes now and then. ``last_problem`` remembers why the latest
    epoch gave no fix, for the timeout message.
    """

    def __init__(self, *, strict: bool = False) -> None:
        self.strict = strict
        #: lines with a ``$`` that are damaged: bad checksum, bad fields, cut off
        self.bad_sentences = 0
        #: sentences with a good checksum (used, vendor or unused types alike)
        self.good_sentences = 0
        #: lines with no sentence at all (noise, a banner, the wrong baud rate)
        self.noise_lines = 0
        #: epochs the receiver itself marked as without fix (GGA quality 0, RMC void)
        self.epochs_without_fix = 0
        self.last_error: NmeaError | None = None
        self.last_problem: RejectReason | None = None
        self._epoch: _Epoch | None = None
        self._date: date | None = None
        self._date_time: time | None = None

    def feed(self, line: str) -> list[Fix]:
        """Add one line; return the fixes it completed (zero, one or, rarely, two)."""
        if not line.strip():
            return []
        text = frame_sentence(line)
        if text is None:
            self.noise_lines += 1
            return []
        try:
            msg = parse_sentence(text)
        except UnknownSentenceError:
            self.good_sentences += 1
            return []
        except NmeaError as exc:
            if self.strict:
                raise
            self.bad_sentences += 1
            self.last_error = exc
            return []
        self.good_sentences += 1
        try:
            kind = getattr(msg, "sentence_type", "")
            if kind not in _USED:
                return []
            return self._add(kind, msg, text)
        except NmeaError as exc:
            if self.strict:
                raise
            self.bad_sentences += 1
            self.last_error = exc
            return []

    def flush(self) -> list[Fix]:
        """End of stream: emit the open epoch if it can make a fix."""
        epoch, self._epoch = self._epoch, None
        return self._finish(epoch)

    def _add(self, kind: str, msg: pynmea2.NMEASentence, text: str) -> list[Fix]:
        out: list[Fix] = []
        if kind == "GSA":
            if self._epoch is not None and self._epoch.gsa is None:
                for field in ("pdop", "hdop", "vdop"):
                    _number(msg, field, text)  # validate now, so the error names this line
                self._epoch.gsa = msg
                self._epoch.text["GSA"] = text
        else:
            at = _timestamp(msg, text)
            if at is None:
                raise NmeaError(text, f"{kind} without UTC time")
            if self._epoch is not None and self._epoch.time != at:
                out.extend(self.flush())
            if self._epoch is None:
                self._epoch = _Epoch(at)
            if kind == "RMC":
                self._note_date(msg, text, at)
                self._epoch.rmc = msg
            else:
                self._epoch.gga = msg
            self._epoch.text[kind] = text
        epoch = self._epoch
        if epoch is not None and epoch.gga is not None and epoch.rmc is not None \
                and epoch.gsa is not None:
            out.extend(self.flush())
        return out

    def _note_date(self, msg: pynmea2.NMEASentence, text: str, at: time) -> None:
        if not _raw(msg, "datestamp"):
            return
        try:
            value = msg.datestamp
        except (ValueError, TypeError, IndexError):
            value = None
        if not isinstance(value, date):
            raise NmeaError(text, f"bad date {_raw(msg, 'datestamp')!r}")
        self._date, self._date_time = value, at

    def _day_of(self, at: time) -> date | None:
        """Date of an epoch without its own RMC: the last RMC date, rolled past midnight."""
        if self._date is None or self._date_time is None:
            return None
        if at < self._date_time:
            return self._date + timedelta(days=1)
        return self._date

    def _finish(self, epoch: _Epoch | None) -> list[Fix]:
        if epoch is None or epoch.gga is None:
            return []
        try:
            fix = self._build(epoch)
        except NmeaError as exc:
            if self.strict:
                raise
            self.bad_sentences += 1
            self.last_error = exc
            return []
        if fix is None:
            self.last_problem = RejectReason.NO_FIX
            self.epochs_without_fix += 1
            return []
        return [fix]

    def diagnosis(self) -> str:
        """Why no fix came, from what the stream held, for the operator."""
        if self.good_sentences == 0 and self.bad_sentences == 0:
            if self.noise_lines:
                return (f"{self.noise_lines} line(s) of noise and no NMEA sentence: check the "
                        "baud rate and the port")
            return "nothing received: check the port, the cable and the receiver's power"
        if self.good_sentences == 0:
            return (f"{self.bad_sentences} damaged sentence(s) and no good one: check the baud "
                    f"rate or the line (last: {self.last_error})")
        if self._date is None:
            return (f"{self.good_sentences} good sentence(s) but no RMC with a date yet: "
                    "enable RMC on the receiver")
        if self.epochs_without_fix:
            return (f"the receiver reports no position in {self.epochs_without_fix} epoch(s): "
                    "it has not locked on (cold start, no sky view)")
        return f"{self.good_sentences} good and {self.bad_sentences} damaged sentence(s)"

    def _build(self, epoch: _Epoch) -> Fix | None:
        gga, rmc, gsa = epoch.gga, epoch.rmc, epoch.gsa
        assert gga is not None  # checked by the caller  # noqa: S101
        text = epoch.text["GGA"]
        quality_code = _count(gga, "gps_qual", text)
        if quality_code is None or quality_code not in FixQuality._value2member_map_:
            raise NmeaError(text, f"unknown fix quality {_raw(gga, 'gps_qual')!r}")
        quality = FixQuality(quality_code)
        lat, lon = _coordinate(gga, "lat", text), _coordinate(gga, "lon", text)
        rmc_void = rmc is not None and _raw(rmc, "status").upper() != "A"
        if quality is FixQuality.INVALID or lat is None or lon is None or rmc_void:
            return None
        day = self._day_of(epoch.time)
        if day is None:
            return None  # no RMC date seen yet: the fix cannot be placed in time
        when = datetime.combine(day, epoch.time.replace(tzinfo=None), tzinfo=UTC)
        speed = course = None
        if rmc is not None:
            rmc_text = epoch.text["RMC"]
            knots = _number(rmc, "spd_over_grnd", rmc_text)
            speed = None if knots is None else knots * KNOT_MPS
            course = _number(rmc, "true_course", rmc_text)
        pdop = vdop = None
        dimension = None
        hdop = _number(gga, "horizontal_dil", text)
        if gsa is not None:
            gsa_text = epoch.text["GSA"]
            pdop, vdop = _number(gsa, "pdop", gsa_text), _number(gsa, "vdop", gsa_text)
            hdop = hdop if hdop is not None else _number(gsa, "hdop", gsa_text)
            dimension = _count(gsa, "mode_fix_type", gsa_text)
            dimension = dimension if dimension in (2, 3) else None
        lon_g, lat_g = to_gcj02(lon, lat)
        return Fix(
            time=when, lon=lon, lat=lat, lon_gcj02=lon_g, lat_gcj02=lat_g, quality=quality,
            satellites=_count(gga, "num_sats", text) or 0, hdop=hdop, pdop=pdop, vdop=vdop,
            altitude_m=_number(gga, "altitude", text), dimension=dimension, speed_mps=speed,
            course_deg=course, talker=str(getattr(gga, "talker", "GP")),
        )


def read_nmea(text: str, *, strict: bool = True) -> list[Fix]:
    """Every fix in an NMEA log held in memory (an uploaded evidence file, a test log)."""
    assembler = EpochAssembler(strict=strict)
    fixes: list[Fix] = []
    for line in text.splitlines():
        fixes.extend(assembler.feed(line))
    fixes.extend(assembler.flush())
    return fixes
