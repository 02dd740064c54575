"""CRS: GCJ-02 both ways, GK zone choice, projected lengths against the geodesic."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pyproj import CRS

from geo.crs import (
    GEOD,
    device_to_wgs84,
    gcj02_to_wgs84,
    geodesic_length,
    gk_zone_epsg,
    to_wgs84_arrays,
    wgs84_to_gcj02,
)
from geo.errors import UnknownCrsError
from geo.model import CoordSystem
from tests.unit.geo.geo_networks import PROJECTOR

pytestmark = pytest.mark.unit

china_lon = st.floats(min_value=73.5, max_value=134.5)
china_lat = st.floats(min_value=18.0, max_value=53.0)


def metres_between(lon1: float, lat1: float, lon2: float, lat2: float) -> float:
    return float(GEOD.inv(lon1, lat1, lon2, lat2)[2])


def test_gcj02_matches_the_published_offset_at_tiananmen() -> None:
    lon, lat = wgs84_to_gcj02(np.array([116.397428]), np.array([39.90923]))
    # the offset there is about 530 m east and 150 m north
    assert float(lon[0]) == pytest.approx(116.40367, abs=2e-5)
    assert float(lat[0]) == pytest.approx(39.91063, abs=2e-5)


@settings(max_examples=300, deadline=None)
@given(china_lon, china_lat)
def test_gcj02_round_trip_within_half_a_metre(lon: float, lat: float) -> None:
    g_lon, g_lat = wgs84_to_gcj02(np.array([lon]), np.array([lat]))
    assert metres_between(lon, lat, float(g_lon[0]), float(g_lat[0])) > 1.0  # really offset
    w_lon, w_lat = gcj02_to_wgs84(g_lon, g_lat)
    assert metres_between(lon, lat, float(w_lon[0]), float(w_lat[0])) < 0.5


def test_outside_china_is_not_offset() -> None:
    lon, lat = wgs84_to_gcj02(np.array([2.35]), np.array([48.85]))
    assert (float(lon[0]), float(lat[0])) == (2.35, 48.85)


def test_device_coordinates_in_gcj02_come_back_to_wgs84() -> None:
    g_lon, g_lat = wgs84_to_gcj02(np.array([117.0]), np.array([36.65]))
    lon, lat = device_to_wgs84(float(g_lon[0]), float(g_lat[0]), CoordSystem.GCJ02)
    assert metres_between(lon, lat, 117.0, 36.65) < 0.5
    assert device_to_wgs84(117.0, 36.65, CoordSystem.CGCS2000) == (117.0, 36.65)


@pytest.mark.parametrize(("lon", "cm"), [(117.0, 117), (118.4, 117), (118.6, 120),
                                         (75.2, 75), (134.9, 135), (121.47, 120)])
def test_gk_zone_is_the_nearest_3_degree_central_meridian(lon: float, cm: int) -> None:
    name = CRS.from_epsg(gk_zone_epsg(lon)).name
    assert name == f"CGCS2000 / 3-degree Gauss-Kruger CM {cm}E"


@settings(max_examples=100, deadline=None)
@given(st.lists(st.tuples(st.floats(115.6, 118.4), st.floats(34.0, 38.0)), min_size=2,
                max_size=6))
def test_projected_length_agrees_with_geodesic_within_0_1_percent(
        pts: list[tuple[float, float]]) -> None:
    geodesic = geodesic_length(pts)
    if geodesic < 1.0:
        return  # a degenerate polyline has no relative error to speak of
    projected = float(PROJECTOR.polyline_lengths([pts])[0])
    assert abs(projected - geodesic) / geodesic < 0.001


def test_lengths_of_many_polylines_are_computed_apart() -> None:
    a = [(117.0, 36.6), (117.01, 36.6)]
    b = [(117.5, 36.7), (117.5, 36.71), (117.51, 36.71)]
    both = PROJECTOR.polyline_lengths([a, b])
    assert both[0] == pytest.approx(geodesic_length(a), rel=1e-3)
    assert both[1] == pytest.approx(geodesic_length(b), rel=1e-3)


def test_projected_input_is_converted_to_wgs84() -> None:
    x, y = PROJECTOR.forward(np.array([117.2]), np.array([36.7]))
    lon, lat = to_wgs84_arrays(x, y, "EPSG:4548")
    assert float(lon[0]) == pytest.approx(117.2, abs=1e-8)
    assert float(lat[0]) == pytest.approx(36.7, abs=1e-8)


def test_unknown_crs_is_a_clear_error() -> None:
    with pytest.raises(UnknownCrsError) as err:
        to_wgs84_arrays(np.array([1.0]), np.array([2.0]), "EPSG:99999999")
    assert err.value.code == "unknown-crs"
