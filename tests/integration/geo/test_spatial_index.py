"""The pipes near a crew are the pipes within the radius, on both stores (issues 14, 19).

For any network and any points, ``GeoStore.near`` answers exactly the pipes whose
great-circle distance to a point is within the radius (PostGIS ``ST_DWithin`` on
geography on PostgreSQL, the R*Tree and an exact check on SQLite), against a brute force
here that samples every segment along its great circle with pyproj on the same sphere;
and the answer follows re-imports that move, add and delete pipes. Hydrants and valves
come with their pipe.
"""

from __future__ import annotations

import math
import tempfile
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pyproj
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlite_utils import Database

from geo.model import Hydrant, Network, Node, Pipe
from geo.store import GeoStore
from tests.factories import make_clock, open_test_store

pytestmark = pytest.mark.integration

#: the sphere "within R metres" is measured on: WGS84's mean radius (2a + b) / 3, PostGIS's
#: sphere for ``ST_DWithin(geography, geography, r, false)``
SPHERE = pyproj.Geod(a=6_371_008.771_415, b=6_371_008.771_415)
#: a distance this close to the radius is not judged (floating point on either side)
EDGE_M = 0.001
Seg = tuple[float, float, float, float]


@pytest.fixture(scope="module")
def store() -> Iterator[GeoStore]:
    with tempfile.TemporaryDirectory() as tmp:
        db: Database = open_test_store(Path(tmp), make_clock())
        yield GeoStore(db)
        db.close()


def network(segments: list[Seg]) -> Network:
    nodes: dict[str, Node] = {}
    pipes: list[Pipe] = []
    for i, (x0, y0, x1, y1) in enumerate(segments):
        a, b = f"n{i}a", f"n{i}b"
        nodes[a] = Node(id=a, lon=x0, lat=y0)
        nodes[b] = Node(id=b, lon=x1, lat=y1)
        pipes.append(Pipe(id=f"p{i}", from_node=a, to_node=b, coords=[(x0, y0), (x1, y1)],
                          length_m=1.0))
    hydrants = [Hydrant(id=f"h{i}", lon=s[0], lat=s[1], pipe_id=f"p{i}")
                for i, s in enumerate(segments) if i % 3 == 0]
    return Network(pipes=pipes, nodes=list(nodes.values()), hydrants=hydrants)


def sampled_distance(seg: Seg, lon: float, lat: float, radius_m: float) -> tuple[float, float]:
    """(least distance to a sample of the segment's great circle, half the sample spacing):
    the true distance lies between the two figures' difference and the first."""
    x0, y0, x1, y1 = seg
    length = float(SPHERE.inv(x0, y0, x1, y1)[2])
    ends = SPHERE.inv([lon, lon], [lat, lat], [x0, x1], [y0, y1])[2]
    nearest_end = float(min(ends))
    if nearest_end <= radius_m or nearest_end - length > radius_m:
        return nearest_end, 0.0  # an end point decides (triangle inequality)
    n = max(1, math.ceil(length / 0.2))
    inner = SPHERE.npts(x0, y0, x1, y1, n)
    xs = np.array([x0, x1, *(p[0] for p in inner)])
    ys = np.array([y0, y1, *(p[1] for p in inner)])
    d = SPHERE.inv(np.full(len(xs), lon), np.full(len(xs), lat), xs, ys)[2]
    return float(d.min()), length / (n + 1) / 2


def judged(segments: list[Seg], points: list[tuple[float, float]], radius_m: float
           ) -> tuple[set[str], set[str]]:
    """(pipes certainly within the radius of a point, pipes certainly beyond it)."""
    inside: set[str] = set()
    outside: set[str] = set()
    for i, seg in enumerate(segments):
        found = [sampled_distance(seg, lon, lat, radius_m) for lon, lat in points]
        if any(d <= radius_m - EDGE_M for d, _h in found):
            inside.add(f"p{i}")
        elif all(d - h > radius_m + EDGE_M for d, h in found):
            outside.add(f"p{i}")
    return inside, outside


coord_lon = st.floats(116.9, 117.1)
coord_lat = st.floats(36.55, 36.75)
segment = st.tuples(coord_lon, coord_lat, coord_lon, coord_lat).map(
    lambda s: (s[0], s[1], s[0] + (s[2] - s[0]) / 50, s[1] + (s[3] - s[1]) / 50))
#: points anywhere, and points a few hundred metres from a segment's start
offset = st.floats(-0.02, 0.02)


@settings(max_examples=25, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(segments=st.lists(segment, min_size=1, max_size=40),
       moved=st.lists(segment, max_size=40),
       anywhere=st.lists(st.tuples(coord_lon, coord_lat), max_size=4),
       close=st.lists(st.tuples(st.integers(0, 39), offset, offset), min_size=1, max_size=4),
       radius_m=st.floats(5, 2000))
def test_near_is_the_pipes_within_the_radius_after_any_reimport(
        store: GeoStore, segments: list[Seg], moved: list[Seg],
        anywhere: list[tuple[float, float]], close: list[tuple[int, float, float]],
        radius_m: float) -> None:
    clock = make_clock()
    store.replace_layers(network(segments), {"nodes", "pipes", "hydrants"}, clock(), 32650)
    # the second import moves some pipes, deletes others (a shorter list), adds none or more
    final = moved or segments[:1]
    store.replace_layers(network(final), {"nodes", "pipes", "hydrants"}, clock(), 32650)
    points = anywhere + [(final[k % len(final)][0] + dx / 10, final[k % len(final)][1] + dy / 10)
                         for k, dx, dy in close]
    keys = store.near(points, radius_m)
    pipes = {i for e, i in keys if e == "pipe"}
    inside, outside = judged(final, points, radius_m)
    assert inside <= pipes
    assert not pipes & outside
    hydrants = {i for e, i in keys if e == "hydrant"}
    assert hydrants == {f"h{p[1:]}" for p in pipes if int(p[1:]) % 3 == 0}


def test_a_pipe_past_the_corner_of_the_box_is_not_near(store: GeoStore) -> None:
    # a pipe 1.2 R away diagonally lies inside the old box (R by R from the point) but
    # outside the circle: the tablet no longer carries it
    lon, lat, r = 117.0, 36.65, 500.0
    diag = 1.2 * r / math.sqrt(2)
    dlat = diag / 111_195.0
    dlon = dlat / math.cos(math.radians(lat))
    corner: Seg = (lon + dlon, lat + dlat, lon + 2 * dlon, lat + 2 * dlat)
    straight: Seg = (lon + 0.9 * r / 111_195 / math.cos(math.radians(lat)), lat,
                     lon + 0.01, lat)
    store.replace_layers(network([corner, straight]), {"nodes", "pipes"}, make_clock()(),
                         32650)
    pipes = {i for e, i in store.near([(lon, lat)], r) if e == "pipe"}
    assert pipes == {"p1"}
