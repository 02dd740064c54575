"""Photo evidence: where and when a photo says it was taken, compared with the job.

A photo's EXIF carries the camera's capture time (DateTimeOriginal, with
OffsetTimeOriginal when the tablet writes it) and a GPS position with its own UTC date and
time. Only a capture time counts: DateTimeOriginal, else the GPS date and time. The plain
DateTime tag is when the file was last written, so an old photo re-saved today would pass
as fresh; a photo with neither capture time is flagged ``missing_time``. The limits
(distance to the site and to the device, age, clock ahead) come from the policy profile
(``[photos]``), not from this module. We compare them with the work order's site and
with what the device reported when the crew attached the photo. Mismatches are **flagged,
never rejected**: a meter-well photo taken in a basement has no fix, a tablet's clock
drifts, and refusing the evidence would lose it. Dispatch reviews the flags.

Distances are on a local equirectangular projection around the site (metres); at the
scale of a work site (< 10 km) its error is far below GNSS noise.
"""

from __future__ import annotations

import io
import itertools
import math
from datetime import UTC, datetime, timedelta, timezone, tzinfo
from enum import StrEnum
from typing import Final
from zoneinfo import ZoneInfo

import msgspec
from PIL import Image, UnidentifiedImageError
from PIL.TiffImagePlugin import IFDRational

from server.fieldwork.errors import BadPhotoError
from server.policy.model import PhotoRules

EXIF_IFD: Final = 0x8769
GPS_IFD: Final = 0x8825
TAG_DATETIME: Final = 0x0132
TAG_DATETIME_ORIGINAL: Final = 36867
TAG_OFFSET_ORIGINAL: Final = 36881
GPS_TIMESTAMP: Final = 7
GPS_DATESTAMP: Final = 29
EARTH_RADIUS_M: Final = 6_371_008.8
#: EXIF times without an offset are read in the utility's zone: the tablets are set to it
DEFAULT_CAMERA_TZ: Final = ZoneInfo("Asia/Shanghai")


class PhotoFlag(StrEnum):
    MISSING_EXIF = "missing_exif"
    MISSING_TIME = "missing_time"
    MISSING_POSITION = "missing_position"
    FAR_FROM_SITE = "far_from_site"
    FAR_FROM_DEVICE = "far_from_device"
    TOO_OLD = "too_old"
    IN_FUTURE = "in_future"
    #: the bytes that arrived for a photo already recorded are no image (kept for review)
    UNREADABLE = "unreadable"


class PhotoLimits(msgspec.Struct, frozen=True, kw_only=True):
    #: a photo farther than this from the site (point or line) is flagged
    max_site_distance_m: float = 150.0
    #: ... or farther than this from where the device said it was
    max_device_distance_m: float = 100.0
    #: taken longer than this before the device attached it
    max_age: timedelta = timedelta(hours=6)
    #: taken after the device's report by more than this (a clock set ahead)
    max_future: timedelta = timedelta(minutes=10)

    @classmethod
    def from_policy(cls, rules: PhotoRules) -> PhotoLimits:
        """The limits a service policy profile sets (``[photos]``)."""
        return cls(max_site_distance_m=rules.max_site_distance_m,
                   max_device_distance_m=rules.max_device_distance_m,
                   max_age=timedelta(hours=rules.max_age_hours),
                   max_future=timedelta(minutes=rules.max_future_minutes))


class TimeSource(StrEnum):
    """Where a photo's capture time came from."""

    EXIF_ORIGINAL = "exif_original"
    GPS = "gps"


class PhotoMeta(msgspec.Struct, frozen=True, kw_only=True):
    format: str
    width: int
    height: int
    has_exif: bool
    taken_at: datetime | None = None
    lon: float | None = None
    lat: float | None = None
    #: None when the photo has no capture time (DateTime alone does not count)
    time_source: TimeSource | None = None


class DeviceReport(msgspec.Struct, frozen=True, kw_only=True):
    """What the tablet said when it attached the photo (its clock and its GNSS fix)."""

    device_time: datetime | None = None
    lon: float | None = None
    lat: float | None = None


class PhotoCheck(msgspec.Struct, frozen=True, kw_only=True):
    sha256: str
    meta: PhotoMeta
    flags: list[PhotoFlag]
    site_distance_m: float | None = None
    device_distance_m: float | None = None


def _dms(value: object, ref: object) -> float | None:
    if not isinstance(value, tuple) or len(value) != 3:
        return None
    try:
        d, m, s = (float(v) for v in value)
    except (TypeError, ValueError, ZeroDivisionError):
        return None
    deg = d + m / 60 + s / 3600
    return -deg if str(ref).upper() in ("S", "W") else deg


