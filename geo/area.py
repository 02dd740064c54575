"""The outage area and the notice's geography: polygon, four bounds, compounds, streets.

The polygon is the union of buffers (metric CRS) around the affected pipes and service
points, simplified to a metre and returned in WGS84 as GeoJSON. The four bounds (四至)
name the street at each extreme of the outage: the affected customer or pipe (with a
street name) farthest east, west, south and north.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Final, cast

import numpy as np
import numpy.typing as npt
import shapely

from geo.model import AreaFeature, FourBounds
from geo.network import NetworkIndex

if TYPE_CHECKING:
    from shapely import MultiLineString, MultiPoint
    from shapely.geometry.base import BaseGeometry

IntArray = npt.NDArray[np.int64]
PIPE_BUFFER_M: Final = 30.0
POINT_BUFFER_M: Final = 15.0
SIMPLIFY_M: Final = 1.0


def outage_polygon(index: NetworkIndex, pipes: IntArray, customers: IntArray, *,
                   pipe_buffer_m: float = PIPE_BUFFER_M,
                   point_buffer_m: float = POINT_BUFFER_M) -> BaseGeometry:
    """Dissolved buffer of the pipes and service points, in metric coordinates."""
    parts: list[BaseGeometry] = []
    if pipes.size:
        # one flat array of lines (points) makes one multi-geometry, not an array of them
        lines = cast("MultiLineString", shapely.multilinestrings(index.lines[pipes]))
        parts.append(shapely.buffer(lines, pipe_buffer_m))
    if customers.size:
        pts = cast("MultiPoint", shapely.multipoints(np.column_stack(
            [index.customers.x[customers], index.customers.y[customers]])))
        parts.append(shapely.buffer(pts, point_buffer_m))
    if not parts:
        return shapely.Polygon()
    merged = shapely.union_all(parts)
    return shapely.simplify(merged, SIMPLIFY_M, preserve_topology=True)


def to_wgs84_feature(index: NetworkIndex, metric: BaseGeometry,
                     properties: dict[str, object]) -> AreaFeature:
    proj = index.projector

    def back(xy: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
        lon, lat = proj.inverse(xy[:, 0], xy[:, 1])
        return np.column_stack([lon, lat])

    geo = shapely.transform(metric, back)
    area_m2 = float(shapely.area(metric))
    mapping: dict[str, object] = geo.__geo_interface__
    return AreaFeature(geometry=_lists(mapping), properties={**properties, "area_m2": area_m2})


def _lists(value: object) -> dict[str, object]:
    """shapely's mapping uses tuples; GeoJSON consumers expect arrays (msgspec keeps both)."""

    def conv(v: object) -> object:
        if isinstance(v, tuple | list):
            return [conv(x) for x in v]
        if isinstance(v, dict):
            return {k: conv(x) for k, x in v.items()}
        return v

    out = conv(value)
    if not isinstance(out, dict):
        raise TypeError("a GeoJSON geometry maps to an object")
    return out


def compound_counts(index: NetworkIndex, customers: IntArray) -> dict[str, int]:
    c = index.customers
    counts = np.bincount(c.compound[customers], minlength=len(c.compounds))
    return {c.compounds[i]: int(counts[i]) for i in np.flatnonzero(counts).tolist()
            if c.compounds[i]}


def street_names(index: NetworkIndex, pipes: IntArray, customers: IntArray) -> list[str]:
    c = index.customers
    names = {c.streets[i] for i in np.unique(c.street[customers]).tolist()}
    names |= {index.pipe_streets[i] for i in np.unique(index.pipe_street[pipes]).tolist()}
    return sorted(n for n in names if n)


def four_bounds(index: NetworkIndex, pipes: IntArray, customers: IntArray) -> FourBounds:
    """The named street at each extreme of the affected pipes and customers."""
    c = index.customers
    xs: list[npt.NDArray[np.float64]] = []
    ys: list[npt.NDArray[np.float64]] = []
    names: list[str] = []
    keep_c = customers[np.array([bool(c.streets[k]) for k in c.street[customers].tolist()],
                                dtype=bool)] if customers.size else customers
    if keep_c.size:
        xs.append(c.x[keep_c])
        ys.append(c.y[keep_c])
        names.extend(c.streets[k] for k in c.street[keep_c].tolist())
    keep_p = pipes[np.array([bool(index.pipe_streets[k]) for k in index.pipe_street[pipes]
                             .tolist()], dtype=bool)] if pipes.size else pipes
    if keep_p.size:
        xs.append(index.pipe_mx[keep_p])
        ys.append(index.pipe_my[keep_p])
        names.extend(index.pipe_streets[k] for k in index.pipe_street[keep_p].tolist())
    if not names:
        return FourBounds()
    x = np.concatenate(xs)
    y = np.concatenate(ys)
    return FourBounds(east=names[int(np.argmax(x))], west=names[int(np.argmin(x))],
                      north=names[int(np.argmax(y))], south=names[int(np.argmin(y))])
