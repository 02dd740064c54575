"""Distance on the sphere: what "within R metres" means for the sync scope, on both stores.

A crew's tablet carries the network within ``sync_network_radius_m`` of its open orders.
"Within" is the great-circle distance from the point to the pipe's polyline (its segments
are great-circle arcs between the stored WGS84 vertices) on the sphere of radius
``EARTH_RADIUS_M``: PostGIS's ``ST_DWithin(geography, geography, r, false)`` answers that
on PostgreSQL, and ``distance_to_line_m`` here on SQLite after the R*Tree has narrowed the
candidates to the pipes whose box meets ``cap_box``. The sphere differs from the WGS84
ellipsoid by at most about 0.5 % of the distance, far below what a cached network needs;
taking the same sphere on both stores makes them give the same answer.

Pure functions on floats; vectors on the unit sphere, so no projection and no distortion
away from a zone's meridian. Longitudes are not wrapped at ±180° (the service area is one
city).
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence
from typing import Final

#: metres; WGS84's mean radius (2a + b) / 3, the sphere PostGIS uses when
#: ``use_spheroid`` is false
EARTH_RADIUS_M: Final = 6_371_008.771_415
#: metres added to a cap's box: a great-circle segment bows out of its end points' box by
#: about L² tan(lat) / 8R (1.4 m for a 10 km segment at 36°N), so the box test never
#: loses a pipe whose nearest point lies mid-way along a long straight segment
BOX_MARGIN_M: Final = 50.0

Vec = tuple[float, float, float]


def _unit(lon: float, lat: float) -> Vec:
    lam, phi = math.radians(lon), math.radians(lat)
    c = math.cos(phi)
    return (c * math.cos(lam), c * math.sin(lam), math.sin(phi))


def _cross(a: Vec, b: Vec) -> Vec:
    return (a[1] * b[2] - a[2] * b[1], a[2] * b[0] - a[0] * b[2], a[0] * b[1] - a[1] * b[0])


def _dot(a: Vec, b: Vec) -> float:
    return a[0] * b[0] + a[1] * b[1] + a[2] * b[2]


def _norm(a: Vec) -> float:
    return math.sqrt(_dot(a, a))


def _angle(a: Vec, b: Vec) -> float:
    """The angle between two unit vectors (radians), accurate for tiny angles too."""
    return math.atan2(_norm(_cross(a, b)), _dot(a, b))


def _to_arc(p: Vec, a: Vec, b: Vec) -> float:
    """The angle from ``p`` to the shorter great-circle arc from ``a`` to ``b``."""
    n = _cross(a, b)
    size = _norm(n)
    if size < 1e-15:  # a degenerate segment (one point, or two coincident ones)
        return _angle(p, a)
    n = (n[0] / size, n[1] / size, n[2] / size)
    # the foot of p on the arc's great circle lies within the arc when it is on the inner
    # side of both end points' planes
    if _dot(_cross(a, p), n) >= 0 and _dot(_cross(p, b), n) >= 0:
        return abs(math.asin(max(-1.0, min(1.0, _dot(p, n)))))
    return min(_angle(p, a), _angle(p, b))


def distance_to_line_m(lon: float, lat: float, coords: Sequence[tuple[float, float]]) -> float:
    """Metres from (lon, lat) to the polyline ``coords`` on the sphere; linear in its
    vertices. A single vertex is a point."""
    p = _unit(lon, lat)
    vs = [_unit(x, y) for x, y in coords]
    if len(vs) == 1:
        return _angle(p, vs[0]) * EARTH_RADIUS_M
    return min(_to_arc(p, a, b) for a, b in itertools.pairwise(vs)) * EARTH_RADIUS_M


def cap_box(lon: float, lat: float, radius_m: float) -> tuple[float, float, float, float]:
    """(min_lon, min_lat, max_lon, max_lat) in degrees containing every point within
    ``radius_m`` (plus ``BOX_MARGIN_M``) of (lon, lat): the spherical cap's exact extent,
    whose half-width in longitude is asin(sin θ / cos φ); a cap over a pole spans every
    longitude."""
    theta = (radius_m + BOX_MARGIN_M) / EARTH_RADIUS_M
    dlat = math.degrees(theta)
    cos_phi = math.cos(math.radians(lat))
    if theta >= math.pi / 2 or math.sin(theta) >= cos_phi:
        return (-180.0, max(lat - dlat, -90.0), 180.0, min(lat + dlat, 90.0))
    dlon = math.degrees(math.asin(math.sin(theta) / cos_phi))
    return (lon - dlon, lat - dlat, lon + dlon, lat + dlat)