def _offset(text: object) -> tzinfo | None:
    if not isinstance(text, str) or len(text) != 6 or text[0] not in "+-":
        return None
    try:
        hours, minutes = int(text[1:3]), int(text[4:6])
    except ValueError:
        return None
    sign = 1 if text[0] == "+" else -1
    return timezone(sign * timedelta(hours=hours, minutes=minutes))


def read_photo_meta(data: bytes, camera_tz: tzinfo = DEFAULT_CAMERA_TZ) -> PhotoMeta:
    """EXIF time (UTC) and position (WGS84) of a JPEG/PNG/WebP; 400 when not an image."""
    try:
        image = Image.open(io.BytesIO(data))
        image.verify()
        image = Image.open(io.BytesIO(data))
    except (UnidentifiedImageError, OSError, SyntaxError) as exc:
        raise BadPhotoError(f"not a readable image: {exc}") from exc
    exif = image.getexif()
    base = dict(exif)
    sub = dict(exif.get_ifd(EXIF_IFD))
    gps = dict(exif.get_ifd(GPS_IFD))
    taken_at: datetime | None = None
    source: TimeSource | None = None
    naive = _exif_time(sub.get(TAG_DATETIME_ORIGINAL))
    if naive is not None:
        zone = _offset(sub.get(TAG_OFFSET_ORIGINAL)) or camera_tz
        taken_at, source = naive.replace(tzinfo=zone).astimezone(UTC), TimeSource.EXIF_ORIGINAL
    else:
        taken_at = _gps_time(gps.get(GPS_DATESTAMP), gps.get(GPS_TIMESTAMP))
        source = TimeSource.GPS if taken_at is not None else None
    lat = _dms(gps.get(2), gps.get(1))
    lon = _dms(gps.get(4), gps.get(3))
    if lat is None or lon is None or not (-90 <= lat <= 90 and -180 <= lon <= 180):
        lat = lon = None
    return PhotoMeta(format=str(image.format or ""), width=image.width, height=image.height,
                     has_exif=bool(base or sub or gps), taken_at=taken_at, lon=lon, lat=lat,
                     time_source=source)


def _exif_time(raw: object) -> datetime | None:
    """An EXIF "YYYY:MM:DD HH:MM:SS" (naive, camera local time)."""
    if not isinstance(raw, str):
        return None
    try:
        return datetime.strptime(raw.strip("\x00 "), "%Y:%m:%d %H:%M:%S")  # noqa: DTZ007
    except ValueError:
        return None


def _gps_time(date_stamp: object, time_stamp: object) -> datetime | None:
    """GPSDateStamp "YYYY:MM:DD" plus GPSTimeStamp (h, m, s rationals): UTC by the spec."""
    if not isinstance(date_stamp, str) or not isinstance(time_stamp, tuple) \
            or len(time_stamp) != 3:
        return None
    try:
        day = datetime.strptime(date_stamp.strip("\x00 "), "%Y:%m:%d")  # noqa: DTZ007
        h, m, sec = (float(v) for v in time_stamp)
    except (TypeError, ValueError, ZeroDivisionError):
        return None
    if not (0 <= h < 24 and 0 <= m < 60 and 0 <= sec < 61):
        return None
    return day.replace(tzinfo=UTC) + timedelta(hours=h, minutes=m, seconds=sec)


def distance_m(a: tuple[float, float], b: tuple[float, float]) -> float:
    """Great-circle distance between two (lon, lat) points in metres (haversine)."""
    lon1, lat1, lon2, lat2 = map(math.radians, (*a, *b))
    h = (math.sin((lat2 - lat1) / 2) ** 2
         + math.cos(lat1) * math.cos(lat2) * math.sin((lon2 - lon1) / 2) ** 2)
    return 2 * EARTH_RADIUS_M * math.asin(min(1.0, math.sqrt(h)))


def distance_to_site_m(p: tuple[float, float], site: list[tuple[float, float]]) -> float:
    """Distance from a point to a site given as one point or a polyline, in metres."""
    if len(site) == 1:
        return distance_m(p, site[0])
    k = math.cos(math.radians(p[1]))
    scale = math.radians(1) * EARTH_RADIUS_M

    def xy(q: tuple[float, float]) -> tuple[float, float]:
        return ((q[0] - p[0]) * k * scale, (q[1] - p[1]) * scale)

    best = math.inf
    for a, b in itertools.pairwise(site):
        (ax, ay), (bx, by) = xy(a), xy(b)
        dx, dy = bx - ax, by - ay
        length2 = dx * dx + dy * dy
        t = 0.0 if length2 == 0 else max(0.0, min(1.0, -(ax * dx + ay * dy) / length2))
        best = min(best, math.hypot(ax + t * dx, ay + t * dy))
    return best


