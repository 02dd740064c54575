"""WGS84 -> GCJ-02 ("Mars coordinates"), the datum of maps published in mainland China.

GNSS receivers report WGS84. Chinese web maps (AMap/Gaode, Tencent) draw GCJ-02, so a
WGS84 point plotted on them lands 100-700 m off; tablets need the GCJ-02 pair to show the
crew where they stand. The transform is the widely published reverse-engineered
polynomial (Krasovsky ellipsoid constants); it is only defined inside China, so points
outside the bounding box are returned unchanged, as every published implementation does.

The inverse has no closed form: :func:`gcj02_to_wgs84` iterates the forward transform and
converges to < 1e-7 degrees (about 1 cm) in a few steps.

geo/ did not expose a CRS module when this was written; if it gains one, callers may use
either: the constants and formula are the same.
"""

from __future__ import annotations

import math
from typing import Final

_A: Final = 6378245.0  # Krasovsky 1940 semi-major axis, metres
_EE: Final = 0.00669342162296594323  # its first eccentricity squared


def out_of_china(lon: float, lat: float) -> bool:
    """True outside the rough bounding box where GCJ-02 applies."""
    return not (72.004 <= lon <= 137.8347 and 0.8293 <= lat <= 55.8271)


def _delta_lat(x: float, y: float) -> float:
    ret = -100.0 + 2.0 * x + 3.0 * y + 0.2 * y * y + 0.1 * x * y + 0.2 * math.sqrt(abs(x))
    ret += (20.0 * math.sin(6.0 * x * math.pi) + 20.0 * math.sin(2.0 * x * math.pi)) * 2 / 3
    ret += (20.0 * math.sin(y * math.pi) + 40.0 * math.sin(y / 3.0 * math.pi)) * 2 / 3
    ret += (160.0 * math.sin(y / 12.0 * math.pi) + 320.0 * math.sin(y * math.pi / 30.0)) * 2 / 3
    return ret


def _delta_lon(x: float, y: float) -> float:
    ret = 300.0 + x + 2.0 * y + 0.1 * x * x + 0.1 * x * y + 0.1 * math.sqrt(abs(x))
    ret += (20.0 * math.sin(6.0 * x * math.pi) + 20.0 * math.sin(2.0 * x * math.pi)) * 2 / 3
    ret += (20.0 * math.sin(x * math.pi) + 40.0 * math.sin(x / 3.0 * math.pi)) * 2 / 3
    ret += (150.0 * math.sin(x / 12.0 * math.pi) + 300.0 * math.sin(x / 30.0 * math.pi)) * 2 / 3
    return ret


def wgs84_to_gcj02(lon: float, lat: float) -> tuple[float, float]:
    """Return ``(lon, lat)`` in GCJ-02 for a WGS84 point (degrees)."""
    if out_of_china(lon, lat):
        return lon, lat
    d_lat = _delta_lat(lon - 105.0, lat - 35.0)
    d_lon = _delta_lon(lon - 105.0, lat - 35.0)
    rad_lat = lat / 180.0 * math.pi
    magic = 1 - _EE * math.sin(rad_lat) ** 2
    sqrt_magic = math.sqrt(magic)
    d_lat = (d_lat * 180.0) / ((_A * (1 - _EE)) / (magic * sqrt_magic) * math.pi)
    d_lon = (d_lon * 180.0) / (_A / sqrt_magic * math.cos(rad_lat) * math.pi)
    return lon + d_lon, lat + d_lat


def gcj02_to_wgs84(lon: float, lat: float, *, tolerance_deg: float = 1e-9) -> tuple[float, float]:
    """Invert :func:`wgs84_to_gcj02` by fixed-point iteration (at most 30 steps)."""
    if out_of_china(lon, lat):
        return lon, lat
    w_lon, w_lat = lon, lat
    for _ in range(30):
        g_lon, g_lat = wgs84_to_gcj02(w_lon, w_lat)
        d_lon, d_lat = lon - g_lon, lat - g_lat
        w_lon, w_lat = w_lon + d_lon, w_lat + d_lat
        if abs(d_lon) < tolerance_deg and abs(d_lat) < tolerance_deg:
            break
    return w_lon, w_lat
