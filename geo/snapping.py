"""Snapping points to pipes in metric coordinates (shapely STRtree, built once per network).

Used for break points (one at a time, within a tolerance, else a clear error) and for
GIS layers whose points carry no pipe id: valves (which also get the nearer end node of
their pipe, since a valve sits next to a node) and service connections.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import shapely
from shapely import STRtree

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]


@dataclass(frozen=True, slots=True)
class Snap:
    """Per point: the pipe index (-1 when nothing within tolerance), distance and position."""

    pipe: IntArray
    distance_m: FloatArray
    #: 0 at the pipe's from node, 1 at its to node
    fraction: FloatArray
    x: FloatArray
    y: FloatArray


def metric_lines(coords: list[list[tuple[float, float]]],
                 forward: tuple[FloatArray, FloatArray]) -> npt.NDArray[np.object_]:
    """Shapely LineStrings from per-pipe vertex counts and the projected flat coordinates."""
    counts = np.fromiter((len(c) for c in coords), dtype=np.int64, count=len(coords))
    idx = np.repeat(np.arange(len(coords)), counts)
    x, y = forward
    return np.asarray(shapely.linestrings(np.column_stack([x, y]), indices=idx))


class PipeLocator:
    def __init__(self, lines: npt.NDArray[np.object_]) -> None:
        self.lines = lines
        self.tree = STRtree(lines)

    def snap(self, x: FloatArray, y: FloatArray, tolerance_m: float) -> Snap:
        """Nearest pipe of each point within ``tolerance_m``; ties go to the lower index."""
        n = int(np.asarray(x).size)
        pipe = np.full(n, -1, dtype=np.int64)
        dist = np.full(n, np.inf)
        frac = np.full(n, np.nan)
        sx = np.asarray(x, dtype=np.float64).copy()
        sy = np.asarray(y, dtype=np.float64).copy()
        if n == 0 or len(self.lines) == 0:
            return Snap(pipe, dist, frac, sx, sy)
        # an (n, 2) array of coordinates gives an array of n points
        points = np.asarray(shapely.points(np.column_stack([x, y])))
        (pt_idx, line_idx), d = self.tree.query_nearest(
            points, max_distance=tolerance_m, return_distance=True, all_matches=True)
        # all_matches returns every equidistant pipe: keep the lowest index per point
        order = np.lexsort((line_idx, pt_idx))
        pt_idx, line_idx, d = pt_idx[order], line_idx[order], d[order]
        first = np.ones(pt_idx.size, dtype=bool)
        first[1:] = pt_idx[1:] != pt_idx[:-1]
        pt_idx, line_idx, d = pt_idx[first], line_idx[first], d[first]
        pipe[pt_idx] = line_idx
        dist[pt_idx] = d
        if pt_idx.size:
            lines = self.lines[line_idx]
            frac[pt_idx] = shapely.line_locate_point(lines, points[pt_idx], normalized=True)
            on = shapely.line_interpolate_point(lines, frac[pt_idx], normalized=True)
            sx[pt_idx] = shapely.get_x(on)
            sy[pt_idx] = shapely.get_y(on)
        return Snap(pipe, dist, frac, sx, sy)
