"""Line marking (管道指认): the pipe's course marked on site, captured from GNSS fixes.

A contractor working near a pipe asks for its line to be marked (LC §21, 12 h under LC
§15). The crew walks the pipe with the tablet's GNSS receiver and paints marks; the fixes
become a GeoJSON LineString (WGS84). Fixes without a position, or with a poor dilution
of precision, are dropped; points closer than ``min_spacing_m`` to the previous kept one
are merged (a crew standing still must not make a zig-zag). The line's distance from the
pipe the dispatcher asked about is reported, and a line that strays too far is flagged.
"""

from __future__ import annotations

import itertools
from datetime import datetime
from enum import StrEnum
from typing import Final

import msgspec

from core.time import TimeChecked
from server.fieldwork.errors import BadLineError
from server.fieldwork.photos import distance_m, distance_to_site_m
from server.workorders.model import LineString

#: fix quality as in NMEA GGA: 0 none, 1 GPS, 2 DGPS, 4 RTK fixed, 5 RTK float
NO_FIX: Final = 0


class GnssFix(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    #: longitude (WGS84 degrees)
    lon: float
    #: latitude (WGS84 degrees)
    lat: float
    #: fix quality as in NMEA GGA: 0 none, 1 GPS, 2 DGPS, 4 RTK fixed, 5 RTK float
    quality: int = 1
    #: horizontal dilution of precision, if the receiver gave it
    hdop: float | None = None
    #: when the fix was taken (RFC 3339), if known
    time: datetime | None = None


class LineFlag(StrEnum):
    FAR_FROM_REQUEST = "far_from_request"
    FEW_GOOD_FIXES = "few_good_fixes"


class MarkedLineIn(msgspec.Struct, TimeChecked, frozen=True, kw_only=True,
               forbid_unknown_fields=True):
    """``record_marked_line``: the fixes walked along the marks, and photos of the marks."""

    #: the line-marking work order
    work_order_id: str
    #: the GNSS fixes walked along the marks, in walking order
    fixes: list[GnssFix]
    #: SHA-256 of photos of the marks, uploaded as attachments
    photos: list[str] = msgspec.field(default_factory=list)
    #: when it was done on the device (RFC 3339); defaults to the server's time
    device_time: datetime | None = None
    #: what the crew notes
    note: str = ""


class MarkedLine(msgspec.Struct, frozen=True, kw_only=True):
    #: the line-marking work order
    work_order_id: str
    #: the marked line (GeoJSON LineString, WGS84)
    line: LineString
    #: the line's length, in metres
    length_m: float
    #: fixes kept for the line
    fixes_used: int
    #: fixes dropped (no fix, poor HDOP, too close to the previous)
    fixes_dropped: int
    #: largest distance of a marked point from the requested location (m)
    max_offset_m: float
    #: what dispatch should look at (far from the request, few good fixes)
    flags: list[LineFlag]
    #: when it was recorded (UTC)
    recorded_at: datetime


class LineLimits(msgspec.Struct, frozen=True, kw_only=True):
    max_hdop: float = 5.0
    min_spacing_m: float = 0.5
    #: a marked point farther than this from the requested pipe location is flagged
    max_offset_m: float = 50.0
    #: fewer kept fixes than this over the line is flagged
    min_good_fixes: int = 3


def build_line(fixes: list[GnssFix], requested: list[tuple[float, float]], at: datetime,
               work_order_id: str, limits: LineLimits | None = None) -> MarkedLine:
    """The marked line from raw fixes (422 when fewer than two distinct good points)."""
    limits = limits or LineLimits()
    kept: list[tuple[float, float]] = []
    dropped = 0
    for fix in fixes:
        good = (fix.quality != NO_FIX and -180 <= fix.lon <= 180 and -90 <= fix.lat <= 90
                and (fix.hdop is None or fix.hdop <= limits.max_hdop))
        if not good:
            dropped += 1
            continue
        point = (round(fix.lon, 8), round(fix.lat, 8))
        if kept and distance_m(kept[-1], point) < limits.min_spacing_m:
            dropped += 1
            continue
        kept.append(point)
    if len(kept) < 2:
        raise BadLineError("the fixes give fewer than two distinct good points",
                           work_order_id=work_order_id, good_points=len(kept),
                           dropped=dropped)
    length = sum(distance_m(a, b) for a, b in itertools.pairwise(kept))
    offset = max(distance_to_site_m(p, requested) for p in kept) if requested else 0.0
    flags: list[LineFlag] = []
    if offset > limits.max_offset_m:
        flags.append(LineFlag.FAR_FROM_REQUEST)
    if len(kept) < limits.min_good_fixes:
        flags.append(LineFlag.FEW_GOOD_FIXES)
    return MarkedLine(work_order_id=work_order_id, line=LineString(kept),
                      length_m=round(length, 2), fixes_used=len(kept), fixes_dropped=dropped,
                      max_offset_m=round(offset, 1), flags=flags, recorded_at=at)
