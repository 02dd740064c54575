"""Marked line from GNSS fixes."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from server.fieldwork.errors import BadLineError
from server.fieldwork.linemarking import GnssFix, LineFlag, build_line

pytestmark = pytest.mark.unit

AT = datetime(2026, 11, 23, 1, 0, tzinfo=UTC)
REQUEST = [(116.9960, 36.6480), (117.0040, 36.6482)]


def test_good_fixes_make_a_linestring_and_bad_ones_are_dropped() -> None:
    fixes = [GnssFix(lon=116.9960, lat=36.64801, quality=4, hdop=0.8),
             GnssFix(lon=116.9960, lat=36.64801, quality=4, hdop=0.8),  # standing still
             GnssFix(lon=117.0, lat=36.6481, quality=0),  # no fix
             GnssFix(lon=117.0, lat=36.6481, quality=1, hdop=9.0),  # poor precision
             GnssFix(lon=117.0000, lat=36.64811, quality=4, hdop=0.9),
             GnssFix(lon=117.0040, lat=36.64821, quality=5, hdop=1.1)]
    line = build_line(fixes, REQUEST, AT, "w")
    assert line.fixes_used == 3
    assert line.fixes_dropped == 3
    assert line.line.coordinates[0] == (116.996, 36.64801)
    assert 700 < line.length_m < 730
    assert line.flags == []


def test_line_far_from_the_requested_pipe_is_flagged() -> None:
    fixes = [GnssFix(lon=116.9960, lat=36.6500), GnssFix(lon=117.0040, lat=36.6502),
             GnssFix(lon=117.0050, lat=36.6503)]
    assert LineFlag.FAR_FROM_REQUEST in build_line(fixes, REQUEST, AT, "w").flags


def test_fewer_than_two_good_points_is_refused() -> None:
    with pytest.raises(BadLineError):
        build_line([GnssFix(lon=117.0, lat=36.65), GnssFix(lon=117.0, lat=36.65, quality=0)],
                   REQUEST, AT, "w")