def unreadable_photo(sha256: str) -> PhotoCheck:
    """The check of a recorded photo whose bytes, arriving later, are no image.

    Its evidence was accepted (offline, before the upload), so it is flagged for review
    rather than refused: refusing would fail every later call on the order."""
    return PhotoCheck(sha256=sha256, meta=PhotoMeta(format="", width=0, height=0,
                                                    has_exif=False),
                      flags=[PhotoFlag.UNREADABLE])


def check_photo(sha256: str, meta: PhotoMeta, site: list[tuple[float, float]],
                report: DeviceReport, received_at: datetime,
                limits: PhotoLimits | None = None) -> PhotoCheck:
    """Flag what does not fit. The reference time is the device's report, else receipt."""
    limits = limits or PhotoLimits()
    flags: list[PhotoFlag] = []
    if not meta.has_exif:
        flags.append(PhotoFlag.MISSING_EXIF)
    site_d = device_d = None
    if meta.taken_at is None:
        flags.append(PhotoFlag.MISSING_TIME)
    else:
        reference = report.device_time or received_at
        if reference - meta.taken_at > limits.max_age:
            flags.append(PhotoFlag.TOO_OLD)
        if meta.taken_at - reference > limits.max_future:
            flags.append(PhotoFlag.IN_FUTURE)
    if meta.lon is None or meta.lat is None:
        flags.append(PhotoFlag.MISSING_POSITION)
    else:
        here = (meta.lon, meta.lat)
        site_d = distance_to_site_m(here, site)
        if site_d > limits.max_site_distance_m:
            flags.append(PhotoFlag.FAR_FROM_SITE)
        if report.lon is not None and report.lat is not None:
            device_d = distance_m(here, (report.lon, report.lat))
            if device_d > limits.max_device_distance_m:
                flags.append(PhotoFlag.FAR_FROM_DEVICE)
    return PhotoCheck(sha256=sha256, meta=meta, flags=flags,
                      site_distance_m=None if site_d is None else round(site_d, 1),
                      device_distance_m=None if device_d is None else round(device_d, 1))


def _rational_dms(value: float) -> tuple[IFDRational, IFDRational, IFDRational]:
    value = abs(value)
    d = int(value)
    m = int((value - d) * 60)
    s = round((value - d - m / 60) * 3600, 4)
    return (IFDRational(d), IFDRational(m), IFDRational(s))


def compose_photo(*, taken_at: datetime | None, lon: float | None = None,
                  lat: float | None = None, label: str = "", size: tuple[int, int] = (160, 120),
                  camera_tz: tzinfo = DEFAULT_CAMERA_TZ, modified_at: datetime | None = None,
                  gps_time: datetime | None = None) -> bytes:
    """A real JPEG with EXIF time and GPS, as a tablet camera writes it.

    Used by the demo walk-through and the tests (the device simulator's camera); ``label``
    varies the pixels so that different photos have different hashes. ``modified_at``
    writes only the DateTime tag (an editor re-saving the file) when ``taken_at`` is None;
    ``gps_time`` writes GPSDateStamp/GPSTimeStamp (UTC) with the position.
    """
    seed = sum(label.encode()) % 200
    image = Image.new("RGB", size, (30 + seed, 90, 160 - seed // 2))
    for i, ch in enumerate(label.encode()[:size[0]]):
        image.putpixel((i % size[0], (ch + i) % size[1]), (255, ch, 0))
    exif = Image.Exif()
    if modified_at is not None:
        exif[TAG_DATETIME] = modified_at.astimezone(camera_tz).strftime("%Y:%m:%d %H:%M:%S")
    if taken_at is not None:
        local = taken_at.astimezone(camera_tz)
        stamp = local.strftime("%Y:%m:%d %H:%M:%S")
        exif[TAG_DATETIME] = stamp
        sub = exif.get_ifd(EXIF_IFD)
        sub[TAG_DATETIME_ORIGINAL] = stamp
        offset = local.utcoffset() or timedelta(0)
        minutes = int(offset.total_seconds() // 60)
        sign = "+" if minutes >= 0 else "-"
        sub[TAG_OFFSET_ORIGINAL] = f"{sign}{abs(minutes) // 60:02d}:{abs(minutes) % 60:02d}"
    if lon is not None and lat is not None:
        gps = exif.get_ifd(GPS_IFD)
        gps[1] = "N" if lat >= 0 else "S"
        gps[2] = _rational_dms(lat)
        gps[3] = "E" if lon >= 0 else "W"
        gps[4] = _rational_dms(lon)
        if gps_time is not None:
            t = gps_time.astimezone(UTC)
            gps[GPS_DATESTAMP] = t.strftime("%Y:%m:%d")
            gps[GPS_TIMESTAMP] = (IFDRational(t.hour), IFDRational(t.minute),
                                  IFDRational(t.second))
    out = io.BytesIO()
    image.save(out, format="JPEG", quality=85, exif=exif)
    return out.getvalue()
