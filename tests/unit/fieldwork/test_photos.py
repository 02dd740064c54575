"""Photo EXIF: time and position read back, mismatches flagged."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from server.fieldwork.errors import BadPhotoError
from server.fieldwork.photos import (
    DeviceReport,
    PhotoFlag,
    PhotoLimits,
    check_photo,
    compose_photo,
    distance_m,
    distance_to_site_m,
    read_photo_meta,
)

pytestmark = pytest.mark.unit

AT = datetime(2026, 11, 23, 1, 0, tzinfo=UTC)
SITE = [(117.001, 36.651)]


def test_exif_time_and_position_round_trip() -> None:
    meta = read_photo_meta(compose_photo(taken_at=AT, lon=117.001, lat=36.651))
    assert meta.has_exif
    assert meta.format == "JPEG"
    assert meta.taken_at == AT
    assert meta.lon is not None
    assert meta.lat is not None
    assert distance_m((meta.lon, meta.lat), SITE[0]) < 0.5


def test_photo_at_the_site_and_in_time_has_no_flags() -> None:
    meta = read_photo_meta(compose_photo(taken_at=AT - timedelta(minutes=3), lon=117.001,
                                         lat=36.651))
    check = check_photo("s", meta, SITE, DeviceReport(device_time=AT, lon=117.001, lat=36.651),
                        AT)
    assert check.flags == []


def test_far_old_photo_is_flagged_not_refused() -> None:
    meta = read_photo_meta(compose_photo(taken_at=AT - timedelta(days=2), lon=117.02,
                                         lat=36.651))
    check = check_photo("s", meta, SITE, DeviceReport(device_time=AT, lon=117.001, lat=36.651),
                        AT)
    expected = {PhotoFlag.TOO_OLD, PhotoFlag.FAR_FROM_SITE, PhotoFlag.FAR_FROM_DEVICE}
    assert expected <= set(check.flags)
    assert check.site_distance_m is not None
    assert check.site_distance_m > 1500


def test_photo_without_exif_is_flagged() -> None:
    meta = read_photo_meta(compose_photo(taken_at=None))
    check = check_photo("s", meta, SITE, DeviceReport(), AT)
    assert set(check.flags) == {PhotoFlag.MISSING_EXIF, PhotoFlag.MISSING_TIME,
                                PhotoFlag.MISSING_POSITION}


def test_clock_ahead_is_flagged_as_future() -> None:
    meta = read_photo_meta(compose_photo(taken_at=AT + timedelta(hours=1), lon=117.001,
                                         lat=36.651))
    check = check_photo("s", meta, SITE, DeviceReport(device_time=AT), AT)
    assert PhotoFlag.IN_FUTURE in check.flags


def test_not_an_image_is_a_bad_photo() -> None:
    with pytest.raises(BadPhotoError):
        read_photo_meta(b"%PDF-1.4 not a photo")


def test_distance_to_a_line_is_to_its_nearest_segment() -> None:
    line = [(117.0, 36.65), (117.01, 36.65)]
    assert distance_to_site_m((117.005, 36.65), line) < 0.01
    north = distance_to_site_m((117.005, 36.651), line)
    assert 105 < north < 117  # 0.001 deg of latitude ~ 111 m


@settings(max_examples=25, deadline=None)
@given(lon=st.floats(73, 135), lat=st.floats(18, 53))
def test_any_position_in_china_round_trips_within_a_metre(lon: float, lat: float) -> None:
    meta = read_photo_meta(compose_photo(taken_at=AT, lon=lon, lat=lat))
    assert meta.lon is not None
    assert meta.lat is not None
    assert distance_m((meta.lon, meta.lat), (lon, lat)) < 1.0


def test_a_photo_resaved_today_without_a_capture_time_is_flagged_missing_time() -> None:
    # only DateTime (the file's last write) is set: an editor saved an old photo today
    meta = read_photo_meta(compose_photo(taken_at=None, modified_at=AT, lon=117.001,
                                         lat=36.651))
    assert meta.has_exif
    assert meta.taken_at is None
    assert meta.time_source is None
    check = check_photo("s", meta, SITE, DeviceReport(device_time=AT), AT)
    assert PhotoFlag.MISSING_TIME in check.flags


def test_without_datetimeoriginal_the_gps_time_is_the_capture_time() -> None:
    taken = AT - timedelta(hours=9)
    meta = read_photo_meta(compose_photo(taken_at=None, modified_at=AT, lon=117.001,
                                         lat=36.651, gps_time=taken))
    assert meta.taken_at == taken
    assert meta.time_source == "gps"
    check = check_photo("s", meta, SITE, DeviceReport(device_time=AT), AT)
    assert PhotoFlag.TOO_OLD in check.flags  # 9 h > the 6 h default


def test_photo_limits_come_from_the_policy_profile() -> None:
    from server.policy import load_profile
    from server.policy.model import PhotoRules

    base = load_profile("jinan").photos
    assert base.max_age_hours == 6.0
    assert load_profile("strict").photos.max_site_distance_m <= base.max_site_distance_m
    meta = read_photo_meta(compose_photo(taken_at=AT - timedelta(hours=2), lon=117.001,
                                         lat=36.651))
    report = DeviceReport(device_time=AT, lon=117.001, lat=36.651)
    assert check_photo("s", meta, SITE, report, AT,
                       PhotoLimits.from_policy(base)).flags == []
    tight = PhotoLimits.from_policy(PhotoRules(max_age_hours=1.0))
    assert check_photo("s", meta, SITE, report, AT, tight).flags == [PhotoFlag.TOO_OLD]
