"""The pipes near a crew come from a real spatial index, on both stores (issue 19).

For any network and any points, ``GeoStore.near`` answers exactly the pipes whose
bounding box meets a point's box (radius in metres widened by 1/cos(lat)), computed here
by brute force over the same input; and the index follows re-imports that move, add and
delete pipes. Hydrants and valves come with their pipe.
"""

from __future__ import annotations

import math
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlite_utils import Database

from geo.model import Hydrant, Network, Node, Pipe
from geo.store import GeoStore
from tests.factories import make_clock, open_test_store

pytestmark = pytest.mark.integration

M_PER_DEG = 111_320.0
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


def expected_pipes(segments: list[Seg], points: list[tuple[float, float]],
                   radius_m: float) -> set[str]:
    out: set[str] = set()
    for i, (x0, y0, x1, y1) in enumerate(segments):
        lo_x, hi_x, lo_y, hi_y = min(x0, x1), max(x0, x1), min(y0, y1), max(y0, y1)
        for lon, lat in points:
            dlat = radius_m / M_PER_DEG
            dlon = dlat / max(math.cos(math.radians(lat)), 0.01)
            if lo_x <= lon + dlon and hi_x >= lon - dlon and lo_y <= lat + dlat \
                    and hi_y >= lat - dlat:
                out.add(f"p{i}")
    return out


coord_lon = st.floats(116.9, 117.1)
coord_lat = st.floats(36.55, 36.75)
segment = st.tuples(coord_lon, coord_lat, coord_lon, coord_lat).map(
    lambda s: (s[0], s[1], s[0] + (s[2] - s[0]) / 50, s[1] + (s[3] - s[1]) / 50))


@settings(max_examples=25, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(segments=st.lists(segment, min_size=1, max_size=60),
       moved=st.lists(segment, max_size=60),
       points=st.lists(st.tuples(coord_lon, coord_lat), min_size=1, max_size=8),
       radius_m=st.floats(5, 2000))
def test_near_is_the_pipes_whose_box_meets_a_point_box_after_any_reimport(
        store: GeoStore, segments: list[Seg], moved: list[Seg],
        points: list[tuple[float, float]], radius_m: float) -> None:
    clock = make_clock()
    store.replace_layers(network(segments), {"nodes", "pipes", "hydrants"}, clock(), 32650)
    # the second import moves some pipes, deletes others (a shorter list), adds none or more
    store.replace_layers(network(moved or segments[:1]), {"nodes", "pipes", "hydrants"},
                         clock(), 32650)
    final = moved or segments[:1]
    keys = store.near(points, radius_m)
    assert {i for e, i in keys if e == "pipe"} == expected_pipes(final, points, radius_m)
    hydrants = {i for e, i in keys if e == "hydrant"}
    assert hydrants == {f"h{p[1:]}" for e, p in keys if e == "pipe" and int(p[1:]) % 3 == 0}
