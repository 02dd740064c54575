"""The evidence policy and the GCJ-02 transform."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hardware_adapters.errors import FixRejectedError
from hardware_adapters.gnss import (
    Fix,
    FixPolicy,
    FixQuality,
    RejectReason,
    check_fix,
    evaluate_fix,
    to_gcj02,
)
from hardware_adapters.gnss.base import QUALITY_RANK

pytestmark = pytest.mark.unit

T0 = datetime(2026, 11, 23, 2, 30, tzinfo=UTC)


def make_fix(**changes: object) -> Fix:
    base: dict[str, object] = {"time": T0, "lon": 117.0, "lat": 36.65, "lon_gcj02": 117.0058,
                                   "lat_gcj02": 36.6502, "quality": FixQuality.GPS, "satellites": 9,
                                   "hdop": 1.0, "pdop": 1.8, "dimension": 3}
    base.update(changes)
    return Fix(**base)  # type: ignore[arg-type]


@pytest.mark.parametrize(("changes", "reason"), [
    ({}, None),
    ({"quality": FixQuality.INVALID}, RejectReason.NO_FIX),
    ({"quality": FixQuality.ESTIMATED}, RejectReason.LOW_QUALITY),
    ({"satellites": 4}, RejectReason.TOO_FEW_SATELLITES),
    ({"hdop": 3.5}, RejectReason.HDOP_TOO_HIGH),
    ({"hdop": None}, RejectReason.HDOP_TOO_HIGH),
    ({"pdop": 7.0}, RejectReason.PDOP_TOO_HIGH),
])
def test_default_policy(changes: dict[str, object], reason: RejectReason | None) -> None:
    assert evaluate_fix(make_fix(**changes), FixPolicy()) == reason


def test_stricter_policies() -> None:
    rtk_only = FixPolicy(min_quality=FixQuality.RTK_FIXED)
    assert evaluate_fix(make_fix(quality=FixQuality.RTK_FLOAT), rtk_only) is \
        RejectReason.LOW_QUALITY
    assert evaluate_fix(make_fix(dimension=2), FixPolicy(require_3d=True)) is \
        RejectReason.NOT_3D
    fresh = FixPolicy(max_age_s=30)
    assert evaluate_fix(make_fix(), fresh, now=T0 + timedelta(seconds=31)) is \
        RejectReason.STALE
    assert evaluate_fix(make_fix(), fresh, now=T0 + timedelta(seconds=29)) is None


def test_check_fix_raises_a_typed_error_with_the_reason() -> None:
    with pytest.raises(FixRejectedError) as caught:
        check_fix(make_fix(satellites=3), FixPolicy())
    assert caught.value.reason == "too-few-satellites"
    assert "3 satellites" in caught.value.detail
    assert caught.value.http_status == 422


@settings(max_examples=200, deadline=None)
@given(quality=st.sampled_from(list(FixQuality)), sats=st.integers(0, 40),
       hdop=st.none() | st.floats(0.1, 50), pdop=st.none() | st.floats(0.1, 50),
       max_hdop=st.floats(0.5, 10), min_sats=st.integers(0, 12))
def test_an_accepted_fix_meets_every_threshold(quality: FixQuality, sats: int,
                                               hdop: float | None, pdop: float | None,
                                               max_hdop: float, min_sats: int) -> None:
    policy = FixPolicy(max_hdop=max_hdop, min_satellites=min_sats)
    fix = make_fix(quality=quality, satellites=sats, hdop=hdop, pdop=pdop)
    if evaluate_fix(fix, policy) is None:
        assert QUALITY_RANK[quality] >= QUALITY_RANK[policy.min_quality] > 0
        assert sats >= min_sats
        assert hdop is not None
        assert hdop <= max_hdop
        assert pdop is None or pdop <= 6.0


def test_fix_carries_the_gcj02_pair_of_geo_crs() -> None:
    # the test vector of the widely used eviltransform library (Tiananmen area)
    assert to_gcj02(116.404, 39.915) == pytest.approx((116.41024449916938, 39.91640428150164))
    assert to_gcj02(2.35, 48.85) == (2.35, 48.85), "GCJ-02 only applies inside China"


@settings(max_examples=100, deadline=None)
@given(lon=st.floats(73.5, 135.0), lat=st.floats(18.0, 53.5))
def test_gcj02_offset_is_bounded(lon: float, lat: float) -> None:
    g_lon, g_lat = to_gcj02(lon, lat)
    assert abs(g_lon - lon) < 0.01, "offset under about 1 km"
    assert abs(g_lat - lat) < 0.01
