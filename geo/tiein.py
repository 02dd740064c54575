"""Where a new connection ties in: the nearest main of sufficient diameter to a point.

Pure functions on a ``NetworkIndex`` (metric coordinates of the network's projection).
The candidates are the pipes within ``max_distance_m`` (an STRtree query), filtered by
nominal diameter, so the cost is that of the pipes near the point, not of the network.
The valves that would isolate the tie-in are those an isolation of the chosen main's
segment closes (inoperable valves stored as such are stepped over, as for a break).
"""

from __future__ import annotations

import msgspec
import numpy as np
import shapely

from geo.errors import GeoError
from geo.isolation import compute_plan, customers_of_pipes, known_inoperable, zoned_pipes
from geo.network import NetworkIndex


class NoMainNearError(GeoError):
    """No pipe of at least the required diameter within the search distance."""

    code = "no-main-near-point"

    def __init__(self, lon: float, lat: float, min_dn_mm: float, max_distance_m: float) -> None:
        super().__init__(f"no main of DN >= {min_dn_mm:g} within {max_distance_m:g} m of "
                         f"({lon}, {lat})", lon=lon, lat=lat, min_dn_mm=min_dn_mm,
                         max_distance_m=max_distance_m)


class TieInPoint(msgspec.Struct, frozen=True, kw_only=True):
    pipe_id: str
    distance_m: float
    diameter_mm: float
    #: WGS84 (lon, lat) of the point on the main nearest to the proposed point
    point: tuple[float, float]
    valves_to_close: list[str]
    customers_affected: int
    network_version: int


def nearest_main(index: NetworkIndex, lon: float, lat: float, min_dn_mm: float,
                 max_distance_m: float = 500.0) -> TieInPoint:
    """The nearest pipe with ``diameter_mm >= min_dn_mm`` to (lon, lat), and its valves.

    Ties in distance go to the lower pipe index, so the answer is deterministic.
    """
    x, y = index.projector.forward(np.array([lon]), np.array([lat]))
    here = shapely.points(float(x[0]), float(y[0]))
    candidates = index.locator.tree.query(here, predicate="dwithin", distance=max_distance_m)
    candidates = np.sort(candidates[index.pipe_diameter[candidates] >= min_dn_mm])
    if candidates.size == 0:
        raise NoMainNearError(lon, lat, min_dn_mm, max_distance_m)
    distances = shapely.distance(index.lines[candidates], here)
    best = int(candidates[int(np.argmin(distances))])
    line = index.lines[best]
    on = shapely.line_interpolate_point(line, shapely.line_locate_point(line, here))
    p_lon, p_lat = index.projector.inverse(np.array([shapely.get_x(on)]),
                                           np.array([shapely.get_y(on)]))
    core = compute_plan(index, [best], known_inoperable(index), fallbacks=False)
    affected = np.concatenate(list(zoned_pipes(index, core).values()))
    return TieInPoint(
        pipe_id=index.pipe_ids[best], distance_m=round(float(np.min(distances)), 2),
        diameter_mm=float(index.pipe_diameter[best]),
        point=(round(float(p_lon[0]), 7), round(float(p_lat[0]), 7)),
        valves_to_close=[index.valves[v].id for v in core.final.result.to_close],
        customers_affected=int(customers_of_pipes(index, affected).size),
        network_version=index.version)
